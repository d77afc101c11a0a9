"""The migrated schema against the baseline's intent (sql/migrations/001_baseline.sql).

The expected lists below are written out by hand: a later migration that drops or
changes a table, column, constraint or index fails here until the list is changed
on purpose. The second half shows that the plain foreign keys refuse what the
statement-level checks of the old development chain refused.
"""

from __future__ import annotations

import io

import psycopg2
import pytest
from news_etl import db

# Columns of every table and materialized view: "name type", "!" = NOT NULL.
TS = "timestamp with time zone"
EXPECTED_COLUMNS = {
    "sources": f"source_key text!, name text!, base_url text!, created_at {TS}!, timezone text!",
    "ingest_runs": f"run_id bigint!, source_key text, kind text!, window_start date, window_end date,"
                   f" params jsonb!, status text!, discovered integer!, outcome_counts jsonb!,"
                   f" stage_seconds jsonb!, error text, started_at {TS}!, finished_at {TS},"
                   f" airflow_dag_id text, airflow_run_id text, airflow_logical_date {TS},"  # 002_operations
                   f" heartbeat_at {TS}!, lease_until {TS}!, worker text",  # 003_run_lifecycle
    "host_schedule": f"host text!, next_at {TS}!",
    "run_urls": f"run_id bigint!, url text!, outcome text, article_id bigint, stage text, reason text,"
                f" detail text, updated_at {TS}!",
    "rejects": f"reject_id bigint!, run_id bigint, url text!, stage text!, reason text!, detail text,"
               f" created_at {TS}!",
    "raw_pages": f"page_id bigint!, source_key text!, url text!, final_url text!, status integer!,"
                 f" headers jsonb!, content_type text, encoding text, body_gzip bytea!, body_sha256 text!,"
                 f" fetched_at {TS}!, run_id bigint",
    "staged_articles": f"run_id bigint!, url text!, seq bigint!, payload text!, staged_at {TS}!",
    "articles": f"article_id bigint!, source_key text!, source_article_id text, canonical_url text!,"
                f" title text!, published_at {TS}!, author text!, body text!, content_hash text!,"
                f" extraction jsonb!, fetched_at {TS}, first_seen {TS}!, updated_at {TS}!, raw_digest bytea",
    "article_urls": f"url text!, article_id bigint!, first_seen {TS}!",
    "article_revisions": f"revision_id bigint!, article_id bigint!, title text!, published_at {TS}!,"
                         f" author text!, body text!, content_hash text!, valid_from {TS}!,"
                         f" replaced_at {TS}!, run_id bigint",
    "article_fingerprints": "article_id bigint!, minhash bytea!",
    "minhash_bands": "band_hash bigint!, article_id bigint!",
    "duplicates": f"duplicate_id bigint!, url text!, source_key text!, article_id bigint,"
                  f" original_article_id bigint!, kind text!, similarity real!, run_id bigint,"
                  f" detected_at {TS}!",
    "schema_migrations": f"version text!, name text!, checksum text!, applied_at {TS}!",
    "reporting.articles_daily": "source_key text, day date, articles bigint, with_author bigint",
    "reporting.articles_daily_section": "source_key text, day date, section text, articles bigint",
    "reporting.ingestion_lag_daily": "source_key text, day date, articles bigint, lag_p50_s double precision,"
                                     " lag_p90_s double precision, lag_p99_s double precision,"
                                     " lag_max_s double precision",
    "reporting.run_outcomes": f"run_id bigint, source_key text, kind text, status text, started_at {TS},"
                              f" finished_at {TS}, duration_s double precision, discovered bigint,"
                              " new bigint, updated bigint, unchanged bigint, duplicate_exact bigint,"
                              " duplicate_near bigint, rejected bigint, failed bigint, pending bigint,"
                              " error text, airflow_dag_id text, airflow_run_id text,"
                              f" airflow_logical_date {TS}",
    "reporting.rejects_daily": f"day date, source_key text, stage text, reason text, rejects bigint,"
                               f" urls bigint, last_at {TS}",
    "reporting.duplicates_by_source_pair": f"source_key text, original_source_key text, kind text,"
                                           f" duplicates bigint, avg_similarity double precision,"
                                           f" min_similarity double precision, first_detected_at {TS},"
                                           f" last_detected_at {TS}",
    "reporting.top_authors": f"source_key text, author text, articles bigint, first_published_at {TS},"
                             f" last_published_at {TS}, rank bigint",
    "reporting.revisions_daily": "source_key text, day date, revisions bigint, articles bigint",
}

