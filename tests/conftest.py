"""Test fixtures shared by the whole suite.

The tests are grouped by what they need: ``unit/`` nothing but Python (loopback
servers they start themselves), ``db/`` PostgreSQL, ``dags/`` Airflow in this
process (DagBag, ``dag.test()``), ``e2e/`` real Airflow processes (scheduler,
api-server, Celery workers). ``make test`` runs them on two pytest-xdist
workers; the Airflow ones share one worker (one local Airflow home at a time).

The suite gets its own database, created at the start of the session and
dropped at the end: on the server named by NEWS_ETL_TEST_DATABASE_URL when
set, else on an embedded PostgreSQL kept under .data/test-postgres (never the
developer's .data/postgres).

The sources are the replica's (every site the replica serves, the fictional
ones included), for the whole session and every process it starts; a test of
another sources file names it. The production file is checked in test_sources.py.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from news_etl import db as dbmod
from news_etl import settings

from devtools.replica import SOURCES_FILE as REPLICA_SOURCES

# Set at import, before collection: test modules read their sources at module level.
os.environ["NEWS_ETL_SOURCES_FILE"] = str(REPLICA_SOURCES)
# pgserver logs its shutdown from an atexit hook, after pytest has closed the streams.
logging.getLogger("pgserver").setLevel(logging.WARNING)

# Tables that keep their rows between tests (the schema's bookkeeping).
_KEEP = {"schema_migrations"}


def _server_url() -> str:
    configured = os.environ.get("NEWS_ETL_TEST_DATABASE_URL", "").strip()
    if configured:
        return configured
    return dbmod.embedded_url(settings.data_dir() / "test-postgres")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a brand-new, migrated database for this test session."""
    with dbmod.scratch_database(_server_url(), "news_etl_test") as url:
        conn = dbmod.connect(url)
        dbmod.migrate(conn)
        conn.close()
        yield url


def truncate_all(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        tables = [t for (t,) in cur.fetchall() if t not in _KEEP]
        if tables:
            cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    conn.commit()


@pytest.fixture
def db_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session database, emptied, and named in NEWS_ETL_DATABASE_URL for code under test."""
    conn = dbmod.connect(database_url)
    truncate_all(conn)
    conn.close()
    monkeypatch.setenv("NEWS_ETL_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def news_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The emptied session database, given to the DAGs (tests/dags) as the Airflow connection ``news_db``."""
    from devtools import airflow_local

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_DB", airflow_local.airflow_conn_uri(db_url))
    # The tasks must use the connection, not the library's fallback.
    monkeypatch.delenv("NEWS_ETL_DATABASE_URL", raising=False)
    return db_url


@pytest.fixture
def conn(db_url: str):
    """A connection to the emptied session database."""
    connection = dbmod.connect(db_url)
    yield connection
    connection.rollback()
    connection.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests that start Airflow on one xdist worker (``--dist loadgroup``)."""
    for item in items:
        if item.path.parent.name in ("dags", "e2e"):
            item.add_marker(pytest.mark.xdist_group("airflow"))
