"""Migrations and the embedded PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from news_etl import db


def _schema_fingerprint(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        columns = cur.fetchall()
        cur.execute("SELECT version, checksum FROM schema_migrations ORDER BY 1")
        return columns + cur.fetchall()


def test_migrate_twice_changes_nothing(conn) -> None:
    before = _schema_fingerprint(conn)
    assert db.migrate(conn) == []          # the session fixture already migrated
    assert db.migrate(conn) == []
    assert _schema_fingerprint(conn) == before
    known = [m.version for m in db.known_migrations()]
    assert [v for v, _ in before[-len(known):]] == known


def test_articles_table_enforces_identity(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO sources (source_key, name, base_url) VALUES ('s', 'S', 'https://s.kz')")
        row = ("s", "1", "https://s.kz/a-1/", "T", "2020-01-01T00:00:00Z", "", "body", "h")
        insert = ("INSERT INTO articles (source_key, source_article_id, canonical_url, title, published_at,"
                  " author, body, content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")
        cur.execute(insert, row)
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(insert, ("s", "1", "https://s.kz/other-1/", *row[3:]))
    conn.rollback()


def test_unknown_newer_migration_is_refused(database_url: str) -> None:
    conn = db.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES ('999', 'future', 'x')")
        conn.commit()
        with pytest.raises(db.DatabaseError, match="999.*newer version"):
            db.migrate(conn)
        # The CLI says it in one line and exits 1.
        result = subprocess.run(
            [sys.executable, "-m", "news_etl", "db", "migrate"],
            env={**_env(), "NEWS_ETL_DATABASE_URL": database_url}, capture_output=True, text=True,
        )
        assert result.returncode == 1
        assert result.stderr.strip().startswith("news-etl: error: the database has migration(s) 999")
        assert "Traceback" not in result.stderr
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM schema_migrations WHERE version = '999'")
        conn.commit()
        conn.close()


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(Path(db.__file__).resolve().parents[1])}


def test_embedded_server_is_reused_survives_restart_and_stops(tmp_path: Path) -> None:
    data = Path("/tmp") / f"news-etl-embedded-{tmp_path.name}"  # short: socket paths are limited
    shutil.rmtree(data, ignore_errors=True)
    try:
        url = db.embedded_url(data)
        conn = db.connect(url)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (v text)")
            cur.execute("INSERT INTO kept VALUES ('still here')")
        conn.commit()
        conn.close()
        pid = (data / "postmaster.pid").read_text().split()[0]
        # Another process finds the running server and reuses it (no second postmaster).
        code = ("from pathlib import Path; from news_etl import db;"
                f" print(db.embedded_url(Path({str(data)!r})))")
        out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True,
                             check=True)
        assert out.stdout.strip() == url
        assert (data / "postmaster.pid").read_text().split()[0] == pid
        # Stopped cleanly: no pid file, no process, and the data is still there after a restart.
        db.stop_embedded(data)
        assert not (data / "postmaster.pid").exists()
        conn = db.connect(db.embedded_url(data))
        with conn.cursor() as cur:
            cur.execute("SELECT v FROM kept")
            assert cur.fetchall() == [("still here",)]
        conn.close()
    finally:
        db.stop_embedded(data)
        shutil.rmtree(data, ignore_errors=True)


ARTICLE_CONTENT = ("SELECT md5(string_agg(concat_ws('|', article_id, source_key, source_article_id,"
                   " canonical_url, title, published_at, body, content_hash), ',' ORDER BY article_id))"
                   " FROM articles")


def test_migration_005_keeps_what_was_stored(database_url: str) -> None:
    """A database filled under migrations 001-004 keeps its articles, aliases and ledger through 005."""
    from conftest import _server_url

    with db.scratch_database(_server_url(), "news_etl_test_m005") as url:
        conn = db.connect(url)
        try:
            db.migrate(conn, until="004")
            with conn.cursor() as cur:
                cur.execute("INSERT INTO sources (source_key, name, base_url) VALUES ('s', 'S', 'https://s.kz/')")
                cur.execute(
                    "INSERT INTO articles (source_key, source_article_id, canonical_url, title, published_at,"
                    " body, content_hash, last_seen) VALUES"
                    " ('s', '1', 'https://s.kz/a-1/', 'Заголовок', '2024-03-01T06:00Z', 'Т.', 'h1', now()),"
                    " ('s', '2', 'https://s.kz/a-2/', 'Другая', '2024-03-01T07:00Z', 'Ещё.', 'h2', now())")
                cur.execute("INSERT INTO article_urls (url, article_id) VALUES ('https://s.kz/a-1/', 1),"
                            " ('https://s.kz/news/a-1/', 1), ('https://s.kz/a-2/', 2)")
                cur.execute("INSERT INTO article_fingerprints (article_id, raw_digest, minhash) VALUES"
                            " (1, '\\x01', '\\x0203'), (2, '\\x04', NULL)")
                cur.execute("INSERT INTO ingest_runs (source_key) VALUES ('s')")
                cur.execute("INSERT INTO run_urls (run_id, url, outcome, article_id) VALUES"
                            " (1, 'https://s.kz/a-1/', 'new', 1), (1, 'https://s.kz/a-2/', 'new', 2),"
                            " (1, 'https://s.kz/news/a-1/', 'unchanged', 1)")
                cur.execute(ARTICLE_CONTENT)
                articles_before = cur.fetchone()[0]
            conn.commit()

            assert db.migrate(conn) == [f"{m.version}_{m.name}" for m in db.known_migrations()
                                        if m.version >= "005"]
            with conn.cursor() as cur:
                cur.execute(ARTICLE_CONTENT)
                assert cur.fetchone()[0] == articles_before
                cur.execute("SELECT url, article_id FROM article_urls ORDER BY url")
                assert cur.fetchall() == [("https://s.kz/news/a-1/", 1)]  # canonical URLs: in articles
                cur.execute("SELECT article_id, minhash FROM article_fingerprints")
                assert [(a, bytes(m)) for a, m in cur.fetchall()] == [(1, b"\x02\x03")]
                cur.execute("SELECT count(*) FROM articles WHERE raw_digest IS NULL")
                assert cur.fetchone()[0] == 2  # filled in by the loader when it next sees them
                cur.execute("SELECT article_id, count(*) FROM run_urls GROUP BY 1 ORDER BY 1")
                assert cur.fetchall() == [(1, 2), (2, 1)]  # the sightings, as they were
        finally:
            conn.close()
