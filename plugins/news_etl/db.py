"""Where the news database is, how to connect to it, and its schema migrations.

``NEWS_ETL_DATABASE_URL`` names the PostgreSQL to use. Without it an embedded
PostgreSQL (the ``pgserver`` package, binaries from pip) is started with its
data under ``.data/postgres`` and reused by later commands, so that
``make demo`` and ``make test`` need no server.

Migrations are the plain SQL files of ``sql/migrations/`` (``NNN_name.sql``),
applied in order, each in its own transaction, and recorded in
``schema_migrations``. ``001_baseline`` creates the whole schema; later files
change it. A database that records a migration this code does not have is
refused: it was written by a newer version of the project, or, when it records
``001_core``, by the development chain the baseline replaced (reset, not upgraded).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions

from news_etl import settings

log = logging.getLogger(__name__)

# The first file of the development chain squashed into 001_baseline: no database
# outside development ever held it, so such a database is reset, not upgraded.
_SQUASHED_CHAIN_START = ("001", "core")


class DatabaseError(RuntimeError):
    """A problem with the database that the user has to act on."""


def database_url() -> str:
    """The URL of the news database: ``NEWS_ETL_DATABASE_URL``, else the embedded one."""
    return settings.database_url() or embedded_url()


def embedded_url(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL and return its URL."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only needed without a configured server

    path = Path(data_dir or settings.data_dir() / "postgres")
    path.mkdir(parents=True, exist_ok=True)
    # Two processes starting it at once (two commands, two test workers) take turns.
    with open(path.parent / f".{path.name}.start-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # cleanup_mode=None leaves the server running for the next command: a warm
        # start is then a connection, not a server start.
        server = pgserver.get_server(path, cleanup_mode=None)
        return server.get_uri()


def stop_embedded(data_dir: Path | None = None, timeout: float = 30.0) -> bool:
    """Stop the embedded PostgreSQL cleanly (its data stays on disk); False if it was not running.

    SIGINT is PostgreSQL's "fast shutdown": sessions are ended, the data is
    checkpointed, and the postmaster removes its pid file when done.
    """
    path = Path(data_dir or settings.data_dir() / "postgres").resolve()
    pid_file = path / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    deadline = time.monotonic() + timeout
    while pid_file.exists():
        if time.monotonic() > deadline:
            raise DatabaseError(f"embedded PostgreSQL (pid {pid}) did not stop within {timeout:.0f} s")
        time.sleep(0.05)
    # pgserver remembers servers it started in this process; forget the stopped one
    # so that a later embedded_url() starts it again.
    server_module = sys.modules.get("pgserver.postgres_server")
    if server_module is not None:
        server_module.PostgresServer._instances.pop(path, None)
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect(url: str | None = None, *, retry_seconds: float = 0.0,
            lock_timeout: str = settings.LOCK_TIMEOUT) -> psycopg2.extensions.connection:
    """Open a connection to the news database (UTC session time zone, bounded lock waits).

    ``options`` given in the URL (or ``PGOPTIONS``) are kept and win over these
    defaults. With ``retry_seconds`` a database that cannot be reached is tried
    again with backoff for that long (a restart, a failover) before the error is raised.
    """
    url = url or database_url()
    given = psycopg2.extensions.parse_dsn(url).get("options") or os.environ.get("PGOPTIONS", "")
    options = f"-c TimeZone=UTC -c lock_timeout={lock_timeout} {given}".strip()
    waits = backoff_waits(time.monotonic() + retry_seconds)
    while True:
        try:
            return psycopg2.connect(url, options=options)
        except psycopg2.OperationalError as exc:
            wait = next(waits, None)
            if wait is None:
                raise DatabaseError(f"cannot connect to the news database: {_first_line(exc)}") from exc
        time.sleep(wait)


def backoff_waits(deadline: float) -> Iterator[float]:
    """The waits between tries of something the database must be back for: DB_RETRY_FIRST_WAIT
    doubling to DB_RETRY_MAX_WAIT, as long as the next try would still start by ``deadline``
    (a ``time.monotonic()`` value); then it ends, and the caller gives up."""
    wait = settings.DB_RETRY_FIRST_WAIT
    while time.monotonic() + wait <= deadline:
        yield wait
        wait = min(wait * 2, settings.DB_RETRY_MAX_WAIT)


@contextmanager
def connection(url: str | None = None, *, retry_seconds: float = 0.0
               ) -> Iterator[psycopg2.extensions.connection]:
    """A connection that is closed on exit (commit is left to the caller)."""
    conn = connect(url, retry_seconds=retry_seconds)
    try:
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def known_migrations(directory: Path | None = None) -> list[Migration]:
    """The migrations this code ships (``sql/migrations/``), in the order they apply."""
    found = []
    for path in sorted((directory or settings.sql_dir() / "migrations").glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise DatabaseError(f"migration file {path.name} does not start with a number")
        found.append(Migration(version, name, path))
    return found


def _applied(cur) -> dict[str, str]:
    """Version -> name of every migration the database records."""
    cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not cur.fetchone()[0]:
        return {}
    cur.execute("SELECT version, name FROM schema_migrations")
    return dict(cur.fetchall())


def pending_migrations(conn, *, keep_transaction: bool = False) -> list[Migration]:
    """Migrations not yet applied; raises if the database is ahead of this code."""
    known = known_migrations()
    with conn.cursor() as cur:
        applied = _applied(cur)
    if not keep_transaction:
        conn.rollback()
    if applied.get(_SQUASHED_CHAIN_START[0]) == _SQUASHED_CHAIN_START[1]:
        raise DatabaseError(
            "the database was made by the old development migrations (it records 001_core), which "
            "001_baseline replaced: reset it, i.e. drop and recreate the database, or for the embedded "
            f"one run `news-etl db stop` and remove {settings.data_dir() / 'postgres'}"
        )
    unknown = sorted(set(applied) - {m.version for m in known})
    if unknown:
        raise DatabaseError(
            f"the database has migration(s) {', '.join(unknown)} that this code does not know: "
            "it was migrated by a newer version of news-etl; upgrade the code instead"
        )
    return [m for m in known if m.version not in applied]


def migrate(conn, *, until: str | None = None) -> list[str]:
    """Apply pending migrations, each in its own transaction; return what was applied.

    ``until`` stops after that version (tests of a later migration on data stored before it).

    Migrating is the schema owner's act. Concurrent migrators are serialised by a
    lock on ``schema_migrations`` taken in each migration's transaction: only a role
    allowed to change that table can take it (never ``news_reader``, which could take
    any advisory lock), and the wait is bounded by ``MIGRATION_LOCK_TIMEOUT``.
    """
    applied_now = []
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET lock_timeout = '{settings.MIGRATION_LOCK_TIMEOUT}'")
            cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            if not cur.fetchone()[0]:
                _create_migrations_table(conn)
        _require_owner(conn)
        while True:
            with conn.cursor() as cur:
                cur.execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE")
            pending = pending_migrations(conn, keep_transaction=True)
            if not pending or (until is not None and pending[0].version > until):
                conn.rollback()
                break
            migration = pending[0]
            conn.notices.clear()
            try:
                with conn.cursor() as cur:
                    cur.execute(migration.sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                conn.commit()
            except psycopg2.Error as exc:
                raise DatabaseError(f"migration {migration.path.name} failed: {_first_line(exc)}") from exc
            for notice in conn.notices:  # what a migration could not do for this role, e.g. 004
                log.warning("migration %s: %s", migration.path.name, notice.strip())
            conn.notices.clear()
            applied_now.append(f"{migration.version}_{migration.name}")
    except psycopg2.Error as exc:
        raise DatabaseError(f"cannot migrate (it needs the schema owner's role): {_first_line(exc)}"
                            ) from exc
    finally:
        # The real error above is what the user sees: nothing is run in the aborted transaction.
        try:
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("RESET lock_timeout")
            conn.commit()
        except psycopg2.Error:
            pass  # the connection is gone: the error that ended it is already on its way
    return applied_now


def _require_owner(conn) -> None:
    """Migrating is the schema owner's act: a writer with DML rights on every table is refused."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_get_userbyid(relowner), current_user, pg_has_role(relowner, 'USAGE')"
                    " FROM pg_class WHERE oid = 'schema_migrations'::regclass")
        owner, user, is_owner = cur.fetchone()
    conn.rollback()
    if not is_owner:
        raise DatabaseError(f"migrating is the schema owner's act: connect as {owner} (or a member of it), "
                            f"not {user}")