_RUN_FK = "FOREIGN KEY (run_id) REFERENCES ingest_runs(run_id)"
_SOURCE_FK = "FOREIGN KEY (source_key) REFERENCES sources(source_key)"
_ARTICLE_FK = "FOREIGN KEY (article_id) REFERENCES articles(article_id) ON DELETE CASCADE"
# (table, constraint, definition as pg_get_constraintdef prints it)
EXPECTED_CONSTRAINTS = {
    ("sources", "sources_pkey", "PRIMARY KEY (source_key)"),
    ("sources", "sources_timezone_check", "CHECK (((now() AT TIME ZONE timezone) IS NOT NULL))"),
    ("ingest_runs", "ingest_runs_pkey", "PRIMARY KEY (run_id)"),
    ("ingest_runs", "ingest_runs_source_key_fkey", _SOURCE_FK),
    ("ingest_runs", "ingest_runs_status_check",
     "CHECK ((status = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text, 'abandoned'::text])))"),
    ("run_urls", "run_urls_pkey", "PRIMARY KEY (run_id, url)"),
    ("run_urls", "run_urls_run_id_fkey", f"{_RUN_FK} ON DELETE CASCADE"),
    ("run_urls", "run_urls_outcome_check",
     "CHECK ((outcome = ANY (ARRAY['new'::text, 'updated'::text, 'unchanged'::text, 'duplicate_exact'::text,"
     " 'duplicate_near'::text, 'rejected'::text, 'failed'::text])))"),
    ("rejects", "rejects_pkey", "PRIMARY KEY (reject_id)"),
    ("rejects", "rejects_run_id_fkey", f"{_RUN_FK} ON DELETE CASCADE"),
    ("raw_pages", "raw_pages_pkey", "PRIMARY KEY (page_id)"),
    ("raw_pages", "raw_pages_source_key_fkey", _SOURCE_FK),
    ("raw_pages", "raw_pages_run_id_fkey", f"{_RUN_FK} ON DELETE SET NULL"),
    ("raw_pages", "raw_pages_url_body_key", "UNIQUE (url, body_sha256)"),
    ("staged_articles", "staged_articles_pkey", "PRIMARY KEY (run_id, url)"),
    ("staged_articles", "staged_articles_run_id_fkey", f"{_RUN_FK} ON DELETE CASCADE"),
    ("articles", "articles_pkey", "PRIMARY KEY (article_id)"),
    ("articles", "articles_source_key_fkey", _SOURCE_FK),
    ("articles", "articles_source_article_id_key", "UNIQUE (source_key, source_article_id)"),
    ("articles", "articles_canonical_url_key", "UNIQUE (canonical_url)"),
    ("articles", "articles_title_check", "CHECK ((title <> ''::text))"),
    ("articles", "articles_body_check", "CHECK ((body <> ''::text))"),
    ("article_urls", "article_urls_pkey", "PRIMARY KEY (url)"),
    ("article_urls", "article_urls_article_id_fkey", _ARTICLE_FK),
    ("article_revisions", "article_revisions_pkey", "PRIMARY KEY (revision_id)"),
    ("article_revisions", "article_revisions_article_id_fkey", _ARTICLE_FK),
    ("article_revisions", "article_revisions_run_id_fkey", f"{_RUN_FK} ON DELETE SET NULL"),
    ("article_fingerprints", "article_fingerprints_pkey", "PRIMARY KEY (article_id)"),
    ("article_fingerprints", "article_fingerprints_article_id_fkey", _ARTICLE_FK),
    ("minhash_bands", "minhash_bands_pkey", "PRIMARY KEY (band_hash, article_id)"),
    ("duplicates", "duplicates_pkey", "PRIMARY KEY (duplicate_id)"),
    ("duplicates", "duplicates_source_key_fkey", _SOURCE_FK),
    ("duplicates", "duplicates_article_id_fkey", _ARTICLE_FK),
    ("duplicates", "duplicates_original_article_id_fkey",
     "FOREIGN KEY (original_article_id) REFERENCES articles(article_id) ON DELETE CASCADE"),
    ("duplicates", "duplicates_run_id_fkey", f"{_RUN_FK} ON DELETE SET NULL"),
    ("duplicates", "duplicates_kind_check", "CHECK ((kind = ANY (ARRAY['exact'::text, 'near'::text])))"),
    ("duplicates", "duplicates_url_original_key", "UNIQUE (url, original_article_id)"),
    ("schema_migrations", "schema_migrations_pkey", "PRIMARY KEY (version)"),
    ("host_schedule", "host_schedule_pkey", "PRIMARY KEY (host)"),
}

