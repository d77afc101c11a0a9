"""A real Airflow: api-server, dag-processor and scheduler on loopback, started and stopped here.

Slow (a minute or two), so marked ``slow``: ``make test-airflow`` runs it.
The dag-processor must pick the DAG up from dags/, a run triggered through the
REST API v2 (JWT from the simple auth manager) must succeed, and
``airflow backfill create`` over three local days must leave exactly those
days' articles. Scheduled runs are switched off (``use_job_schedule``) so that
the scheduler never starts a run against the real site.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
import requests
from news_etl import db as dbmod
from news_etl import schedule

from devtools import airflow_local as al
from devtools.replica import SITE_DIR, serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DAG_ID = "tengrinews_ingest"
ALMATY = "Asia/Almaty"
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


def expected_urls(*days: date) -> set[str]:
    found: set[str] = set()
    for day in days:
        found |= set(MANIFEST["days"].get(day.isoformat(), {}).get("expected_loaded", []))
    return found


class Api:
    """The REST API v2 with a token from ``POST /auth/token``."""

    def __init__(self, base_url: str, password: str):
        self.base_url = base_url
        token = requests.post(f"{base_url}/auth/token", json={"username": al.API_USER, "password": password},
                              timeout=30)
        assert token.status_code == 201, token.text
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, al.rest_url(self.base_url, path), timeout=30, **kwargs)


@pytest.fixture(scope="module")
def replica():
    with serve() as server:
        yield server


@pytest.fixture(scope="module")
def airflow(database_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-live")
    # Scheduler, api-server and CLI commands write at once: Airflow's metadata in PostgreSQL
    # (a scratch database beside the news one), where SQLite once refused the backfill command.
    with dbmod.scratch_database(database_url, "news_etl_test_airflow_meta") as metadata_url:
        env = al.prepare(database_url, home=home, api_port=al.free_port(), metadata_url=metadata_url)
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
        env.pop("NEWS_ETL_DATABASE_URL")  # the tasks must use the news_db connection
        yield from _running(env, home)


def _running(env, home):
    with al.LocalAirflow(env) as running:
        api = Api(running.base_url, al.api_password(home))
        # The dag-processor parses dags/ and serializes the DAG.
        deadline = time.monotonic() + 180
        while (found := api("GET", f"dags/{DAG_ID}")).status_code != 200:
            running.check_alive()
            assert time.monotonic() < deadline, f"DAG never appeared: {found.text}\n{running.log_tail()}"
            time.sleep(2)
        unpaused = api("PATCH", f"dags/{DAG_ID}", json={"is_paused": False})
        assert unpaused.status_code == 200, unpaused.text
        yield running, api
    for proc in running.procs.values():
        assert proc.poll() is not None


def wait_for_runs(running, api, run_ids: list[str], timeout: float = 420) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        running.check_alive()
        states = {rid: api("GET", f"dags/{DAG_ID}/dagRuns/{rid}").json() for rid in run_ids}
        if all(s.get("state") in ("success", "failed") for s in states.values()):
            return states
        assert time.monotonic() < deadline, f"runs not finished: {states}\n{running.log_tail()}"
        time.sleep(3)


def article_days(url: str) -> dict[str, date]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT canonical_url, (published_at AT TIME ZONE 'Asia/Almaty')::date FROM articles")
        return dict(cur.fetchall())


def ingest_runs(url: str) -> list[tuple]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT window_start, window_end, status, kind FROM ingest_runs ORDER BY window_start")
        return cur.fetchall()


def test_scheduler_picks_up_the_dag_and_a_rest_triggered_run_succeeds(airflow, replica, db_url):
    running, api = airflow
    dag = api("GET", f"dags/{DAG_ID}").json()
    assert dag["is_paused"] is False and "news-etl" in {t["name"] for t in dag["tags"]}
    assert dag["timetable_summary"] == "30 0 * * *"
    day = date(2024, 3, 1)
    trigger = api("POST", f"dags/{DAG_ID}/dagRuns", json={
        "logical_date": schedule.manual_logical_date(day, ALMATY).isoformat(),
        "conf": {"base_url": replica.base_url},
    })
    assert trigger.status_code == 200, trigger.text
    run_id = trigger.json()["dag_run_id"]
    states = wait_for_runs(running, api, [run_id])
    tis = api("GET", f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    assert states[run_id]["state"] == "success", [(t["task_id"], t["state"]) for t in tis]
    assert {t["task_id"] for t in tis if t["state"] == "success"} == {
        "start_run", "discover", "fetch_and_parse", "load", "check", "publish"}
    assert set(article_days(db_url)) == expected_urls(day)
    assert ingest_runs(db_url) == [(day, day, "succeeded", "airflow")]
    # The articles asset was emitted for the reporting DAG.
    events = api("GET", "assets/events", params={"source_dag_id": DAG_ID}).json()
    assert events["total_entries"] >= 1


def test_backfill_command_ingests_exactly_three_days(airflow, replica, db_url):
    running, api = airflow
    first, last = date(2024, 2, 28), date(2024, 3, 1)
    days = [first + timedelta(days=n) for n in range(3)]
    # 2024-02-28 has no archive in the replica: its run must be a run too, with zero articles.
    al.backfill_create(DAG_ID, first, last, running.env, max_active_runs=3,
                       conf={"base_url": replica.base_url, "min_articles": 0})
    deadline = time.monotonic() + 60
    while True:
        listed = api("GET", f"dags/{DAG_ID}/dagRuns", params={"run_type": "backfill"}).json()
        if listed["total_entries"] >= 3:
            break
        assert time.monotonic() < deadline, listed
        time.sleep(2)
    run_ids = [r["dag_run_id"] for r in listed["dag_runs"]]
    states = wait_for_runs(running, api, run_ids)
    assert {s["state"] for s in states.values()} == {"success"}, states
    intervals = sorted(schedule.interval_day(_parse(s["data_interval_start"]), ALMATY)
                       for s in states.values())
    assert intervals == days
    assert ingest_runs(db_url) == [(d, d, "succeeded", "airflow") for d in days]
    loaded = article_days(db_url)
    assert set(loaded) == expected_urls(*days)
    assert set(loaded.values()) <= set(days)


def _parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))
