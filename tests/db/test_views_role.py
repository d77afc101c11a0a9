"""The read-only role news_reader: reads the views and the tables analysts need, writes nothing.

Not readable: raw pages, staging, the loader's fingerprints and bands, the fetcher's schedule.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from news_etl.report import refresh_views
from psycopg2 import errors
from test_views import EXPECTED_VIEWS, load_fixture


@pytest.fixture
def reader(conn) -> Iterator:
    """A connection with the fixture loaded, acting as news_reader (SET ROLE)."""
    load_fixture(conn)
    refresh_views(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper OR pg_has_role(current_user, 'news_reader', 'MEMBER')"
                    " FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            # A non-superuser test server: the migrating user created the role and may grant it.
            cur.execute("GRANT news_reader TO CURRENT_USER")
            conn.commit()
        cur.execute("SET ROLE news_reader")
    yield conn
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("RESET ROLE")
    conn.commit()


def attempt(conn, sql: str, args=()) -> None:
    """Run sql in a savepoint so that a refusal leaves the transaction usable."""
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT attempt")
        try:
            cur.execute(sql, args)
        finally:
            cur.execute("ROLLBACK TO SAVEPOINT attempt")


def test_reader_selects_every_view_and_articles(reader):
    with reader.cursor() as cur:
        for view in sorted(EXPECTED_VIEWS):
            cur.execute(f"SELECT count(*) FROM reporting.{view}")
            assert cur.fetchone()[0] > 0, view
        cur.execute("SELECT count(*), min(title) FROM articles")
        assert cur.fetchone()[0] == 6


# The tables an analysis needs, beside the views (reporting.*) and articles.
READABLE_TABLES = {"articles", "article_urls", "article_revisions", "duplicates", "sources", "ingest_runs",
                   "run_urls", "rejects"}


@pytest.mark.parametrize("table", sorted(READABLE_TABLES))
def test_reader_reads_the_tables_analysts_need(reader, table):
    with reader.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        assert cur.fetchone()[0] >= 0


@pytest.mark.parametrize("table", ["raw_pages", "staged_articles", "article_fingerprints", "minhash_bands",
                                   "host_schedule", "schema_migrations"])
def test_reader_cannot_read_other_tables(reader, table):
    with pytest.raises(errors.InsufficientPrivilege):
        attempt(reader, f"SELECT * FROM {table} LIMIT 1")


@pytest.mark.parametrize("sql", [
    "INSERT INTO articles (source_key, canonical_url, title, published_at, body, content_hash)"
    " VALUES ('steppe', 'https://steppe.example/x/y/', 't', now(), 'b', 'h')",
    "UPDATE articles SET title = 'взлом'",
    "DELETE FROM articles",
    "TRUNCATE articles",
    "INSERT INTO raw_pages (source_key, url, final_url, status, body_gzip, body_sha256, fetched_at)"
    " VALUES ('steppe', 'u', 'u', 200, '', 'x', now())",
    "UPDATE sources SET timezone = 'UTC'",
    "REFRESH MATERIALIZED VIEW reporting.articles_daily",
    "CREATE TABLE public.mine (x int)",
    "CREATE TABLE reporting.mine (x int)",
    "CREATE VIEW reporting.mine AS SELECT 1",
    "DROP MATERIALIZED VIEW reporting.top_authors",
    "ALTER TABLE articles ADD COLUMN x int",
    "SELECT nextval(pg_get_serial_sequence('articles', 'article_id'))",
    "CREATE ROLE intruder",
])
def test_reader_cannot_write(reader, sql):
    with pytest.raises(errors.InsufficientPrivilege):
        attempt(reader, sql)


def test_reader_privileges_in_the_catalog_are_exactly_select_on_views_and_analysts_tables(conn):
    """Every table, view and sequence of the schema, checked for every privilege."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT n.nspname || '.' || c.relname, c.relkind, p.priv,"
            " has_table_privilege('news_reader', c.oid, p.priv)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',"
            "                         'TRIGGER']) AS p(priv)"
            " WHERE n.nspname IN ('public', 'reporting') AND c.relkind IN ('r', 'v', 'm', 'p', 'f')"
        )
        granted = {(name, priv) for name, _kind, priv, has in cur.fetchall() if has}
        cur.execute(
            "SELECT n.nspname || '.' || c.relname"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('public', 'reporting') AND c.relkind = 'S'"
            " AND (has_sequence_privilege('news_reader', c.oid, 'USAGE')"
            "      OR has_sequence_privilege('news_reader', c.oid, 'UPDATE'))"
        )
        sequences = cur.fetchall()
        cur.execute("SELECT has_schema_privilege('news_reader', 'public', 'CREATE'),"
                    " has_schema_privilege('news_reader', 'reporting', 'CREATE')")
        schema_create = cur.fetchone()
    expected = ({(f"reporting.{v}", "SELECT") for v in EXPECTED_VIEWS}
                | {(f"public.{t}", "SELECT") for t in READABLE_TABLES})
    assert granted == expected
    assert sequences == []
    assert schema_create == (False, False)
