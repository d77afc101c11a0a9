"""``make soak``: a quarter of backfill through the real scheduler while faults are injected.

    python -m devtools.soak [--days 90] [--per-day 40] [--rate 50]

A synthetic site (devtools/replica/synthetic.py) of ``days`` × ``per_day`` articles is
backfilled by ``airflow backfill create`` (LocalExecutor: scheduler, dag-processor,
api-server of devtools/airflow_local.py) into a news database on an embedded
PostgreSQL the soak owns (Airflow's metadata on a second one). Faults, on schedule:

- on the site, per day: a 5xx burst (503 twice), a 429 with ``Retry-After: 1``, a slow
  trickle, a truncated body, each on its own article and each transient;
- once a third of the days have succeeded: the news PostgreSQL is restarted;
- once two thirds have: a process in the middle of a stage of a running ingest run
  (``ingest_runs.worker``) is killed with SIGKILL, and Airflow must run that task again.

Then it checks: every day's latest run ``succeeded`` (after Airflow's retries), no run left
``running``, no staged rows, and the stored articles equal to an undisturbed ``news-etl run``
of the same days into a fresh database. It prints per day the wall time and the share spent
waiting for the host's request slots, the peak RSS of the task processes (from
``/proc/<pid>/status`` VmHWM) per third of the backfill, and exits 1 if a check failed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import requests
from news_etl import db, settings

from devtools import airflow_local as al
from devtools.replica.synthetic import SOURCE_KEY, SyntheticSite, article_id, serve, write_sources_file

DAG_ID = f"{SOURCE_KEY}_ingest"


def fault_schedule(site: SyntheticSite) -> dict[int, tuple[str, float, int]]:
    """Four transient faults a day, on articles spread over the day."""
    faults = {}
    for d in range(site.days):
        day = site.first_day + timedelta(days=d)
        n = site.per_day
        faults[article_id(day, 1 % n)] = ("status", 503, 2)
        faults[article_id(day, n // 4)] = ("retry_after", 1, 1)
        faults[article_id(day, n // 2)] = ("trickle", 0.3, 1)
        faults[article_id(day, 3 * n // 4)] = ("truncated", 0, 1)
    return faults


class Api:
    """Airflow's REST API v2 with a token."""

    def __init__(self, base_url: str, password: str) -> None:
        self.base_url = base_url
        token = requests.post(f"{base_url}/auth/token", json={"username": al.API_USER, "password": password},
                              timeout=30)
        token.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, al.rest_url(self.base_url, path), timeout=30, **kwargs)


