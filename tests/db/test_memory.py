"""Peak memory of ``news-etl run`` does not grow with the run (issue 22, item 5).

A synthetic site (devtools/replica/synthetic.py) serves one day of 150, 1,500 and
10,000 articles on loopback, as fast as it can (its source's rate limit is 1000/s);
each is ingested by a real ``news-etl run`` process against the test database, and
its peak RSS is read from the kernel's accounting of that one child (``os.wait4``).

Tolerance: the 10,000-article run may peak at most 15% above the 150-article one.
What may legitimately differ is bounded by constants, not by the run: the load
stage holds up to ``LOAD_BATCH_SIZE`` articles (a 150-article run holds 150), a
fetch batch ``URLS_PER_FETCH_TASK`` pages, discovery one day's URL list (about 100
bytes a URL), plus the allocator's fragmentation. A run that kept every page or
article would exceed it: at 10,000 articles those are tens of megabytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from news_etl import db

from devtools.replica.synthetic import SOURCE_KEY, SyntheticSite, serve, write_sources_file

SIZES = (150, 1_500, 10_000)
TOLERANCE = 1.15
FIRST_DAY = date(2024, 5, 1)


def run_measured(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """Run a command; (exit status, its output, its peak RSS in MB)."""
    out = Path(env["NEWS_ETL_TEST_OUTPUT"])
    with out.open("w") as sink:
        child = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, out.read_text(), usage.ru_maxrss / 1024  # Linux: ru_maxrss in KiB


def test_peak_memory_is_flat_from_150_to_10000_articles(db_url, tmp_path):
    sources = write_sources_file(tmp_path / "sources.yaml")
    peaks = {}
    for n, size in enumerate(SIZES):
        day = FIRST_DAY + timedelta(days=n)
        site = SyntheticSite(day, days=1, per_day=size, body_lines=8)
        with serve(site) as base_url:
            env = dict(os.environ, NEWS_ETL_SOURCES_FILE=str(sources), NEWS_ETL_DATABASE_URL=db_url,
                       NEWS_ETL_TEST_OUTPUT=str(tmp_path / f"run-{size}.log"))
            status, output, peak = run_measured(
                [sys.executable, "-m", "news_etl", "run", SOURCE_KEY, "--date", day.isoformat(),
                 "--base-url", base_url], env)
        assert status == 0, output
        assert f"discovered {size}; new {size}" in output, output
        conn = db.connect(db_url)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM articles WHERE canonical_url LIKE %s",
                        (f"%/news/{day:%Y/%m/%d}/%",))
            assert cur.fetchone()[0] == size
            cur.execute("SELECT count(*) FROM staged_articles")
            assert cur.fetchone()[0] == 0
        conn.close()
        peaks[size] = peak
    print("peak RSS of news-etl run:", ", ".join(f"{n} articles {mb:.1f} MB" for n, mb in peaks.items()))
    smallest = peaks[SIZES[0]]
    for size in SIZES[1:]:
        assert peaks[size] <= TOLERANCE * smallest, (
            f"peak RSS grows with the run: {peaks} (allowed {TOLERANCE}x the {SIZES[0]}-article run)")

