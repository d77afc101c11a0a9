"""How fast the reporting views answer with a million articles.

Creates its own scratch database on the server of news_etl.db.database_url()
(NEWS_ETL_DATABASE_URL, else the embedded PostgreSQL), migrates it, fills it in
SQL with generate_series (1,000,000 articles of 3 sources over two years, one
run per source and day, a ledger row per article, 1 % rejects, 2 % duplicates,
5 % revisions), refreshes the views, then times for each view:

- ``select *``: the whole materialized view (every view is small: its rows grow
  with days and sources, not with articles);
- ``30 days``: what an analyst types, ``WHERE day >= current_date - 30``
  (``started_at`` for run_outcomes); views without a date are read whole;
- ``report``: the query news-etl report runs on it (sql/reporting/), 7-day window;
- ``plain``: the view's own defining query run directly: what the same view
  would cost if it were not materialized, the baseline. ``speed-up`` is plain
  divided by the slowest of the view's queries.

Also the refresh of each view: the first (plain) one, and a REFRESH
CONCURRENTLY with nothing changed, what the reporting DAG pays on every run.

Goal (issue 7): every query of every view under 100 ms. The last line says
PASS or FAIL (exit code 1 on FAIL). The scratch database is dropped at the end,
on failure, Ctrl-C and SIGTERM too.

    .venv/bin/python bench/views_bench.py [--quick] [--articles N] [--repeat N]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import psycopg2  # noqa: E402
import psycopg2.extras  # noqa: E402
from news_etl import db, settings  # noqa: E402
from news_etl.report import SECTIONS, build_report, refresh_views  # noqa: E402

REPORTING_SQL_DIR = settings.sql_dir() / "reporting"

GOAL_MS = 100.0
DAYS = 730
WINDOW_DAYS = 30
# The date column an analyst filters on, by view; views with neither are read whole.
WINDOW_COLUMNS = ("day", "started_at")

FILL = """
INSERT INTO sources (source_key, name, base_url, timezone) VALUES
    ('tengrinews', 'Tengrinews.kz', 'https://tengrinews.kz', 'Asia/Almaty'),
    ('steppe', 'Степь Ньюс', 'https://steppe.example', 'UTC'),
    ('vostok', 'Восток Медиа', 'https://vostok.example', 'Asia/Tokyo');

-- One run per source and day: run_id = source index * DAYS + day index + 1.
INSERT INTO ingest_runs (run_id, source_key, kind, status, started_at, finished_at)
OVERRIDING SYSTEM VALUE
SELECT s * %(days)s + d + 1, (ARRAY['tengrinews', 'steppe', 'vostok'])[s + 1], 'airflow', 'succeeded',
       %(t0)s + d * interval '1 day' + interval '23 hours',
       %(t0)s + d * interval '1 day' + interval '23 hours 5 minutes'
FROM generate_series(0, 2) s, generate_series(0, %(days)s - 1) d;

-- Article i: source i %% 3, published evenly over the DAYS days, lag 0..2 h.
INSERT INTO articles (article_id, source_key, source_article_id, canonical_url, title, published_at, author,
                      body, content_hash, first_seen, updated_at)
OVERRIDING SYSTEM VALUE
SELECT i, src, i::text,
       base || '/'
            || (ARRAY['kazakhstan_news', 'world_news', 'economy', 'sport', 'tech',
                      'culture'])[1 + (i / 3) %% 6]
            || '/novost-' || i || '/',
       'Новость номер ' || i || ' о событиях дня', pub,
       CASE WHEN i %% 7 = 0 THEN '' ELSE 'Автор ' || (i %% 500) END,
       'Текст новости ' || i || '. Подробности позже.', md5(i::text),
       pub + ((i::bigint * 7919) %% 7200) * interval '1 second', pub