def query(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def stored_articles(url: str) -> tuple[int, str]:
    """(how many, a digest of every stored article's identity and text)."""
    rows = query(url, "SELECT canonical_url, title, body, published_at, coalesce(author, '') FROM articles"
                      " ORDER BY canonical_url")
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
    return len(rows), digest.hexdigest()


class Sampler(threading.Thread):
    """Peak RSS (VmHWM) of every process named in ``ingest_runs.worker`` while it works."""

    def __init__(self, news_url: str) -> None:
        super().__init__(daemon=True)
        self.news_url, self.peaks, self.done = news_url, {}, threading.Event()

    def run(self) -> None:
        while not self.done.wait(1.0):
            try:
                rows = query(self.news_url, "SELECT window_start, worker FROM ingest_runs"
                                            " WHERE status = 'running' AND worker IS NOT NULL")
            except Exception:  # the database is being restarted
                continue
            for day, worker in rows:
                pid = worker.rpartition(":")[2]
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                kb = next((int(line.split()[1]) for line in status.splitlines()
                           if line.startswith("VmHWM")), 0)
                self.peaks[day] = max(self.peaks.get(day, 0), kb / 1024)


def backfill_ended(api: Api, days: int) -> bool:
    """True once the backfill has made a DAG run for every day and none is queued or running."""
    try:
        made = api("GET", f"dags/{DAG_ID}/dagRuns", params={"limit": 1}).json()["total_entries"]
        active = api("GET", f"dags/{DAG_ID}/dagRuns",
                     params={"limit": 1, "state": ["queued", "running"]}).json()["total_entries"]
    except (requests.RequestException, KeyError, ValueError):
        return False
    return made >= days and active == 0


def restart_postgres(data_dir: Path) -> float:
    started = time.monotonic()
    db.stop_embedded(data_dir)
    time.sleep(2)  # down for a while: tasks meet refused connections, not only dropped ones
    db.embedded_url(data_dir)
    return time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                     if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "zombie" not in state


def kill_a_worker(news_url: str) -> tuple[int, int] | None:
    """SIGKILL a process in the middle of a stage: (run id, pid), or None when none is at work now.

    The run still has URLs without an outcome, and its worker is alive on two looks 0.2 s apart
    (a process whose stage has just ended exits at once, and killing it would test nothing).
    """
    rows = query(news_url, "SELECT r.run_id, r.worker FROM ingest_runs r WHERE r.status = 'running'"
                           " AND r.worker IS NOT NULL AND EXISTS (SELECT FROM run_urls u"
                           " WHERE u.run_id = r.run_id AND u.outcome IS NULL) ORDER BY r.heartbeat_at DESC")
    for run_id, worker in rows:
        pid = int(worker.rpartition(":")[2])
        if not _alive(pid):
            continue
        time.sleep(0.2)
        if not _alive(pid):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        return run_id, pid
    return None


def retried_tasks(api: Api, news_url: str, run_id: int) -> list[str]:
    """The tasks of ingest run ``run_id``'s DAG run that Airflow ran more than once, as "task (tries)"."""
    [(dag_run_id,)] = query(news_url, "SELECT airflow_run_id FROM ingest_runs WHERE run_id = %s", (run_id,))
    response = api("GET", f"dags/{DAG_ID}/dagRuns/{dag_run_id}/taskInstances")  # quoted by rest_url
    response.raise_for_status()
    return [f"{ti['task_id']} ({ti['try_number']} tries)" for ti in response.json()["task_instances"]
            if ti["try_number"] > 1]


def soak(days: int, per_day: int, rate: float, first_day: date, workdir: Path) -> int:
    site = SyntheticSite(first_day, days=days, per_day=per_day, body_lines=8)
    site.faults = fault_schedule(site)
    last_day = site.last_day
    sources = write_sources_file(workdir / "sources.yaml", rate_limit_per_second=rate)
    os.environ["NEWS_ETL_SOURCES_FILE"] = str(sources)
    news_pg, meta_pg = workdir / "news-pg", workdir / "meta-pg"
    news_server = db.embedded_url(news_pg)
    meta_server = db.embedded_url(meta_pg)
    failures: list[str] = []
    events: list[str] = []
    with (serve(site) as site_url, db.scratch_database(news_server, "soak_news") as news_url,
          db.scratch_database(meta_server, "soak_airflow") as meta_url):
        with db.connection(news_url) as conn:
            db.migrate(conn)
        env = al.prepare(news_url, home=workdir / "airflow", api_port=al.free_port(), metadata_url=meta_url)
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
        env.pop("NEWS_ETL_DATABASE_URL")
        sampler = Sampler(news_url)
        started = time.monotonic()
        with al.LocalAirflow(env) as airflow:
            api = Api(airflow.base_url, al.api_password(workdir / "airflow"))
            deadline = time.monotonic() + 300
            while api("GET", f"dags/{DAG_ID}").status_code != 200:
                airflow.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"DAG {DAG_ID} never appeared\n{airflow.log_tail()}")
                time.sleep(2)
            api("PATCH", f"dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
            sampler.start()
            al.backfill_create(DAG_ID, first_day, last_day, env, max_active_runs=settings.MAX_ACTIVE_RUNS,
                               conf={"base_url": site_url})
            restarted = killed = False
            limit = time.monotonic() + 600 + days * per_day * 3
            while True:
                airflow.check_alive()
                try:
                    done = query(news_url, "SELECT count(DISTINCT window_start) FROM ingest_runs"
                                           " WHERE status = 'succeeded'")[0][0]
                except Exception:
                    done = None
                if done is not None and done >= days:
                    break
                if done is not None and backfill_ended(api, days):
                    failures.append(f"the backfill ended with {done} of {days} day(s) succeeded")
                    break
                if done is not None and not restarted and done >= days // 3:
                    events.append(f"news PostgreSQL restarted after {done} day(s): down "
                                  f"{restart_postgres(news_pg):.1f} s")
                    restarted = True
                elif done is not None and restarted and not killed and done >= 2 * days // 3:
                    killed = kill_a_worker(news_url)
                    if killed:
                        events.append(f"SIGKILL to the worker of run {killed[0]} (pid {killed[1]}), "
                                      f"in the middle of a stage, after {done} day(s)")
                if time.monotonic() > limit:
                    failures.append(f"not every day succeeded within {limit - started:.0f} s")
                    break
                time.sleep(3)
            backfill_seconds = time.monotonic() - started
            # Let the DAG runs finish their last tasks (publish) before the scheduler is stopped.
            time.sleep(10)
            if killed:  # the kill must have cost the task its try, and Airflow must have run it again
                retried = retried_tasks(api, news_url, killed[0])
                events.append(f"run {killed[0]}: retried by Airflow: {', '.join(retried) or 'nothing'}")
                if not retried:
                    failures.append(f"run {killed[0]}: no task was retried after the SIGKILL")
            else:
                failures.append("no worker was caught in the middle of a stage to be killed")
        sampler.done.set()

        runs = query(news_url, "SELECT DISTINCT ON (window_start) window_start, status,"
                               " extract(epoch FROM finished_at - started_at), stage_seconds"
                               " FROM ingest_runs ORDER BY window_start, run_id DESC")
        running = query(news_url, "SELECT count(*) FROM ingest_runs WHERE status = 'running'")[0][0]
        staged = query(news_url, "SELECT count(*) FROM staged_articles")[0][0]
        statuses = query(news_url, "SELECT status, count(*) FROM ingest_runs GROUP BY 1 ORDER BY 1")
        soaked = stored_articles(news_url)

        with db.scratch_database(news_server, "soak_reference") as reference_url:
            with db.connection(reference_url) as conn:
                db.migrate(conn)
            site.faults = {}
            ref_env = dict(os.environ, NEWS_ETL_DATABASE_URL=reference_url)
            ref_started = time.monotonic()
            log = workdir / "reference-run.log"
            with log.open("w") as sink:
                child = subprocess.Popen([sys.executable, "-m", "news_etl", "run", SOURCE_KEY, "--from",
                                          first_day.isoformat(), "--to", last_day.isoformat(),
                                          "--base-url", site_url],
                                         env=ref_env, stdout=sink, stderr=subprocess.STDOUT)
                _pid, _status, usage = os.wait4(child.pid, 0)
            output, ref_rss = log.read_text(), usage.ru_maxrss / 1024
            reference = stored_articles(reference_url)
            ref_seconds = time.monotonic() - ref_started

    print(f"soak: {days} days x {per_day} articles ({days * per_day}), rate {rate:g}/s, "
          f"backfill {backfill_seconds:.0f} s through the scheduler")
    for event in events:
        print(f"  fault: {event}")
    print("  faults on the site: per day a 503 burst (x2), a 429 Retry-After 1, a trickle, a truncated body; "
          f"{site.requests} requests served")
    print("  day         status     wall s  politeness s  share")
    for day, status, wall, stages in runs:
        wait = float((stages or {}).get("politeness_wait", 0))
        share = wait / float(wall) if wall else 0.0
        print(f"  {day}  {status:<9}  {float(wall or 0):6.1f}  {wait:12.1f}  {share:5.0%}")
        if status != "succeeded":
            failures.append(f"{day} ended {status}")
    if len(runs) != days:
        failures.append(f"{len(runs)} day(s) with a run, wanted {days}")
    print(f"  runs by status: {dict(statuses)}; running {running}; staged rows {staged}")
    if running:
        failures.append(f"{running} run(s) left running")
    if staged:
        failures.append(f"{staged} staged row(s) left")
    print(f"  stored articles: soak {soaked[0]}, undisturbed news-etl run {reference[0]} "
          f"({ref_seconds:.0f} s); identical: {soaked == reference}")
    if soaked != reference:
        failures.append("stored articles differ from an undisturbed run: " + output.strip().splitlines()[-1])
    ordered = [sampler.peaks[d] for d in sorted(sampler.peaks)]
    if ordered:
        k = max(1, len(ordered) // 3)
        thirds = [max(ordered[i:i + k]) for i in range(0, len(ordered), k)]
        print("  task peak RSS MB by third of the days: " + ", ".join(f"{mb:.0f}" for mb in thirds))
        # Flat: the last days' tasks peak within 15 % of the first days' (one batch's worth).
        if thirds[-1] > 1.15 * thirds[0]:
            failures.append(f"task memory grew over the backfill: {thirds[0]:.0f} -> {thirds[-1]:.0f} MB")
    print(f"  undisturbed run peak RSS {ref_rss:.0f} MB")
    print("soak " + ("passed" if not failures else "FAILED: " + "; ".join(failures)))
    return 0 if not failures else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second to the synthetic host")
    parser.add_argument("--first-day", type=date.fromisoformat, default=date(2024, 1, 1))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="news-etl-soak-") as workdir:
        code = soak(args.days, args.per_day, args.rate, args.first_day, Path(workdir))
        for data_dir in ("news-pg", "meta-pg"):
            db.stop_embedded(Path(workdir) / data_dir)
    return code


if __name__ == "__main__":
    sys.exit(main())
