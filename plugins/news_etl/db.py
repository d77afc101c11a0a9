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

import hashlib
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

# Any fixed number works: it only has to be the same in every process.
_MIGRATION_LOCK = 727_001
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


def connect(url: str | None = None) -> psycopg2.extensions.connection:
    """Open a connection to the news database (UTC session time zone)."""
    try:
        conn = psycopg2.connect(url or database_url(), options="-c TimeZone=UTC")
    except psycopg2.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise DatabaseError(f"cannot connect to the news database: {first_line}") from exc
    return conn


@contextmanager
def connection(url: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection that is closed on exit (commit is left to the caller)."""
    conn = connect(url)
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


def pending_migrations(conn) -> list[Migration]:
    """Migrations not yet applied; raises if the database is ahead of this code."""
    known = known_migrations()
    with conn.cursor() as cur:
        applied = _applied(cur)
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

    Safe to run from several processes at once: an advisory lock serialises them.
    """
    applied_now = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        conn.commit()
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
        conn.commit()
        for migration in pending_migrations(conn):
            if until is not None and migration.version > until:
                break
            try:
                with conn.cursor() as cur:
                    cur.execute(migration.sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                conn.commit()
            except psycopg2.Error as exc:
                conn.rollback()
                raise DatabaseError(
                    f"migration {migration.path.name} failed: {str(exc).strip().splitlines()[0]}"
                ) from exc
            applied_now.append(f"{migration.version}_{migration.name}")
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        conn.commit()
    return applied_now


def connect_migrated(url: str | None = None) -> psycopg2.extensions.connection:
    """A connection to a database whose schema is up to date (migrating first)."""
    conn = connect(url)
    migrate(conn)
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
