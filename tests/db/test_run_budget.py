"""A run's time budget (issue 22, item 2): once spent, the run ends, failed, in one line.

A slow synthetic site on loopback (every article answers late, one trickles a chunk of its
body every 30 s, for ever) is ingested by a real ``news-etl run --budget``: the run must
end soon after its budget, not after the pages (the trickle alone would take minutes);
the URLs it did not reach are ``failed`` with reason ``budget``, what it fetched is stored,
and the run is ``failed`` with one line that says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

from news_etl import db

from devtools.replica.synthetic import SOURCE_KEY, SyntheticSite, article_id, serve, write_sources_file

DAY = date(2024, 6, 3)
BUDGET = 6


def test_a_spent_budget_fails_the_remaining_urls_and_the_run_in_one_line(db_url, tmp_path):
    site = SyntheticSite(DAY, per_day=40, delay=0.25,
                         faults={article_id(DAY, 8): ("trickle", 30.0, 1)})
    sources = write_sources_file(tmp_path / "sources.yaml")
    env = dict(os.environ, NEWS_ETL_SOURCES_FILE=str(sources), NEWS_ETL_DATABASE_URL=db_url)
    with serve(site) as base_url:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "news_etl", "run", SOURCE_KEY, "--date", DAY.isoformat(),
                               "--base-url", base_url, "--budget", str(BUDGET)],
                              env=env, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
    assert done.returncode != 0, done.stdout
    errors = [line for line in done.stderr.splitlines() if "budget" in line]
    assert len(errors) == 1, done.stderr
    assert "time budget of 6 s spent" in errors[0] and "URL(s) not fetched" in errors[0], errors
    # Ends at its budget (plus start-up, the load and the check), far before the trickle would.
    assert took < BUDGET + 20, took

    conn = db.connect(db_url)
    with conn.cursor() as cur:
        cur.execute("SELECT run_id, status, error FROM ingest_runs")
        ((run_id, status, error),) = cur.fetchall()
        assert status == "failed" and "time budget" in error
        cur.execute("SELECT outcome, reason, count(*) FROM run_urls WHERE run_id = %s GROUP BY 1, 2",
                    (run_id,))
        outcomes = {(outcome, reason): n for outcome, reason, n in cur.fetchall()}
        cur.execute("SELECT count(*) FROM articles")
        (stored,) = cur.fetchone()
        cur.execute("SELECT reason FROM run_urls WHERE run_id = %s AND url LIKE %s",
                    (run_id, f"%/a-{article_id(DAY, 8)}/"))
        (trickled,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM staged_articles")
        (staged,) = cur.fetchone()
    conn.close()
    assert sum(outcomes.values()) == 40 and (None, None) not in outcomes, outcomes
    assert outcomes.get(("failed", "budget"), 0) > 0, outcomes
    assert stored == outcomes.get(("new", None), 0) > 0, (stored, outcomes)
    assert trickled == "budget"  # the endless page was cut at the budget, not at its own deadline
    assert staged == 0
