"""The reporting views against a small hand-made history: exact rows.

The fixture below is written straight into the 001 tables (no loader), and
every expected row was worked out by hand from it; the comments next to the
expectations show the arithmetic. Local days: tengrinews is Asia/Almaty
(UTC+5 since 2024-03-01), steppe is UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg2
import pytest
from news_etl.report import refresh_views


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


D10, D11, D12 = date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)
SCRIPT_TITLE = 'Акимат ответил на <script>alert("xss")</script> в заголовке'

SOURCES = [
    ("tengrinews", "Tengrinews.kz", "https://tengrinews.kz", "Asia/Almaty"),
    ("steppe", "Степь Ньюс", "https://steppe.example", "UTC"),
]
T = "https://tengrinews.kz"
S = "https://steppe.example"
# id, source, url, title, published_at (UTC), first_seen (UTC), author
ARTICLES = [
    (1, "tengrinews", f"{T}/kazakhstan_news/ozero-balhash-100001/", "Уровень озера Балхаш вырос",
     "2025-03-10 04:00:00", "2025-03-10 04:01:00", "Айгуль Сатпаева"),       # local 03-10 09:00, lag 60
    (2, "tengrinews", f"{T}/kazakhstan_news/zima-v-astane-100002/", "Зима в Астане задержится",
     "2025-03-10 18:30:00", "2025-03-10 18:32:00", "Айгуль Сатпаева"),       # local 03-10 23:30, lag 120
    (3, "tengrinews", f"{T}/world_news/vybory-100003/", "Выборы в соседней стране",
     "2025-03-10 19:30:00", "2025-03-10 19:40:00", "Ержан Токаев"),          # local 03-11 00:30, lag 600
    (4, "tengrinews", f"{T}/world_news/sammit-100004/", SCRIPT_TITLE,
     "2025-03-11 06:00:00", "2025-03-11 07:00:00", "Дина Ким"),              # local 03-11 11:00, lag 3600
    (5, "steppe", f"{S}/economy/tenge-kurs-1/", "Курс тенге на торгах KASE",
     "2025-03-10 19:30:00", "2025-03-10 19:35:00", "Ержан Токаев"),          # UTC 03-10, lag 300
    (6, "steppe", f"{S}/news-without-section/", "Цены на бензин $ & «АИ-92»",
     "2025-03-10 22:00:00", "2025-03-10 21:59:00", ""),                      # UTC 03-10, lag -60
]
# id, source, kind, status, started_at, finished_at, error
RUNS = [
    (1, "tengrinews", "airflow", "succeeded", "2025-03-10 04:00:00", "2025-03-10 04:02:30", None),
    (2, "tengrinews", "cli", "succeeded", "2025-03-11 07:00:00", "2025-03-11 07:01:00", None),
    (3, "steppe", "cli", "running", "2025-03-11 08:00:00", None, None),
    (4, None, "seeds", "failed", "2025-03-11 09:00:00", "2025-03-11 09:00:05", "seed directory missing"),
]
# run, url, outcome, article_id, stage, reason
RUN_URLS = [
    (1, f"{T}/kazakhstan_news/ozero-balhash-100001/", "new", 1, None, None),
    (1, f"{T}/kazakhstan_news/zima-v-astane-100002/", "new", 2, None, None),
    (1, f"{T}/kazakhstan_news/broken-100009/", "rejected", None, "parse", "no_title"),
    (1, f"{T}/world_news/timeout-100010/", "failed", None, "fetch", "timeout"),
    (2, f"{T}/kazakhstan_news/ozero-balhash-100001/", "unchanged", 1, None, None),
    (2, f"{T}/kazakhstan_news/zima-v-astane-100002/", "updated", 2, None, None),
    (2, f"{T}/world_news/vybory-100003/", "new", 3, None, None),
    (2, f"{T}/world_news/sammit-100004/", "new", 4, None, None),
    (2, f"{T}/kazakhstan_news/ozero-balhash-kopiya-100011/", "duplicate_exact", 1, None, None),
    (2, f"{T}/world_news/vybory-obnovleno-100012/", "duplicate_near", 3, None, None),
    (3, f"{S}/economy/tenge-kurs-1/", "new", 5, None, None),
    (3, f"{S}/news-without-section/", "new", 6, None, None),
    (3, f"{S}/economy/pusto-3/", "rejected", None, "normalize", "no_body"),
    (3, f"{S}/economy/pending-4/", None, None, None, None),
]
# run, url, stage, reason, created_at
REJECTS = [
    (1, f"{T}/kazakhstan_news/broken-100009/", "parse", "no_title", "2025-03-10 04:01:00"),  # Almaty 03-10
    (1, f"{T}/kazakhstan_news/broken-100009/", "parse", "no_title", "2025-03-10 04:02:00"),  # same URL again
    (1, f"{T}/world_news/late-100013/", "parse", "no_title", "2025-03-10 19:05:00"),  # Almaty 03-11 00:05
    (3, f"{S}/economy/pusto-3/", "normalize", "no_body", "2025-03-11 08:00:10"),
    (4, "seeds/bad.txt", "parse", "no_title", "2025-03-11 23:30:00"),  # no source: UTC 03-11
    (None, "seeds/old.txt", "load", "bad_utf8", "2025-03-11 09:00:00"),
]
# url, source of the copy, copy article_id, original article_id, kind, similarity, detected_at
DUPLICATES = [
    (f"{T}/kazakhstan_news/ozero-balhash-kopiya-100011/", "tengrinews", None, 1, "exact", 1.0,
     "2025-03-11 07:00:30"),
    (f"{T}/world_news/vybory-obnovleno-100012/", "tengrinews", None, 3, "near", 0.9, "2025-03-11 07:00:40"),
    (f"{S}/economy/tenge-kurs-1/", "steppe", 5, 3, "near", 0.8, "2025-03-11 08:00:20"),
    (f"{S}/economy/tenge-kurs-kopiya-5/", "steppe", None, 3, "near", 0.7, "2025-03-11 08:00:30"),
]
# article_id, replaced_at
REVISIONS = [
    (2, "2025-03-11 07:00:10"),  # Almaty 03-11 12:00
    (2, "2025-03-11 08:00:00"),  # Almaty 03-11 13:00
    (2, "2025-03-11 20:00:00"),  # Almaty 03-12 01:00
    (1, "2025-03-11 07:00:20"),  # Almaty 03-11
    (5, "2025-03-11 23:00:00"),  # UTC 03-11
]


def load_fixture(conn) -> None:
    """Write the hand-made history above into the (emptied) database and commit."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO sources (source_key, name, base_url, timezone) VALUES (%s, %s, %s, %s)",
                        SOURCES)
        for aid, source, url, title, published, seen, author in ARTICLES:
            cur.execute(
                "INSERT INTO articles (article_id, source_key, source_article_id, canonical_url, title,"
                 " published_at, author, body, content_hash, first_seen, updated_at)"
                " OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s, %s, %s, md5(%s), %s, %s)",
                (aid, source, str(aid), url, title, ts(published), author,
                 f"{title}. Подробности сообщили в пресс-службе.", title, ts(seen), ts(seen)),
            )
        for rid, source, kind, status, started, finished, error in RUNS:
            cur.execute(
                "INSERT INTO ingest_runs (run_id, source_key, kind, status, started_at, finished_at, error)"
                " OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (rid, source, kind, status, ts(started), finished and ts(finished), error),
            )
        cur.executemany(
            "INSERT INTO run_urls (run_id, url, outcome, article_id, stage, reason)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            RUN_URLS,
        )
        cur.executemany(
            "INSERT INTO rejects (run_id, url, stage, reason, created_at) VALUES (%s, %s, %s, %s, %s)",
            [(r, u, s, why, ts(at)) for r, u, s, why, at in REJECTS],
        )
        cur.executemany(
            "INSERT INTO duplicates (url, source_key, article_id, original_article_id, kind, similarity,"
            " detected_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(*d[:6], ts(d[6])) for d in DUPLICATES],
        )
        for aid, replaced in REVISIONS:
            cur.execute(
                "INSERT INTO article_revisions (article_id, title, published_at, author, body, content_hash,"
                " valid_from, replaced_at) SELECT article_id, title || ' (ранняя версия)', published_at,"
                " author, body, md5(body || 'old'), first_seen, %s FROM articles WHERE article_id = %s",
                (ts(replaced), aid),
            )
        # Explicit ids above: move the identities past them for later inserts.
        for table, column in (("articles", "article_id"), ("ingest_runs", "run_id")):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), max({column}))"
                        f" FROM {table}")
    conn.commit()


