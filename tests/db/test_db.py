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

    return {**os.environ, "PYTHONPATH": str(Path(db.__file__).resolve().parents[2])}


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


OLD_CHAIN = ["001_core", "002_load", "003_reporting", "004_body_lz4", "005_rerun_writes_little",
             "006_articles_fill_pages", "007_articles_source_check_per_statement",
             "008_parent_checks_under_every_isolation", "009_parent_checks_one_scan"]


def test_a_database_made_by_the_squashed_development_chain_is_refused_with_how_to_reset_it() -> None:
    """001_baseline replaced 001_core ... 009: such a database is reset, never migrated on top."""
    from conftest import _server_url

    with db.scratch_database(_server_url(), "news_etl_test_oldchain") as url:
        conn = db.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
                            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
                cur.execute("CREATE TABLE articles (article_id bigint PRIMARY KEY)")  # what 001 left
                for migration in OLD_CHAIN:
                    version, _, name = migration.partition("_")
                    cur.execute("INSERT INTO schema_migrations (version, name, checksum)"
                                " VALUES (%s, %s, 'x')", (version, name))
            conn.commit()
            with pytest.raises(db.DatabaseError, match="old development migrations.*001_core.*reset it"):
                db.migrate(conn)
            # Nothing was applied, and the migration lock was given back (another session can take it).
            with conn.cursor() as cur:
                cur.execute("SELECT count(*), count(*) FILTER (WHERE name = 'baseline')"
                            " FROM schema_migrations")
                assert cur.fetchone() == (len(OLD_CHAIN), 0)
                cur.execute("SELECT to_regclass('sources')")
                assert cur.fetchone() == (None,)
            conn.rollback()
            with db.connection(url) as other, other.cursor() as cur:
                cur.execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE NOWAIT")
        finally:
            conn.close()
        # The CLI says it in one line, with what to do, and exits 1.
        result = subprocess.run([sys.executable, "-m", "news_etl", "db", "migrate"],
                                env={**_env(), "NEWS_ETL_DATABASE_URL": url}, capture_output=True, text=True)
        assert result.returncode == 1
        message = result.stderr.strip()
        assert message.startswith("news-etl: error: the database was made by the old development migrations")
        assert "drop and recreate the database" in message and "news-etl db stop" in message
        assert "\n" not in message and "Traceback" not in message


def test_a_database_with_only_the_baseline_is_not_mistaken_for_the_old_chain(database_url: str) -> None:
    conn = db.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version, name FROM schema_migrations ORDER BY 1")
            assert cur.fetchall()[0] == ("001", "baseline")
        assert db.pending_migrations(conn) == []
    finally:
        conn.close()