FROM (
    SELECT i, (ARRAY['tengrinews', 'steppe', 'vostok'])[1 + i %% 3] AS src,
           (ARRAY['https://tengrinews.kz', 'https://steppe.example',
                  'https://vostok.example'])[1 + i %% 3] AS base,
           %(t0)s + (i::double precision / %(n)s * %(days)s * 86400) * interval '1 second' AS pub
    FROM generate_series(1, %(n)s) i
) g;
SELECT setval(pg_get_serial_sequence('articles', 'article_id'), %(n)s);

-- The ledger: each article new in its source's run of its (UTC) day.
INSERT INTO run_urls (run_id, url, outcome, article_id)
SELECT (i %% 3) * %(days)s + least(floor(i::double precision / %(n)s * %(days)s)::int, %(days)s - 1) + 1,
       a.canonical_url, 'new', a.article_id
FROM articles a, LATERAL (SELECT a.article_id AS i) x;

-- 1 %% rejected URLs, in the ledger and in rejects.
INSERT INTO run_urls (run_id, url, outcome, stage, reason)
SELECT 1 + (j * 7) %% (3 * %(days)s), 'https://tengrinews.kz/bad/' || j || '/', 'rejected',
       (ARRAY['fetch', 'parse', 'normalize', 'load'])[1 + j %% 4],
       (ARRAY['http_404', 'no_title', 'no_body', 'bad_date', 'too_short'])[1 + j %% 5]
FROM generate_series(1, %(n)s / 100) j;
INSERT INTO rejects (run_id, url, stage, reason, created_at)
SELECT u.run_id, u.url, u.stage, u.reason, r.started_at + interval '1 minute'
FROM run_urls u JOIN ingest_runs r USING (run_id) WHERE u.outcome = 'rejected';

-- 2 %% duplicates of an earlier article, exact or near, across sources.
INSERT INTO duplicates (url, source_key, original_article_id, kind, similarity, detected_at)
SELECT 'https://copies.example/' || j || '/', (ARRAY['tengrinews', 'steppe', 'vostok'])[1 + j %% 3],
       1 + (j * 31) %% %(n)s, CASE WHEN j %% 4 = 0 THEN 'exact' ELSE 'near' END,
       CASE WHEN j %% 4 = 0 THEN 1.0 ELSE 0.8 + (j %% 20) / 100.0 END,
       %(t0)s + (j::double precision / (%(n)s / 50) * %(days)s * 86400) * interval '1 second'
FROM generate_series(1, %(n)s / 50) j;

-- 5 %% of articles have an older version.
INSERT INTO article_revisions (article_id, title, published_at, author, body, content_hash, valid_from,
                               replaced_at)
SELECT article_id, title, published_at, author, body || ' (раньше)', md5(body), first_seen,
       first_seen + interval '3 hours'
FROM articles WHERE article_id %% 20 = 0;
ANALYZE;
"""


def timed(conn, sql: str, params=None, repeat: int = 5) -> tuple[float, int]:
    """Median milliseconds of running sql (fetching every row), and the row count."""
    samples, rows = [], 0
    with conn.cursor() as cur:
        for _ in range(repeat):
            started = time.perf_counter()
            cur.execute(sql, params)
            rows = len(cur.fetchall())
            samples.append((time.perf_counter() - started) * 1000)
    conn.rollback()
    return statistics.median(samples), rows


def _terminate(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks, which drop the database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 articles instead of 1,000,000")
    parser.add_argument("--articles", type=int, help="number of articles (overrides --quick)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (median shown)")
    args = parser.parse_args(argv)
    if args.articles is not None and args.articles < 100:
        parser.error("--articles must be at least 100")
    n = args.articles or (20_000 if args.quick else 1_000_000)

    signal.signal(signal.SIGTERM, _terminate)
    # Queries wait in Python, not in libpq, so that Ctrl-C and SIGTERM stop a long fill at once.
    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    with db.scratch_database(db.database_url(), "news_etl_bench_views") as url:
        conn = db.connect(url)
        try:
            return run(conn, n, args.repeat)
        finally:
            conn.close()


def window_query(conn, view: str) -> str | None:
    """The analyst's last-30-days query on the view, or None if it has no date column."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM reporting.{view} LIMIT 0")
        columns = {d.name for d in cur.description}
    conn.rollback()
    for column in WINDOW_COLUMNS:
        if column in columns:
            return f"SELECT * FROM reporting.{view} WHERE {column} >= current_date - {WINDOW_DAYS}"
    return None