@pytest.fixture
def history(conn):
    """The fixture loaded and the views refreshed; yields the connection."""
    load_fixture(conn)
    refresh_views(conn)
    return conn


def rows(conn, sql: str) -> list[tuple]:
    """Query rows with floats rounded to 4 decimals (percentiles, real similarities)."""
    with conn.cursor() as cur:
        cur.execute(sql)
        return [tuple(round(v, 4) if isinstance(v, float) else v for v in row) for row in cur.fetchall()]


def test_articles_daily_counts_local_days_of_each_source(history):
    assert rows(history, "SELECT source_key, day, articles, with_author FROM reporting.articles_daily"
                         " ORDER BY source_key, day") == [
        ("steppe", D10, 2, 1),        # ids 5, 6 (UTC); 6 has no author
        ("tengrinews", D10, 2, 2),    # ids 1, 2
        ("tengrinews", D11, 2, 2),    # id 3 (19:30Z is 00:30 in Almaty) and 4
    ]


def test_articles_daily_section_uses_first_path_segment(history):
    assert rows(history, "SELECT source_key, day, section, articles FROM reporting.articles_daily_section"
                         " ORDER BY source_key, day, section") == [
        ("steppe", D10, "economy", 1),  # id 6 has a single path segment: no section
        ("tengrinews", D10, "kazakhstan_news", 2),
        ("tengrinews", D11, "world_news", 2),
    ]


