"""Operating the ETL: failures that fail and show, the source's article floor, stage log lines, and
the per-host rate held across processes. Real PostgreSQL, the replica on loopback, the real CLI."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml
from news_etl import db as dbmod
from news_etl import pipeline

from devtools.replica import SITE_DIR, SOURCES_FILE, serve

REPO = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
EMPTY_DAY = "2021-06-15"  # the replica has no archive for it: zero articles


def news_etl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "news_etl", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}",
                               **(env or {})}, timeout=300)


def closed_port() -> int:
    """A loopback port nobody listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def runs(url: str) -> list[tuple]:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id, source_key, status, error FROM ingest_runs ORDER BY run_id")
        return cur.fetchall()


@pytest.fixture(scope="module")
def replica():
    with serve() as server:
        yield server


# --------------------------------------------------------------------------- the article floor

def test_a_zero_article_day_fails_with_the_sources_floor(db_url, replica):
    result = news_etl("run", "tengrinews", "--date", EMPTY_DAY, "--base-url", replica.base_url)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    # The floor is tengrinews's min_articles_per_day (1), and the message names what was missing.
    assert "0 article(s) for 1 day(s), below the floor of 1 a day of tengrinews" in line
    assert "listings gave no article URL" in line
    [(_run, source, status, error)] = runs(db_url)
    assert (source, status) == ("tengrinews", "failed") and "below the floor" in error


def test_the_floor_is_overridable_per_run(db_url, replica):
    result = news_etl("run", "tengrinews", "--date", EMPTY_DAY, "--base-url", replica.base_url,
                      "--min-articles", "0")
    assert result.returncode == 0, result.stderr
    assert [status for _r, _s, status, _e in runs(db_url)] == ["succeeded"]


# --------------------------------------------------------------------------- an unreachable site

@pytest.mark.parametrize("source", ["tengrinews", "steppeinfo"])  # a day archive, and feeds only
def test_a_site_that_refuses_connections_fails_the_run_with_exit_1(db_url, source):
    result = news_etl("run", source, "--date", "2026-04-27", "--min-articles", "0",
                      "--base-url", f"http://127.0.0.1:{closed_port()}")
    assert result.returncode == 1, result.stdout
    assert "succeeded" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("news-etl: error: ") and "robots_unavailable" in line, line
    [(_run, key, status, error)] = runs(db_url)
    assert (key, status) == (source, "failed") and "robots" in error
    # No URL was turned into a "rejected" or "failed" row: the run failed, not the pages.
    with dbmod.connection(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM run_urls")
        assert cur.fetchone() == (0,)


def test_a_failed_run_shows_in_the_report_at_once(db_url):
    failed = news_etl("run", "steppeinfo", "--date", "2026-04-27",
                      "--base-url", f"http://127.0.0.1:{closed_port()}")
    assert failed.returncode == 1
    report = news_etl("report", "--json")
    assert report.returncode == 0, report.stderr
    shown = json.loads(report.stdout)["sections"]["runs"]["rows"]
    [(run_id, *_)] = runs(db_url)
    assert [(r["run_id"], r["source_key"], r["status"]) for r in shown] == [(run_id, "steppeinfo", "failed")]


def test_page_level_problems_are_outcomes_not_a_failed_run(db_url, replica):
    """The replica's faulty pages (404, PDF, oversized...) are rejected; the day itself succeeds."""
    day = "2026-04-28"
    result = news_etl("run", "tengrinews", "--date", day, "--base-url", replica.base_url)
    assert result.returncode == 0, result.stderr
    [(_run, _key, status, _error)] = runs(db_url)
    assert status == "succeeded"
    with dbmod.connection(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        assert cur.fetchone()[0] == len(MANIFEST["days"][day]["expected_loaded"])


# --------------------------------------------------------------------------- one log line per stage

def test_each_stage_logs_one_line_with_counts_and_time(db_url, replica, caplog):
    caplog.set_level(logging.INFO, logger="news_etl.pipeline")
    summary = pipeline.run(db_url, "tengrinews", date(2024, 3, 1), base_url=replica.base_url)
    lines = [r.getMessage() for r in caplog.records if r.name == "news_etl.pipeline"]
    for stage in ("discover", "fetch_parse", "load", "check"):
        mine = [line for line in lines if f" {stage}: " in line]
        assert len(mine) == 1, (stage, lines)
        assert mine[0].rstrip().endswith(" s"), mine[0]
    [discover] = [line for line in lines if " discover: " in line]
    assert re.search(rf"\burls {summary['discovered']}\b", discover), discover
    [load] = [line for line in lines if " load: " in line]
    assert re.search(rf"\bnew {summary['outcome_counts']['new']}\b", load), load


# --------------------------------------------------------------------------- politeness across processes

RATE = 4.0  # requests per second the test's sources file allows the replica host
_FETCH_TASK = textwrap.dedent("""
    import json, sys
    from news_etl import pipeline
    print(json.dumps(pipeline.fetch_and_parse(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]))))
""")


def test_two_concurrent_fetch_tasks_keep_the_hosts_rate(db_url, replica, tmp_path):
    config = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))
    for entry in config["sources"]:
        entry["rate_limit_per_second"] = RATE
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "NEWS_ETL_SOURCES_FILE": str(sources),
           "PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}"}
    urls = sorted(MANIFEST["days"]["2026-04-27"]["expected_loaded"]
                  + MANIFEST["days"]["2026-04-28"]["expected_loaded"])
    run_id = pipeline.start_run(db_url, "tengrinews", date(2026, 4, 27), base_url=replica.base_url)
    replica.reset_requests()
    halves = [urls[0::2], urls[1::2]]
    tasks = [subprocess.Popen([sys.executable, "-c", _FETCH_TASK, db_url, str(run_id), json.dumps(half)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for half in halves]
    results = [task.communicate(timeout=120) for task in tasks]
    for task, (out, err) in zip(tasks, results, strict=True):
        assert task.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1]).get("parsed") == len(halves[tasks.index(task)])
    times = sorted(t for _method, _path, t in replica.requests)
    # robots.txt once per task, then every article (the replica's 429/500-then-OK pages twice).
    paths = [path for _method, path, _t in replica.requests]
    assert paths.count("/robots.txt") == 2 and len(set(paths)) == len(urls) + 1
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    interval = 1 / RATE
    print(f"{len(times)} requests in {times[-1] - times[0]:.2f} s from 2 processes:"
          f" {(len(times) - 1) / (times[-1] - times[0]):.2f} req/s (configured {RATE:g});"
          f" smallest gap {min(gaps) * 1000:.0f} ms, gaps (ms) {[round(g * 1000) for g in gaps]}")
    # Slots are spaced by the database; the request then leaves its process a few ms later or
    # sooner than its neighbour's, hence the margin. Two private limiters give gaps near 0.
    assert min(gaps) >= 0.8 * interval
    assert (len(times) - 1) / (times[-1] - times[0]) <= RATE * 1.05
