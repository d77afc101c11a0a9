"""Least privilege: the owner migrates, a DML-only writer runs, the reader cannot stall either.

Roles are created on the test server for each test and dropped at its end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from news_etl import db, settings

from devtools.replica import SITE_DIR, serve

REPO = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def _as(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{role}:pw@{host}"))


def _news_etl(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "news_etl", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "plugins"),
                               "NEWS_ETL_DATABASE_URL": url, **(env or {})}, timeout=120)


def _admin(url: str, *statements: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


@pytest.fixture
def roles(db_url: str) -> Iterator[dict[str, str]]:
    """A DML-only writer and an analyst login in news_reader: {"writer": url, "reader": url}."""
    suffix = uuid.uuid4().hex[:8]
    writer, reader = f"news_writer_{suffix}", f"analyst_{suffix}"
    _admin(db_url,
           f"CREATE ROLE {writer} LOGIN PASSWORD 'pw'", f"CREATE ROLE {reader} LOGIN PASSWORD 'pw'",
           f"GRANT news_reader TO {reader}",
           f"GRANT USAGE ON SCHEMA public TO {writer}",
           f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {writer}",
           f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {writer}")
    try:
        yield {"writer": _as(db_url, writer), "reader": _as(db_url, reader)}
    finally:
        _admin(db_url, f"DROP OWNED BY {writer}, {reader}", f"DROP ROLE {writer}", f"DROP ROLE {reader}")


def test_a_dml_only_writer_runs_a_day_but_cannot_migrate(db_url: str, roles: dict[str, str]) -> None:
    with serve() as replica:
        run = _news_etl(roles["writer"], "run", "tengrinews", "--date", "2024-03-01",
                        "--base-url", replica.base_url)
    assert run.returncode == 0, run.stderr
    loaded = len(MANIFEST["days"]["2024-03-01"]["expected_loaded"])
    assert "succeeded" in run.stdout and f"new {loaded}" in run.stdout, run.stdout
    migrate = _news_etl(roles["writer"], "db", "migrate")
    assert migrate.returncode == 1
    writer = urlsplit(roles["writer"]).username
    assert migrate.stderr.strip() == ("news-etl: error: migrating is the schema owner's act: connect as "
                                      f"postgres (or a member of it), not {writer}")


def test_a_writer_is_told_when_the_schema_is_behind(db_url: str, roles: dict[str, str],
                                                    tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(settings.sql_dir(), sql)
    (sql / "migrations" / "999_future.sql").write_text("CREATE TABLE future_thing (x int);\n")
    result = _news_etl(roles["writer"], "report", env={"NEWS_ETL_SQL_DIR": str(sql)})
    assert result.returncode == 1
    assert result.stderr.strip() == ("news-etl: error: the database schema is behind this code (missing "
                                     "999_future): have its owner run `news-etl db migrate`")


def test_the_reader_cannot_take_the_migration_lock_nor_stall_a_run(db_url: str,
                                                                   roles: dict[str, str]) -> None:
    reader = psycopg2.connect(roles["reader"])
    try:
        with reader.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE")
        reader.rollback()
        # Any role can take any advisory lock (the old migration lock included): nothing waits on one now.
        with reader.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(727001)")
        with serve() as replica:
            run = _news_etl(roles["writer"], "run", "tengrinews", "--date", "2024-03-01",
                            "--base-url", replica.base_url)
        assert run.returncode == 0, run.stderr
        migrate = _news_etl(db_url, "db", "migrate")
        assert (migrate.returncode, migrate.stdout.strip()) == (0, "database schema is up to date")
    finally:
        reader.close()


@pytest.mark.parametrize("statement", ["SELECT lo_create(0)", "SELECT lo_creat(-1)",
                                       "SELECT lo_from_bytea(0, '\\x00'::bytea)"])
def test_the_reader_cannot_create_large_objects(db_url: str, roles: dict[str, str], statement: str) -> None:
    reader = psycopg2.connect(roles["reader"])
    try:
        with reader.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
    finally:
        reader.close()
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_largeobject_metadata")
        assert cur.fetchone() == (0,)
    conn.close()


def test_an_owner_that_is_not_superuser_migrates_and_is_told_large_objects_stay_open(db_url: str) -> None:
    owner = f"news_owner_{uuid.uuid4().hex[:8]}"
    _admin(db_url, f"CREATE ROLE {owner} LOGIN NOSUPERUSER PASSWORD 'pw'")
    try:
        with db.scratch_database(db_url, "news_etl_owner") as scratch:
            _admin(db_url, f'ALTER DATABASE "{urlsplit(scratch).path[1:]}" OWNER TO {owner}')
            migrate = _news_etl(_as(scratch, owner), "db", "migrate")
            assert migrate.returncode == 0, migrate.stderr
            assert "004_no_large_objects" in migrate.stdout
            [warning] = [line for line in migrate.stderr.splitlines() if "large objects" in line]
            assert "004_no_large_objects.sql: WARNING:  large objects are still open to every role" in warning
    finally:
        _admin(db_url, f"DROP OWNED BY {owner}", f"DROP ROLE {owner}")


def test_a_real_permission_error_reaches_the_user_in_one_line(db_url: str, roles: dict[str, str]) -> None:
    writer = urlsplit(roles["writer"]).username
    _admin(db_url, f"REVOKE INSERT ON raw_pages FROM {writer}")
    with serve() as replica:
        run = _news_etl(roles["writer"], "run", "tengrinews", "--date", "2024-03-01",
                        "--base-url", replica.base_url)
    assert run.returncode == 1
    assert run.stderr.strip() == "news-etl: error: permission denied for table raw_pages", run.stderr
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, error FROM ingest_runs ORDER BY run_id DESC LIMIT 1")
        assert cur.fetchone() == ("failed", "InsufficientPrivilege: permission denied for table raw_pages")
    conn.close()


def test_options_of_the_url_are_kept_beside_the_defaults(db_url: str) -> None:
    separator = "&" if "?" in db_url else "?"
    url = db_url + separator + "options=-c%20statement_timeout%3D1234%20-c%20lock_timeout%3D5s"
    conn = db.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
                        " current_setting('TimeZone')")
            assert cur.fetchone() == ("1234ms", "5s", "UTC")
    finally:
        conn.close()
    conn = db.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('lock_timeout')")
            assert cur.fetchone() == (settings.LOCK_TIMEOUT,)
    finally:
        conn.close()
