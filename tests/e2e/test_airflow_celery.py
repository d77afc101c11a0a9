"""Scale-out on Celery: the tengrinews DAG on two Celery workers finds what one CLI run finds.

A real Airflow (api-server, dag-processor, scheduler) with the CeleryExecutor,
this machine's Redis as the broker (127.0.0.1:6379, started here when it is not
running; skipped with the reason when neither works), Airflow's metadata
PostgreSQL as the result backend, and two ``airflow celery worker`` processes
on a queue of this test's own (Redis may be shared). Three replica days are
triggered at once; their articles must be exactly those of ``news-etl run``
over the same days into another database, and both workers must have run
tasks. The replica host's configured rate holds across the workers: no two of
its requests come closer than the interval the rate allows (less a margin for
the server's own clock readings).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from news_etl import db as dbmod
from news_etl import schedule
from news_etl.sources import get_source
from test_airflow_live import DAG_ID, _running, expected_urls, wait_for_runs

from devtools import airflow_local as al
from devtools.replica import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ALMATY = "Asia/Almaty"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Three days with articles (17 in all), across Kazakhstan's switch from UTC+6 to UTC+5.
DAYS = (date(2024, 2, 29), date(2024, 3, 1), date(2026, 4, 27))
WORKERS = 2


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _redis_or_skip() -> str:
    """The broker URL of this machine's Redis, started (in-memory only) when it is not running."""
    if not _redis_up():
        server = shutil.which("redis-server")
        if server is None:
            pytest.skip(f"no Redis on {REDIS_HOST}:{REDIS_PORT} and no redis-server to start one")
        subprocess.run([server, "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT),
                        "--save", "", "--appendonly", "no"], check=False, capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while not _redis_up():
            if time.monotonic() > deadline:
                pytest.skip(f"Redis on {REDIS_HOST}:{REDIS_PORT} could not be reached or started")
            time.sleep(0.2)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@dataclass
class CeleryWorkers(al.LocalAirflow):
    """``count`` Celery workers of one installation, started and stopped like its other components."""

    count: int = WORKERS
    queue: str = "default"

    def start(self) -> CeleryWorkers:
        """Start the workers; :meth:`wait_ready` waits for them (they start beside the other components)."""
        for n in range(1, self.count + 1):
            name = f"worker-{n}"
            args = ["celery", "worker", "--celery-hostname", f"news-etl-{n}@%h", "--queues", self.queue,
                    "--concurrency", "2", "--skip-serve-logs", "--without-gossip"]
            with open(self.log_dir / f"{name}.log", "wb") as log:
                self.procs[name] = subprocess.Popen(
                    [al.airflow_bin(), *args], env=self.env, cwd=al.REPO_ROOT, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not all(" ready." in self.log(name) for name in self.procs):
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Celery workers were not ready\n{self.log_tail()}")
            time.sleep(1)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tasks_received(self, name: str) -> int:
        return len(re.findall(r"Task \S*execute_workload\[[^\]]+\] received", self.log(name)))


@pytest.fixture(scope="module")
def celery_airflow(database_url, tmp_path_factory):
    broker = _redis_or_skip()
    home = tmp_path_factory.mktemp("airflow-celery")
    queue = f"news_etl_test_{uuid.uuid4().hex[:8]}"
    with dbmod.scratch_database(database_url, "news_etl_test_celery_meta") as metadata_url:
        env = al.prepare(database_url, home=home, api_port=al.free_port(), metadata_url=metadata_url)
        env.update({
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
            # A queue of this test's own: other users of the machine's Redis never get its tasks.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        })
        env.pop("NEWS_ETL_DATABASE_URL")  # the tasks must use the news_db connection
        with CeleryWorkers(env, queue=queue) as workers:
            for running, api in _running(env, home):
                workers.wait_ready()
                yield running, api, workers


def article_keys(url: str) -> set[tuple]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT source_key, title, published_at, content_hash FROM articles")
        return set(cur.fetchall())


def article_urls(url: str) -> set[str]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT canonical_url FROM articles")
        return {u for (u,) in cur.fetchall()}


def cli_run(base_url: str, first: date, last: date) -> None:
    """``news-etl run`` of these days, into the database NEWS_ETL_DATABASE_URL names."""
    from news_etl import cli

    argv = ["run", "tengrinews", "--from", first.isoformat(), "--to", last.isoformat(),
            "--base-url", base_url, "--min-articles", "1"]
    assert cli.main(argv) == 0, argv


def request_rate(times: list[float]) -> tuple[float, str]:
    """The shortest gap between two requests, and a line for the report."""
    times = sorted(times)
    busiest = max((sum(1 for u in times if t <= u < t + 1) for t in times), default=0)
    gap = min((b - a for a, b in zip(times, times[1:], strict=False)), default=float("inf"))
    return gap, f"{len(times)} requests, at most {busiest} in one second, shortest gap {gap * 1000:.0f} ms"


def test_two_celery_workers_find_the_articles_of_one_cli_run(celery_airflow, database_url, db_url,
                                                              record_property, monkeypatch):
    running, api, workers = celery_airflow
    started = time.monotonic()
    with serve() as replica:
        run_ids = []
        for day in DAYS:
            trigger = api("POST", f"dags/{DAG_ID}/dagRuns", json={
                "logical_date": schedule.manual_logical_date(day, ALMATY).isoformat(),
                "conf": {"base_url": replica.base_url, "min_articles": 1},
            })
            assert trigger.status_code == 200, trigger.text
            run_ids.append(trigger.json()["dag_run_id"])
        states = wait_for_runs(running, api, run_ids)
        failed = {rid: s["state"] for rid, s in states.items() if s["state"] != "success"}
        assert not failed, f"{failed}\n{workers.log_tail()}"
        airflow_seconds = time.monotonic() - started
        shortest_gap, timings = request_rate([t for _, _, t in replica.requests])
        # Both workers share the host's schedule (politeness.HostSchedule): its rate holds across them.
        interval = 1.0 / get_source("tengrinews").rate_limit_per_second
        assert shortest_gap >= 0.8 * interval, timings

        # Every task went through the broker, and both workers took some.
        received = {name: workers.tasks_received(name) for name in workers.procs}
        assert all(n > 0 for n in received.values()), f"a worker ran no task: {received}"
        # Every try of every task instance that ran, and nothing else, came through a worker.
        tis = [ti for rid in run_ids
               for ti in api("GET", f"dags/{DAG_ID}/dagRuns/{rid}/taskInstances").json()["task_instances"]]
        tries = sum(ti["try_number"] for ti in tis if ti["state"] in ("success", "failed", "up_for_retry"))
        assert sum(received.values()) == tries >= 6 * len(DAYS), (received, tries)

        with dbmod.scratch_database(database_url, "news_etl_test_celery_cli") as cli_url:
            conn = dbmod.connect(cli_url)
            dbmod.migrate(conn)
            conn.close()
            monkeypatch.setenv("NEWS_ETL_DATABASE_URL", cli_url)
            cli_run(replica.base_url, DAYS[0], DAYS[1])
            cli_run(replica.base_url, DAYS[2], DAYS[2])
            from_cli = article_keys(cli_url)

    from_airflow = article_keys(db_url)
    assert article_urls(db_url) == expected_urls(*DAYS)
    assert len(from_airflow) == len(expected_urls(*DAYS))
    assert from_airflow == from_cli
    record_property("celery_runs_seconds", round(airflow_seconds, 1))
    record_property("tasks_per_worker", received)
    record_property("replica_requests", timings)
    print(f"\nCelery: {len(DAYS)} runs in {airflow_seconds:.0f} s, tasks per worker {received}; "
          f"replica: {timings}")