def test_ingestion_lag_percentiles_per_day(history):
    assert rows(history, "SELECT source_key, day, articles, lag_p50_s, lag_p90_s, lag_p99_s, lag_max_s"
                         " FROM reporting.ingestion_lag_daily ORDER BY source_key, day") == [
        # lags -60, 300: p50 = 120, p90 = -60 + 0.9 * 360, p99 = -60 + 0.99 * 360
        ("steppe", D10, 2, 120.0, 264.0, 296.4, 300.0),
        # lags 60, 120: p50 = 90, p90 = 60 + 0.9 * 60, p99 = 60 + 0.99 * 60
        ("tengrinews", D10, 2, 90.0, 114.0, 119.4, 120.0),
        # lags 600, 3600: p50 = 2100, p90 = 600 + 0.9 * 3000, p99 = 600 + 0.99 * 3000
        ("tengrinews", D11, 2, 2100.0, 3300.0, 3570.0, 3600.0),
    ]


def test_run_outcomes_count_the_ledger(history):
    assert rows(history, "SELECT run_id, source_key, kind, status, duration_s, discovered, new, updated,"
                         " unchanged, duplicate_exact, duplicate_near, rejected, failed, pending, error"
                         " FROM reporting.run_outcomes ORDER BY run_id") == [
        (1, "tengrinews", "airflow", "succeeded", 150.0, 4, 2, 0, 0, 0, 0, 1, 1, 0, None),
        (2, "tengrinews", "cli", "succeeded", 60.0, 6, 2, 1, 1, 1, 1, 0, 0, 0, None),
        (3, "steppe", "cli", "running", None, 4, 2, 0, 0, 0, 0, 1, 0, 1, None),
        (4, None, "seeds", "failed", 5.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "seed directory missing"),
    ]


def test_rejects_daily_by_stage_and_reason(history):
    assert rows(history, "SELECT day, source_key, stage, reason, rejects, urls, last_at"
                         " FROM reporting.rejects_daily"
                         " ORDER BY day, source_key NULLS LAST, stage, reason") == [
        (D10, "tengrinews", "parse", "no_title", 2, 1, ts("2025-03-10 04:02:00")),
        (D11, "steppe", "normalize", "no_body", 1, 1, ts("2025-03-11 08:00:10")),
        (D11, "tengrinews", "parse", "no_title", 1, 1, ts("2025-03-10 19:05:00")),
        (D11, None, "load", "bad_utf8", 1, 1, ts("2025-03-11 09:00:00")),
        (D11, None, "parse", "no_title", 1, 1, ts("2025-03-11 23:30:00")),
    ]


def test_duplicates_per_source_pair(history):
    assert rows(history, "SELECT source_key, original_source_key, kind, duplicates, avg_similarity,"
                         " min_similarity, first_detected_at, last_detected_at"
                         " FROM reporting.duplicates_by_source_pair ORDER BY 1, 2, 3") == [
        # similarity is real (float4): 0.9 reads back as 0.8999999761..., hence the rounding
        ("steppe", "tengrinews", "near", 2, 0.75, 0.7,
         ts("2025-03-11 08:00:20"), ts("2025-03-11 08:00:30")),
        ("tengrinews", "tengrinews", "exact", 1, 1.0, 1.0,
         ts("2025-03-11 07:00:30"), ts("2025-03-11 07:00:30")),
        ("tengrinews", "tengrinews", "near", 1, 0.9, 0.9,
         ts("2025-03-11 07:00:40"), ts("2025-03-11 07:00:40")),
    ]