# (table, index, "[UNIQUE ]method (keys)"), constraints' own indexes included.
EXPECTED_INDEXES = {
    ("sources", "sources_pkey", "UNIQUE btree (source_key)"),
    ("ingest_runs", "ingest_runs_pkey", "UNIQUE btree (run_id)"),
    ("ingest_runs", "ingest_runs_running_idx",
     "btree (source_key, lease_until) WHERE (status = 'running'::text)"),
    ("run_urls", "run_urls_pkey", "UNIQUE btree (run_id, url)"),
    ("rejects", "rejects_pkey", "UNIQUE btree (reject_id)"),
    ("rejects", "rejects_run_idx", "btree (run_id)"),
    ("raw_pages", "raw_pages_pkey", "UNIQUE btree (page_id)"),
    ("raw_pages", "raw_pages_url_body_key", "UNIQUE btree (url, body_sha256)"),
    ("raw_pages", "raw_pages_url_fetched_idx", "btree (url, fetched_at DESC)"),
    ("staged_articles", "staged_articles_pkey", "UNIQUE btree (run_id, url)"),
    ("articles", "articles_pkey", "UNIQUE btree (article_id)"),
    ("articles", "articles_source_article_id_key", "UNIQUE btree (source_key, source_article_id)"),
    ("articles", "articles_canonical_url_key", "UNIQUE btree (canonical_url)"),
    ("articles", "articles_content_hash_idx", "btree (content_hash, article_id)"),
    ("articles", "articles_published_at_idx", "btree (published_at)"),
    ("article_urls", "article_urls_pkey", "UNIQUE btree (url)"),
    ("article_urls", "article_urls_article_idx", "btree (article_id)"),
    ("article_revisions", "article_revisions_pkey", "UNIQUE btree (revision_id)"),
    ("article_revisions", "article_revisions_article_idx", "btree (article_id)"),
    ("article_fingerprints", "article_fingerprints_pkey", "UNIQUE btree (article_id)"),
    ("minhash_bands", "minhash_bands_pkey", "UNIQUE btree (band_hash, article_id)"),
    ("minhash_bands", "minhash_bands_article_idx", "btree (article_id)"),
    ("duplicates", "duplicates_pkey", "UNIQUE btree (duplicate_id)"),
    ("duplicates", "duplicates_url_original_key", "UNIQUE btree (url, original_article_id)"),
    ("schema_migrations", "schema_migrations_pkey", "UNIQUE btree (version)"),
    # A plain unique index on each view's key: REFRESH ... CONCURRENTLY needs one.
    ("reporting.articles_daily", "articles_daily_key", "UNIQUE btree (source_key, day)"),
    ("reporting.articles_daily_section", "articles_daily_section_key",
     "UNIQUE btree (source_key, day, section)"),
    ("reporting.ingestion_lag_daily", "ingestion_lag_daily_key", "UNIQUE btree (source_key, day)"),
    ("ingest_runs", "ingest_runs_started_idx", "btree (started_at)"),
    ("host_schedule", "host_schedule_pkey", "UNIQUE btree (host)"),
    ("reporting.duplicates_by_source_pair", "duplicates_by_source_pair_key",
     "UNIQUE btree (source_key, original_source_key, kind)"),
    ("reporting.top_authors", "top_authors_key", "UNIQUE btree (source_key, author)"),
    ("reporting.top_authors", "top_authors_rank_idx", "btree (rank)"),
    ("reporting.revisions_daily", "revisions_daily_key", "UNIQUE btree (source_key, day)"),
}

