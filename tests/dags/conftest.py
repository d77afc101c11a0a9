"""Fixtures of the tests that run the DAGs in this process."""

from __future__ import annotations

import pytest

from devtools import airflow_local as al


@pytest.fixture
def news_db(db_url, monkeypatch):
    """The emptied test database, given to the DAG as the Airflow connection ``news_db``."""
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_DB", al.airflow_conn_uri(db_url))
    # The tasks must use the connection, not the library's fallback.
    monkeypatch.delenv("NEWS_ETL_DATABASE_URL", raising=False)
    return db_url