def run(conn, n: int, repeat: int) -> int:
    db.migrate(conn)
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
                    " - %s * interval '1 day'", (DAYS - 1,))
        t0 = cur.fetchone()[0]
        cur.execute(FILL, {"n": n, "days": DAYS, "t0": t0})
    conn.commit()
    fill_s = time.perf_counter() - started
    first = refresh_views(conn)  # views were empty: this is the first real fill
    again = refresh_views(conn)  # nothing changed: what a quiet CONCURRENTLY refresh costs

    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        articles = cur.fetchone()[0]
        cur.execute("SELECT (now() AT TIME ZONE 'UTC')::date")
        today = cur.fetchone()[0]
        cur.execute("SELECT matviewname, definition FROM pg_matviews WHERE schemaname = 'reporting'"
                    " ORDER BY matviewname")
        definitions = dict(cur.fetchall())
    conn.rollback()
    params = {"since": today - timedelta(days=6), "until": today + timedelta(days=1), "limit": 10}
    report_query = {query: query for _key, query, _title in SECTIONS}

    print(f"{articles:,} articles, fill {fill_s:.1f} s; refresh of all views {sum(first.values()):.1f} s "
          f"(first), {sum(again.values()):.1f} s (CONCURRENTLY, unchanged data)")
    header = (f"{'view':<26} {'rows':>7} {'select* ms':>10} {'30d ms':>8} {'report ms':>9} {'plain ms':>9} "
              f"{'speed-up':>9} {'refresh s':>10} {'concur. s':>10}  goal")
    print(header)
    print("-" * len(header))

    def cell(ms: float | None, width: int) -> str:
        return f"{ms:{width}.2f}" if ms is not None else f"{'-':>{width}}"

    slow = []
    for view, definition in definitions.items():
        full_ms, rows = timed(conn, f"SELECT * FROM reporting.{view}", repeat=repeat)
        window = window_query(conn, view)
        window_ms = timed(conn, window, repeat=repeat)[0] if window else None
        report_ms = None
        if view in report_query:
            report_ms, _ = timed(conn, (REPORTING_SQL_DIR / f"{view}.sql").read_text(), params, repeat)
        plain_ms, _ = timed(conn, definition.rstrip().rstrip(";"), repeat=max(1, repeat // 2))
        worst = max(ms for ms in (full_ms, window_ms, report_ms) if ms is not None)
        ok = worst < GOAL_MS
        if not ok:
            slow.append(view)
        key = f"reporting.{view}"
        print(f"{view:<26} {rows:>7,} {full_ms:10.2f} {cell(window_ms, 8)} {cell(report_ms, 9)} "
              f"{plain_ms:9.1f} {plain_ms / worst:8.0f}x {first[key]:10.2f} {again[key]:10.2f}  "
              f"{'PASS' if ok else 'FAIL'}")
    newest_ms, _ = timed(conn, (REPORTING_SQL_DIR / "newest_articles.sql").read_text(), {"limit": 3}, repeat)
    print(f"{'newest_articles (table)':<26} {3:>7} {'-':>10} {'-':>8} {newest_ms:9.2f}")
    started = time.perf_counter()
    build_report(conn, days=7)
    print(f"build_report(days=7), all sections: {(time.perf_counter() - started) * 1000:.1f} ms")
    verdict = "PASS" if not slow else "FAIL"
    detail = "every view" if not slow else f"not met by {', '.join(slow)}"
    print(f"{verdict}: {len(definitions) - len(slow)}/{len(definitions)} views answer every query under "
          f"{GOAL_MS:.0f} ms at {articles:,} articles ({detail})")
    return 0 if not slow else 1


if __name__ == "__main__":
    sys.exit(main())
