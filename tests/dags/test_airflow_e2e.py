"""The ingestion DAG end to end through ``dag.test()``: real Airflow, real PostgreSQL, the replica.

One process, no scheduler: Airflow's own test loop runs every task (mapped
batches included) against a SQLite metadata database created for this session;
the tasks find the news database through the ``news_db`` connection
(``AIRFLOW_CONN_NEWS_DB``) and fetch from the offline replica on loopback.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from news_etl import db as dbmod
from news_etl import schedule
from support.dagtest import parse_ingest_dag  # before airflow is imported: sets its home

from devtools.replica import SITE_DIR, serve

ALMATY = "Asia/Almaty"
DAY = date(2024, 3, 1)  # 4 articles; 527260 (00:30 local) is still 2024-02-29 in UTC
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def expected_urls(day: date) -> set[str]:
    """The canonical URLs the replica's author says load for ``day`` (written by hand)."""
    return set(MANIFEST["days"][day.isoformat()]["expected_loaded"])


@pytest.fixture(scope="module")
def ingest_dag():
    return parse_ingest_dag()


@pytest.fixture(scope="module")
def replica():
    with serve() as server:
        yield server


@pytest.fixture(scope="module")
def locked_replica():
    """The replica behind a login (bob / pw): only requests with those credentials get pages."""
    with serve(basic_auth=("bob", "pw")) as server:
        yield server


def run_day(dag, day: date, **conf):
    """One DAG run whose inferred data interval is the local ``day``."""
    from airflow.utils.state import DagRunState

    # Every form field is given: dag.test() keeps the previous run's conf in the DAG's params.
    conf = {"date_from": None, "date_to": None, "reparse": False, "dry_run": False, "base_url": None,
            "budget_seconds": None, **conf}
    dag_run = dag.test(logical_date=schedule.manual_logical_date(day, ALMATY), run_conf=conf)
    return dag_run, dag_run.state == DagRunState.SUCCESS


def articles(url: str) -> dict[str, tuple]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT canonical_url, article_id, content_hash, title, published_at, body, updated_at"
                    " FROM articles")
        return {row[0]: row[1:] for row in cur.fetchall()}


def runs(url: str) -> list[dict]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id, kind, window_start, window_end, status, discovered, outcome_counts,"
                    " params, error FROM ingest_runs ORDER BY run_id")
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def test_one_day_rerun_and_reparse(ingest_dag, replica, news_db):
    # 1. The day, through Airflow: exactly the articles the replica says load that day.
    replica.reset_requests()
    dag_run, ok = run_day(ingest_dag, DAY, base_url=replica.base_url)
    assert ok, f"dag run ended {dag_run.state}"
    first = articles(news_db)
    assert set(first) == expected_urls(DAY)
    assert replica.requests, "the run made no request to the replica"
    [run] = runs(news_db)
    assert (run["kind"], run["window_start"], run["window_end"], run["status"]) == (
        "airflow", DAY, DAY, "succeeded")
    assert run["params"]["base_url"] == replica.base_url
    assert run["outcome_counts"].get("new") == len(expected_urls(DAY))
    # Every discovered URL has exactly one outcome (the check task verified it too).
    assert sum(run["outcome_counts"].values()) == run["discovered"]

    # 2. The same run again changes nothing.
    dag_run, ok = run_day(ingest_dag, DAY, base_url=replica.base_url)
    assert ok, f"rerun ended {dag_run.state}"
    second = articles(news_db)
    assert {u: v[:5] for u, v in second.items()} == {u: v[:5] for u, v in first.items()}
    assert all(second[u][5] == first[u][5] for u in first), "updated_at moved on an unchanged article"
    rerun = runs(news_db)[-1]
    assert rerun["status"] == "succeeded"
    assert rerun["outcome_counts"].get("new", 0) == 0 and rerun["outcome_counts"].get("updated", 0) == 0

    # 3. A reparse run reads the stored raw pages: not one request.
    replica.reset_requests()
    dag_run, ok = run_day(ingest_dag, DAY, base_url=replica.base_url, reparse=True)
    assert ok, f"reparse run ended {dag_run.state}"
    assert replica.requests == []
    third = articles(news_db)
    assert set(third) == expected_urls(DAY)
    assert {u: v[:5] for u, v in third.items()} == {u: v[:5] for u, v in first.items()}
    reparse = runs(news_db)[-1]
    assert reparse["params"]["reparse"] is True and reparse["status"] == "succeeded"
    assert reparse["discovered"] == run["discovered"]


def test_explicit_dates_dry_run_budget_and_a_mirror_behind_a_login(ingest_dag, locked_replica, news_db):
    # The trigger form's dates win over the interval; a dry run writes no article. The mirror's
    # credentials reach every fetching task but are stored redacted.
    netloc = f"{locked_replica.host}:{locked_replica.port}"
    dag_run, ok = run_day(ingest_dag, date(2020, 1, 1), base_url=f"http://bob:pw@{netloc}", dry_run=True,
                          date_from=DAY.isoformat(), date_to=DAY.isoformat(), budget_seconds=900)
    assert ok, f"dag run ended {dag_run.state}: {runs(news_db)}"
    assert articles(news_db) == {}
    [run] = runs(news_db)
    assert (run["window_start"], run["window_end"], run["params"]["dry_run"]) == (DAY, DAY, True)
    assert (run["params"]["base_url"], run["params"]["budget_seconds"]) == (f"http://***@{netloc}", 900)
    assert run["outcome_counts"].get("new") == len(expected_urls(DAY))
    # Nothing changed, so the articles asset was not emitted.
    publish = dag_run.get_task_instance("publish")
    assert publish.state == "skipped"


def test_a_day_without_articles_fails_loudly(ingest_dag, replica, news_db):
    empty_day = date(2024, 2, 28)  # no archive page in the replica
    assert empty_day.isoformat() not in MANIFEST["days"]
    dag_run, ok = run_day(ingest_dag, empty_day, base_url=replica.base_url)
    assert not ok
    assert dag_run.get_task_instance("check").state == "failed"
    assert dag_run.get_task_instance("publish").state in ("upstream_failed", None)
    [run] = runs(news_db)
    assert run["status"] == "failed" and run["window_start"] == empty_day
    assert "article" in (run["error"] or "")
    assert articles(news_db) == {}
