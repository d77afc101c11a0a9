"""``make demo``: the main job end to end on embedded defaults, offline.

1. the news database: ``NEWS_ETL_DATABASE_URL``, else the embedded PostgreSQL
   under ``.data/postgres``; migrated; the seed files of ``seeds/`` loaded;
2. the real Airflow (SQLite metadata under ``.data/airflow``) runs
   ``airflow dags test tengrinews_ingest`` for a few days of the offline
   replica of tengrinews.kz (served on a loopback port), one day of a second
   source's replica, then ``airflow dags test news_reporting``;
3. the stored articles are exported as seed files and the HTML report is
   written, both under ``.data/demo/``; a summary is printed.

The sources are the replica's own file (``devtools/replica/sources.yaml``):
the fictional sites it serves are not production sources.

Run it again: the same days are found ``unchanged`` and nothing is added.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from news_etl import db, report, settings
from news_etl.seeds import export_seed_dir, load_seed_dir

from devtools import airflow_local
from devtools.replica import SOURCES_FILE, serve

# (source, local day): the sample article's day (older markup era), the day Almaty
# moved from UTC+6 to UTC+5, a day of the current markup; then a day of a second
# source (feed and sitemaps, generic extraction) that reprints one of those stories.
RUNS = (("tengrinews", date(2019, 11, 5)), ("tengrinews", date(2024, 3, 1)),
        ("tengrinews", date(2026, 4, 27)), ("steppeinfo", date(2026, 4, 27)))
SEEDS_DIR = airflow_local.REPO_ROOT / "seeds"


def _say(message: str) -> None:
    print(message, flush=True)


def _ingest(env: dict[str, str], source: str, day: date, base_url: str) -> None:
    started = time.perf_counter()
    airflow_local.dags_test(f"{source}_ingest", day, env, conf={"base_url": base_url})
    _say(f"  airflow dags test {source}_ingest {day}: success ({time.perf_counter() - started:.0f} s)")


def _run_summary(conn, since_run: int) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT run_id, window_start, status, discovered, outcome_counts FROM ingest_runs"
                    " WHERE run_id > %s ORDER BY run_id", (since_run,))
        return cur.fetchall()


def _last_run_id(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs")
        return cur.fetchone()[0]


def _report_window(conn) -> tuple[date, int]:
    """From the oldest stored article's local day to today: the report shows all the demo loaded."""
    with conn.cursor() as cur:
        cur.execute("SELECT (min(published_at) AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date"
                    " FROM articles")
        oldest, today = cur.fetchone()
    return today, max(1, (today - (oldest or today)).days + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=settings.data_dir() / "demo",
                        help="where the seed export and the HTML report go (default .data/demo)")
    args = parser.parse_args(argv)
    out = args.out.resolve()

    started = time.perf_counter()
    # Set in this process's environment, so the Airflow commands below inherit it.
    os.environ["NEWS_ETL_SOURCES_FILE"] = str(SOURCES_FILE)
    configured = settings.database_url() is not None
    url = db.database_url()
    embedded = settings.data_dir() / "postgres"
    where = "NEWS_ETL_DATABASE_URL" if configured else f"embedded PostgreSQL, {embedded}"
    _say(f"news database: {where}")
    with db.connection(url) as conn:
        applied = db.migrate(conn)
        _say(f"schema: {len(applied)} migration(s) applied" if applied else "schema: up to date")
        seeds = load_seed_dir(conn, SEEDS_DIR)
        _say(f"seed files of {SEEDS_DIR.name}/: {seeds.files} read, outcomes {dict(seeds.outcomes)}")
        first_run = _last_run_id(conn)

    _say("Airflow: preparing the local metadata database (.data/airflow) ...")
    env = airflow_local.prepare(url)
    for source, day in RUNS:
        with serve(site=source) as replica:  # each source's replica on its own loopback port
            _ingest(env, source, day, replica.base_url)
    airflow_local.run_airflow(["dags", "test", "news_reporting"], env)
    _say("  airflow dags test news_reporting: success (reporting views refreshed)")

    with db.connection(url) as conn:
        runs = _run_summary(conn, first_run)
        for stale in (out / "seeds").glob("*.txt"):  # an earlier demo's export
            stale.unlink()
        seed_files = export_seed_dir(conn, out / "seeds")
        today, days = _report_window(conn)
        data = report.build_report(conn, days=days, today=today)
    html_path = report.write_html(data, out / "report.html")

    _say("\nIngest runs of this demo:")
    for run_id, day, status, discovered, counts in runs:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
        _say(f"  run {run_id} ({day}): {status}; discovered {discovered}; {outcomes}")
    _say("")
    _say(report.render_text(data))
    _say(f"\nseed export: {len(seed_files)} file(s) in {out / 'seeds'}")
    _say(f"HTML report: {html_path}")
    _say(f"demo finished in {time.perf_counter() - started:.0f} s; run it again: nothing new is added")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except airflow_local.AirflowCommandError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        sys.exit(1)
