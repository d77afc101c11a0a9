"""Airflow's overhead: one replica day through ``airflow dags test`` against ``news-etl run``.

Both are run as the user runs them, each in a fresh process, on the same
replica day, into a database emptied before each run (so both do the same
work: every article new). Rounds alternate between the two and the best
round of each is kept, so other load on the machine hits both alike. The
fetcher's politeness (1 request/s per host) is part of both.

Also reported: how long the DAG folder takes to import in a process that has
already imported Airflow (what the dag-processor pays on every parse), next
to importing ``airflow.sdk`` itself.

    .venv/bin/python bench/airflow_bench.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]  # the library, and devtools/

from news_etl import db  # noqa: E402

from devtools import airflow_local as al  # noqa: E402
from devtools.replica import serve  # noqa: E402

DAY = date(2024, 3, 1)
SOURCE = "tengrinews"
IMPORT_PROBE = """
import importlib.util, sys, time
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401
t1 = time.perf_counter()
spec = importlib.util.spec_from_file_location("news_ingest", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def empty(url: str) -> None:
    """Every table emptied (the schema's own bookkeeping kept), as before a first run."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'schema_migrations'")
        tables = ", ".join(f'"{t}"' for (t,) in cur.fetchall())
        cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.commit()


def loaded(url: str) -> int:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        return cur.fetchone()[0]


def time_cli(url: str, base_url: str) -> float:
    env = {**os.environ, "NEWS_ETL_DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("news-etl")), "run", SOURCE, "--date", DAY.isoformat(),
                    "--base-url", base_url], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def time_dag_test(env: dict[str, str], base_url: str) -> float:
    started = time.perf_counter()
    al.dags_test(f"{SOURCE}_ingest", DAY, env, conf={"base_url": base_url})
    return time.perf_counter() - started


def import_times(env: dict[str, str]) -> tuple[float, float]:
    """(seconds to import airflow.sdk, seconds to import the DAG file after it), best of 3."""
    best = (float("inf"), float("inf"))
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(al.DAGS_DIR / "news_ingest.py")],
                             env=env, check=True, capture_output=True, text=True).stdout.split()
        sdk, dag_file = float(out[0]), float(out[1])
        best = (min(best[0], sdk), min(best[1], dag_file))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round each")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds

    with db.scratch_database(db.database_url(), "news_etl_bench_airflow") as url:
        with db.connection(url) as conn:
            db.migrate(conn)
        with tempfile.TemporaryDirectory(prefix="news-etl-bench-airflow-") as home:
            env = al.prepare(url, home=Path(home))
            sdk_s, dag_file_s = import_times(env)
            cli_times, dag_times, articles = [], [], set()
            with serve() as replica:
                for _ in range(rounds):
                    empty(url)
                    cli_times.append(time_cli(url, replica.base_url))
                    articles.add(loaded(url))
                    empty(url)
                    dag_times.append(time_dag_test(env, replica.base_url))
                    articles.add(loaded(url))

    cli, dag = min(cli_times), min(dag_times)
    print(f"one replica day ({DAY}, {SOURCE}), best of {rounds} round(s); articles loaded per run: "
          f"{sorted(articles)}")
    print(f"  {'news-etl run (baseline)':32s} {cli:7.1f} s")
    print(f"  {'airflow dags test':32s} {dag:7.1f} s   {dag / cli:5.2f}x the baseline, "
          f"Airflow's overhead {dag - cli:+.1f} s")
    print("DAG folder import (in a process that already imported Airflow, best of 3):")
    print(f"  {'import airflow.sdk (baseline)':32s} {sdk_s * 1000:7.0f} ms")
    print(f"  {'dags/news_ingest.py':32s} {dag_file_s * 1000:7.0f} ms   "
          f"{dag_file_s / sdk_s:5.2f}x the baseline")
    if len(articles) != 1:
        print("FAIL: the two paths loaded different numbers of articles", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
