"""How fast the reporting views answer with a million articles.

Creates its own database on the server of news_etl.db.database_url() (dropped
at the end), migrates it, fills it in SQL with generate_series (1,000,000
articles of 3 sources over two years, one run per source and day, a ledger
row per article, 1 % rejects, 2 % duplicates, 5 % revisions), refreshes the
views, then times for each view:

- ``select *``: the whole materialized view;
- ``report``: the query news-etl report runs on it (sql/reporting/), 7-day window;
- ``plain``: the view's own defining query run directly: what the same view
  would cost if it were not materialized, the baseline of the ratio.

Goal: every ``select *`` and ``report`` query under 100 ms.

    .venv/bin/python bench/views_bench.py [--quick] [--articles N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import psycopg2  # noqa: E402
from news_etl import db  # noqa: E402
from news_etl.report import REPORTING_SQL_DIR, SECTIONS, build_report, refresh_views  # noqa: E402

GOAL_MS = 100.0
DAYS = 730

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
                      body, content_hash, first_seen, last_seen, updated_at)
OVERRIDING SYSTEM VALUE
SELECT i, src, i::text,
       base || '/'
            || (ARRAY['kazakhstan_news', 'world_news', 'economy', 'sport', 'tech',
                      'culture'])[1 + (i / 3) %% 6]
            || '/novost-' || i || '/',
       'Новость номер ' || i || ' о событиях дня', pub,
       CASE WHEN i %% 7 = 0 THEN '' ELSE 'Автор ' || (i %% 500) END,
       'Текст новости ' || i || '. Подробности позже.', md5(i::text),
       pub + ((i::bigint * 7919) %% 7200) * interval '1 second', pub, pub
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 articles instead of 1,000,000")
    parser.add_argument("--articles", type=int, help="number of articles (overrides --quick)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (median shown)")
    args = parser.parse_args(argv)
    n = args.articles or (20_000 if args.quick else 1_000_000)

    server = db.database_url()
    name = f"news_etl_bench_views_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = db.connect(urlunsplit(urlsplit(server)._replace(path="/" + name)))
        try:
            return run(conn, n, args.repeat)
        finally:
            conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


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
    header = (f"{'view':<26} {'rows':>8} {'select * ms':>12} {'report ms':>10} {'plain ms':>10} "
              f"{'plain/mat':>10} {'refresh s':>10}  goal")
    print(header)
    print("-" * len(header))
    slow = []
    for view, definition in definitions.items():
        full_ms, rows = timed(conn, f"SELECT * FROM reporting.{view}", repeat=repeat)
        report_ms = None
        if view in report_query:
            report_ms, _ = timed(conn, (REPORTING_SQL_DIR / f"{view}.sql").read_text(), params, repeat)
        plain_ms, _ = timed(conn, definition.rstrip().rstrip(";"), repeat=max(1, repeat // 2))
        worst = max(full_ms, report_ms or 0.0)
        ok = worst < GOAL_MS
        if not ok:
            slow.append(view)
        report_cell = f"{report_ms:10.2f}" if report_ms is not None else f"{'-':>10}"
        print(f"{view:<26} {rows:>8,} {full_ms:12.2f} {report_cell} {plain_ms:10.1f} "
              f"{plain_ms / full_ms:9.0f}x {again[f'reporting.{view}']:10.2f}  {'ok' if ok else 'SLOW'}")
    newest_ms, _ = timed(conn, (REPORTING_SQL_DIR / "newest_articles.sql").read_text(), {"limit": 3}, repeat)
    print(f"{'newest_articles (table)':<26} {3:>8} {'-':>12} {newest_ms:10.2f}")
    started = time.perf_counter()
    build_report(conn, days=7)
    print(f"build_report(days=7), all sections: {(time.perf_counter() - started) * 1000:.1f} ms")
    verdict = "met" if not slow else f"NOT met by {', '.join(slow)}"
    print(f"goal: every view under {GOAL_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