_OURS = "n.nspname IN ('public', 'reporting')"
# Columns a of our tables and views c (n: their schema).
_COLUMNS = ("pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            f" WHERE {_OURS} AND c.relkind IN ('r', 'p', 'v', 'm')")


def rows(conn, sql: str, args=()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_tables_and_columns_are_the_baselines(conn):
    found = rows(conn, "SELECT c.oid::regclass::text, string_agg(a.attname || ' ' || format_type(a.atttypid,"
                       " a.atttypmod) || CASE WHEN a.attnotnull THEN '!' ELSE '' END, ', ' ORDER BY a.attnum)"
                       f" FROM {_COLUMNS} GROUP BY c.oid")
    assert dict(found) == EXPECTED_COLUMNS


def test_constraints_are_the_baselines(conn):
    found = rows(conn, "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
                       " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
                       f" WHERE {_OURS} AND c.contype IN ('p', 'u', 'f', 'c', 'x')")
    assert set(found) == EXPECTED_CONSTRAINTS


def test_indexes_are_the_baselines(conn):
    found = rows(conn, "SELECT i.indrelid::regclass::text, c.relname, (CASE WHEN i.indisunique THEN 'UNIQUE '"
                       " ELSE '' END) || substring(pg_get_indexdef(i.indexrelid) FROM ' USING (.*)$')"
                       " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                       f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_OURS}")
    assert set(found) == EXPECTED_INDEXES


def test_integrity_is_left_to_constraints_not_triggers_or_functions(conn):
    assert rows(conn, "SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger t"
                      " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                      f" WHERE {_OURS} AND NOT t.tgisinternal") == []
    assert rows(conn, "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                      f" WHERE {_OURS}") == []


def test_every_table_view_and_column_is_commented(conn):
    """The comments are the analysts' data dictionary (schema_migrations is the runner's own)."""
    ours = " AND c.relname <> 'schema_migrations'"
    tables = rows(conn, f"SELECT DISTINCT c.oid::regclass::text FROM {_COLUMNS}{ours}"
                        " AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''")
    columns = rows(conn, f"SELECT c.oid::regclass::text, a.attname FROM {_COLUMNS}{ours}"
                         " AND coalesce(col_description(c.oid, a.attnum), '') = ''")
    assert tables == [] and columns == []


def test_storage_settings_are_the_baselines(conn):
    """Bodies lz4 where the server has it, else out of line uncompressed; pages filled; ids cached."""
    (has_lz4,) = rows(conn, "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                            " WHERE name = 'default_toast_compression'")[0]
    bodies = rows(conn, "SELECT attrelid::regclass::text, attstorage, attcompression FROM pg_attribute"
                        " WHERE attrelid IN ('articles'::regclass, 'article_revisions'::regclass)"
                        " AND attname = 'body' ORDER BY 1")
    expected = ("x", "l") if has_lz4 else ("e", "")
    assert bodies == [("article_revisions", *expected), ("articles", *expected)]
    assert rows(conn, "SELECT reloptions FROM pg_class WHERE oid = 'articles'::regclass") == [(None,)]
    ids = "pg_get_serial_sequence('articles', 'article_id')::regclass"
    assert rows(conn, f"SELECT seqcache FROM pg_sequence WHERE seqrelid = {ids}") == [(1000,)]


def test_reporting_views_and_reader_role_exist(conn):
    # Aggregates over history are materialized; runs and rejects are plain views, current at once.
    assert rows(conn, "SELECT count(*) FROM pg_matviews WHERE schemaname = 'reporting'") == [(6,)]
    assert rows(conn, "SELECT count(*) FROM pg_views WHERE schemaname = 'reporting'") == [(2,)]
    assert rows(conn, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'news_reader'") == [(False,)]
    assert rows(conn, "SELECT has_table_privilege('news_reader', 'articles', 'SELECT'),"
                      " has_table_privilege('news_reader', 'reporting.run_outcomes', 'SELECT'),"
                      " has_table_privilege('news_reader', 'raw_pages', 'SELECT')") == [(True, True, False)]


# --------------------------------------------------------------------------- the foreign keys at work

ARTICLE = ("INSERT INTO articles (source_key, canonical_url, title, published_at, body, content_hash)"
           " VALUES (%s, %s, 'Заголовок', now(), 'Текст.', %s) RETURNING article_id")


@pytest.fixture
def stored(conn) -> dict[str, int]:
    """A source 'kz' with one article, an unused source 'spare', a run with a ledger row."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO sources (source_key, name, base_url) VALUES"
                    " ('kz', 'Каз', 'https://kz.example/'), ('spare', 'Запасной', 'https://spare.example/')")
        cur.execute(ARTICLE, ("kz", "https://kz.example/news/1/", "h1"))
        article = cur.fetchone()[0]
        cur.execute("INSERT INTO ingest_runs (source_key) VALUES ('kz') RETURNING run_id")
        run = cur.fetchone()[0]
        cur.execute("INSERT INTO run_urls (run_id, url, outcome, article_id)"
                    " VALUES (%s, 'https://kz.example/news/1/', 'new', %s)", (run, article))
    conn.commit()
    return {"article": article, "run": run}


def refused(conn, sql: str, args=(), error=psycopg2.errors.ForeignKeyViolation) -> None:
    with pytest.raises(error), conn.cursor() as cur:
        cur.execute(sql, args)
    conn.rollback()


def count(conn, sql: str, args=()) -> int:
    return rows(conn, sql, args)[0][0]


def test_an_article_must_name_a_stored_source(conn, stored):
    refused(conn, ARTICLE, ("ghost", "https://ghost.example/1/", "h2"))
    refused(conn, "UPDATE articles SET source_key = 'ghost' WHERE article_id = %s", (stored["article"],))
    # COPY, the loader's way in, is checked the same.
    with pytest.raises(psycopg2.errors.ForeignKeyViolation), conn.cursor() as cur:
        cur.copy_expert("COPY articles (source_key, canonical_url, title, published_at, body, content_hash)"
                        " FROM STDIN", io.StringIO("ghost\thttps://g/1/\tT\t2024-01-01 00:00+00\tB\th3\n"))
    conn.rollback()
    # One statement naming a stored and a missing source fails as a whole.
    refused(conn, "INSERT INTO articles (source_key, canonical_url, title, published_at, body, content_hash)"
                  " VALUES ('kz', 'https://kz.example/2/', 'T', now(), 'B', 'h4'),"
                  " ('ghost', 'https://g/2/', 'T', now(), 'B', 'h5')")
    assert count(conn, "SELECT count(*) FROM articles") == 1


def test_a_source_its_articles_name_can_be_neither_deleted_renamed_nor_truncated(conn, stored):
    refused(conn, "DELETE FROM sources WHERE source_key = 'kz'")
    refused(conn, "UPDATE sources SET source_key = 'kz2' WHERE source_key = 'kz'")
    refused(conn, "TRUNCATE sources", error=psycopg2.errors.FeatureNotSupported)
    with conn.cursor() as cur:  # a source nothing names can go, and one can be renamed in place
        cur.execute("UPDATE sources SET name = 'Казахстан' WHERE source_key = 'kz'")
        cur.execute("DELETE FROM sources WHERE source_key = 'spare'")
    conn.commit()
    assert rows(conn, "SELECT source_key, name FROM sources") == [("kz", "Казахстан")]


def test_a_source_delete_sees_articles_committed_after_its_snapshot(conn, stored, db_url):
    """REPEATABLE READ: the key check reads the latest committed rows, not the transaction's snapshot."""
    other = db.connect(db_url)
    try:
        other.set_session(isolation_level="REPEATABLE READ")
        with other.cursor() as cur:
            cur.execute("SELECT count(*) FROM articles WHERE source_key = 'spare'")  # snapshot taken
            assert cur.fetchone()[0] == 0
        with conn.cursor() as cur:
            cur.execute(ARTICLE, ("spare", "https://spare.example/1/", "h9"))
        conn.commit()
        refused(other, "DELETE FROM sources WHERE source_key = 'spare'")
    finally:
        other.close()
    assert count(conn, "SELECT count(*) FROM articles WHERE source_key = 'spare'") == 1


def test_a_ledger_row_must_name_a_stored_run(conn, stored):
    run = stored["run"]
    refused(conn, "INSERT INTO run_urls (run_id, url, outcome) VALUES (%s, 'https://kz.example/x/', 'new')",
            (run + 999,))
    refused(conn, "INSERT INTO run_urls (run_id, url, outcome) VALUES (%s, 'https://kz.example/a/', 'new'),"
                  " (%s, 'https://kz.example/b/', 'new')", (run, run + 999))
    refused(conn, "UPDATE run_urls SET run_id = %s WHERE run_id = %s", (run + 999, run))
    refused(conn, "UPDATE ingest_runs SET run_id = DEFAULT WHERE run_id = %s", (run,))  # a new id
    refused(conn, "TRUNCATE ingest_runs", error=psycopg2.errors.FeatureNotSupported)
    assert count(conn, "SELECT count(*) FROM run_urls WHERE run_id = %s", (run,)) == 1


def test_deleting_a_run_deletes_its_ledger_and_staging_and_keeps_what_it_stored(conn, stored):
    run = stored["run"]
    with conn.cursor() as cur:
        cur.execute("INSERT INTO staged_articles (run_id, url, payload) VALUES (%s, 'u', '{}')", (run,))
        cur.execute("INSERT INTO rejects (run_id, url, stage, reason) VALUES (%s, 'u2', 'parse', 'no body')",
                    (run,))
        cur.execute("INSERT INTO article_revisions (article_id, title, published_at, author, body,"
                    " content_hash, valid_from, run_id) VALUES (%s, 'T0', now(), '', 'B0', 'h0', now(), %s)",
                    (stored["article"], run))
        cur.execute("DELETE FROM ingest_runs WHERE run_id = %s", (run,))
    conn.commit()
    assert count(conn, "SELECT count(*) FROM run_urls") == 0
    assert count(conn, "SELECT count(*) FROM staged_articles") == 0
    assert count(conn, "SELECT count(*) FROM rejects") == 0
    assert rows(conn, "SELECT run_id FROM article_revisions") == [(None,)]
    assert count(conn, "SELECT count(*) FROM articles") == 1


def test_the_ledger_is_history_an_article_deleted_by_hand_leaves_its_id(conn, stored):
    """run_urls.article_id has no foreign key: the ledger never locks or follows article rows."""
    article = stored["article"]
    with conn.cursor() as cur:
        cur.execute("INSERT INTO article_urls (url, article_id) VALUES ('https://kz.example/kz/1/', %s)",
                    (article,))
        cur.execute("INSERT INTO article_fingerprints (article_id, minhash) VALUES (%s, '\\x00')", (article,))
        cur.execute("DELETE FROM articles WHERE article_id = %s", (article,))
    conn.commit()
    assert rows(conn, "SELECT article_id FROM run_urls") == [(article,)]
    assert count(conn, "SELECT count(*) FROM article_urls") == 0
    assert count(conn, "SELECT count(*) FROM article_fingerprints") == 0