def _create_migrations_table(conn) -> None:
    """The bookkeeping table, created once; a concurrent migrator may create it first."""
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
        conn.commit()
    except psycopg2.errors.UniqueViolation:  # two CREATE IF NOT EXISTS at once: the other won
        conn.rollback()


def ensure_schema(conn) -> None:
    """Make sure the schema is the one this code expects, reading only (no lock, no CREATE).

    A database that is behind is migrated when this role owns the schema (the
    embedded and development databases); a writer role is told to have the owner
    run ``news-etl db migrate``.
    """
    try:
        pending = pending_migrations(conn)
    except psycopg2.Error as exc:
        conn.rollback()
        raise DatabaseError(f"cannot read the schema version: {_first_line(exc)}") from exc
    if not pending:
        return
    with conn.cursor() as cur:
        cur.execute(
            "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL"
            " THEN has_schema_privilege('public', 'CREATE')"
            " ELSE pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'schema_migrations'::regclass),"
            " 'USAGE') END")
        may_migrate = cur.fetchone()[0]
    conn.rollback()
    if not may_migrate:
        missing = ", ".join(f"{m.version}_{m.name}" for m in pending)
        raise DatabaseError(f"the database schema is behind this code (missing {missing}): "
                            "have its owner run `news-etl db migrate`")
    migrate(conn)


def connect_migrated(url: str | None = None) -> psycopg2.extensions.connection:
    """A connection to a database whose schema is up to date (migrating first if allowed)."""
    conn = connect(url)
    ensure_schema(conn)
    return conn


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """A new empty database on ``server`` (its URL), dropped on the way out whatever happens.

    For test sessions and benchmarks, which must never touch a developer's data
    and may share the server with other runs.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        # A fresh connection (the server may have closed an older one meanwhile); FORCE
        # ends sessions still open on the database, the caller's own included.
        _admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_execute(server: str, sql: str) -> None:
    conn = connect(server)
    conn.autocommit = True  # CREATE and DROP DATABASE refuse to run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()