def test_top_authors_rank_within_source_and_skip_anonymous(history):
    assert rows(history, "SELECT source_key, rank, author, articles, first_published_at, last_published_at"
                         " FROM reporting.top_authors ORDER BY source_key, rank, author") == [
        ("steppe", 1, "Ержан Токаев", 1, ts("2025-03-10 19:30:00"), ts("2025-03-10 19:30:00")),
        ("tengrinews", 1, "Айгуль Сатпаева", 2, ts("2025-03-10 04:00:00"), ts("2025-03-10 18:30:00")),
        ("tengrinews", 2, "Дина Ким", 1, ts("2025-03-11 06:00:00"), ts("2025-03-11 06:00:00")),
        ("tengrinews", 2, "Ержан Токаев", 1, ts("2025-03-10 19:30:00"), ts("2025-03-10 19:30:00")),
    ]


def test_revisions_daily(history):
    assert rows(history, "SELECT source_key, day, revisions, articles FROM reporting.revisions_daily"
                         " ORDER BY source_key, day") == [
        ("steppe", D11, 1, 1),
        ("tengrinews", D11, 3, 2),   # article 2 twice, article 1 once
        ("tengrinews", D12, 1, 1),   # 20:00Z is 01:00 next day in Almaty
    ]


EXPECTED_VIEWS = {
    "articles_daily", "articles_daily_section", "ingestion_lag_daily", "run_outcomes", "rejects_daily",
    "duplicates_by_source_pair", "top_authors", "revisions_daily",
}
# Runs and rejects are read to operate the ETL and must never be stale: plain views.
PLAIN_VIEWS = {"run_outcomes", "rejects_daily"}
MATERIALIZED_VIEWS = EXPECTED_VIEWS - PLAIN_VIEWS


def test_every_view_is_commented_and_each_materialized_one_has_a_plain_unique_index(conn):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class'),"
            " EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique"
            "         AND i.indpred IS NULL AND i.indexprs IS NULL)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'reporting' AND c.relkind IN ('v', 'm')"
        )
        found = {name: (kind, comment, unique) for name, kind, comment, unique in cur.fetchall()}
    assert set(found) == EXPECTED_VIEWS
    for name, (kind, comment, unique) in found.items():
        assert kind == ("v" if name in PLAIN_VIEWS else "m"), name
        assert comment and comment.startswith("One row per"), name
        assert unique or kind == "v", f"{name} needs a unique index without expression or predicate"


def test_refresh_views_is_concurrent_and_picks_up_new_rows(history):
    with history.cursor() as cur:
        cur.execute(
            "INSERT INTO articles (source_key, canonical_url, title, published_at, body, content_hash,"
            " first_seen) VALUES ('steppe', %s, 'Новая статья', %s, 'Текст новости.', 'h', %s)",
            (f"{S}/economy/novaya-7/", ts("2025-03-10 12:00:00"), ts("2025-03-10 12:10:00")),
        )
    history.commit()
    # A reader holding the view open (an open transaction) does not block a
    # concurrent refresh; a plain REFRESH would wait and hit the lock timeout.
    reader = psycopg2.connect(history.dsn)
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM reporting.articles_daily")
        with history.cursor() as cur:
            cur.execute("SET lock_timeout = '3s'")
        timings = refresh_views(history)
    finally:
        reader.close()
    assert set(timings) == {f"reporting.{v}" for v in MATERIALIZED_VIEWS}
    assert rows(history, "SELECT articles FROM reporting.articles_daily"
                         " WHERE source_key = 'steppe' AND day = '2025-03-10'") == [(3,)]


def test_sources_timezone_defaults_to_utc_and_refuses_unknown_zones(conn):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO sources (source_key, name, base_url) VALUES ('x', 'X', 'https://x.example')"
                    " RETURNING timezone")
        assert cur.fetchone() == ("UTC",)
        with pytest.raises(psycopg2.Error):
            cur.execute("UPDATE sources SET timezone = 'Mars/Olympus' WHERE source_key = 'x'")
    conn.rollback()
