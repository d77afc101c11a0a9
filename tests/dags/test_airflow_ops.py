"""Operating the DAGs through ``dag.test()``: a site that refuses connections is retried by Airflow,
then fails the DAG run; the ingest run records the Airflow run; the failure notifier posts to a webhook.

Real Airflow (its test loop, a SQLite metadata database), real PostgreSQL, real HTTP on loopback.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from news_etl import db as dbmod
from news_etl import schedule
from support.dagtest import parse_ingest_dag  # before airflow is imported: sets its home

ALMATY = "Asia/Almaty"


class Webhook:
    """A loopback endpoint that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def ingest_dag(webhook, monkeypatch):
    """tengrinews_ingest parsed with the webhook notifier on, retrying after 1 s instead of minutes."""
    monkeypatch.setenv("NEWS_ETL_NOTIFY_WEBHOOK_URL", webhook.url)
    dag = parse_ingest_dag()
    for task in dag.tasks:
        task.retries = 1
        task.retry_delay = timedelta(seconds=1)
        task.max_retry_delay = timedelta(seconds=2)
    return dag


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_site_that_refuses_connections_is_retried_then_fails_and_notifies(ingest_dag, news_db, webhook):
    from airflow.utils.state import DagRunState, TaskInstanceState

    day = date(2026, 4, 27)
    logical_date = schedule.manual_logical_date(day, ALMATY)
    conf = {"date_from": None, "date_to": None, "reparse": False, "dry_run": False,
            "base_url": f"http://127.0.0.1:{closed_port()}"}
    dag_run = ingest_dag.test(logical_date=logical_date, run_conf=conf)
    assert dag_run.state == DagRunState.FAILED
    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    # Retried by Airflow (a transient failure), then failed for good; nothing after it ran.
    assert tis["discover"].state == TaskInstanceState.FAILED
    assert tis["discover"].try_number == 2
    assert tis["check"].state != TaskInstanceState.SUCCESS
    with dbmod.connection(news_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, error, airflow_dag_id, airflow_run_id, airflow_logical_date"
                    " FROM ingest_runs")
        [(status, error, dag_id, run_id, logical)] = cur.fetchall()
        cur.execute("SELECT status FROM reporting.run_outcomes")
        shown = cur.fetchall()
    assert status == "failed" and "robots_unavailable" in error
    assert (dag_id, run_id, logical) == ("tengrinews_ingest", dag_run.run_id, logical_date)
    assert shown == [("failed",)]  # in the operational view at once, no refresh needed
    [notice] = [b for b in webhook.bodies if b.get("run_id") == dag_run.run_id]
    assert notice["event"] == "dag_run_failed" and notice["dag_id"] == "tengrinews_ingest"
    assert "discover" in notice["failed_tasks"]
