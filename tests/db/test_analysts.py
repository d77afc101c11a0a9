"""Analysts' access: a login made by `news-etl db grant-reader`, what it reads and cannot do, and
docs/analysts.md, the data dictionary generated from the schema's comments."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from news_etl import db as dbmod
from news_etl.report import refresh_views
from psycopg2 import errors
from test_views import EXPECTED_VIEWS, load_fixture

from devtools import analysts_doc

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def news_etl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "news_etl", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO / "plugins"), **env})


def as_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password.replace(' ', '%20')}@{host}"))


@pytest.fixture
def login(db_url):
    """A reader login made by the CLI, dropped afterwards (roles are cluster-wide)."""
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    yield name
    with dbmod.connection(db_url) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"DROP ROLE IF EXISTS {name}")


def attempt(conn, sql: str) -> None:
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT attempt")
        try:
            cur.execute(sql)
        finally:
            cur.execute("ROLLBACK TO SAVEPOINT attempt")


def test_a_login_made_by_grant_reader_reads_views_and_articles_and_nothing_else(db_url, conn, login):
    load_fixture(conn)
    refresh_views(conn)
    conn.commit()
    made = news_etl("db", "grant-reader", login,
                    env={"NEWS_ETL_DATABASE_URL": db_url, "NEWS_ETL_READER_PASSWORD": PASSWORD})
    assert made.returncode == 0, made.stderr
    assert f"created login {login}" in made.stdout
    with conn.cursor() as cur:
        cur.execute("SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb,"
                    " pg_has_role(oid, 'news_reader', 'MEMBER') FROM pg_roles WHERE rolname = %s", (login,))
        assert cur.fetchone() == (True, False, False, False, True)
    reader = psycopg2.connect(as_user(db_url, login, PASSWORD))
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == (login,)
            for view in sorted(EXPECTED_VIEWS):
                cur.execute(f"SELECT count(*) FROM reporting.{view}")
                assert cur.fetchone()[0] > 0, view
            cur.execute("SELECT count(*) FROM articles")
            assert cur.fetchone()[0] == 6
            for table in ("article_urls", "duplicates", "sources", "ingest_runs", "run_urls", "rejects",
                          "article_revisions"):
                cur.execute(f"SELECT count(*) FROM {table}")
        for table in ("raw_pages", "staged_articles", "minhash_bands", "host_schedule"):
            with pytest.raises(errors.InsufficientPrivilege):
                attempt(reader, f"SELECT * FROM {table} LIMIT 1")
        for sql in ("UPDATE articles SET title = 'x'", "DELETE FROM sources", "INSERT INTO host_schedule"
                    " VALUES ('h', now())", "CREATE TABLE public.mine (x int)", "CREATE ROLE intruder"):
            with pytest.raises(errors.InsufficientPrivilege):
                attempt(reader, sql)
    finally:
        reader.close()
    # Again: a new password for the same login, not an error.
    again = news_etl("db", "grant-reader", login,
                     env={"NEWS_ETL_DATABASE_URL": db_url, "NEWS_ETL_READER_PASSWORD": PASSWORD + "!"})
    assert again.returncode == 0 and f"updated login {login}" in again.stdout


def test_grant_reader_never_touches_another_role(db_url, conn):
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        (owner,) = cur.fetchone()
    result = news_etl("db", "grant-reader", owner,
                      env={"NEWS_ETL_DATABASE_URL": db_url, "NEWS_ETL_READER_PASSWORD": PASSWORD})
    assert result.returncode == 1
    assert result.stderr.strip() == (f"news-etl: error: role {owner} exists and is not a news_reader login: "
                                      "choose another name")


def test_grant_reader_without_a_password_or_terminal_is_a_usage_error(db_url):
    result = news_etl("db", "grant-reader", "someone", env={"NEWS_ETL_DATABASE_URL": db_url,
                                                            "NEWS_ETL_READER_PASSWORD": ""})
    assert result.returncode == 2
    assert "set NEWS_ETL_READER_PASSWORD" in result.stderr


def test_analysts_doc_is_generated_from_the_schema(conn):
    """docs/analysts.md is exactly what the generator writes from this schema's comments."""
    expected = analysts_doc.render(conn)
    assert analysts_doc.DOC.read_text(encoding="utf-8") == expected, \
        "docs/analysts.md is stale: run python -m devtools.analysts_doc"
    # Every readable relation has its section, and every one of its columns a meaning.
    for line in expected.splitlines():
        if line.startswith("| `"):
            assert not line.rstrip().endswith("|  |"), line


def test_the_documented_example_queries_run_as_the_reader(conn):
    load_fixture(conn)
    refresh_views(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            cur.execute("GRANT news_reader TO CURRENT_USER")
        conn.commit()
        cur.execute("SET ROLE news_reader")
        for title, query in analysts_doc.EXAMPLES:
            cur.execute(query)
            assert cur.description, title
    conn.rollback()
