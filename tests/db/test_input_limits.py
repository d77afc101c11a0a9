"""Input checked where a user or a file speaks: one-line errors, exit 2 for bad usage, caps on sizes."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import requests
from news_etl import settings
from news_etl.sources import SourceConfigError, read_sources

from devtools.replica import serve

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seeds" / "000_058bb5e5475679ac.txt"


def news_etl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "news_etl", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "plugins"), **(env or {})}, timeout=120)


@pytest.mark.parametrize(("args", "message"), [
    (["run", "tengrinews", "--date", "20260427"], "not a date (YYYY-MM-DD): '20260427'"),
    (["run", "tengrinews", "--date", "2026-04-27", "--min-articles", "-5"], "-5 is out of range"),
    (["report", "--days", "1000000000"], "1000000000 is out of range"),
    (["report", "--days", "0"], "0 is out of range"),
    (["run", "tengrinews", "--date", "2026-04-27", "--base-url", ""], "the mirror URL is empty"),
    (["run", "tengrinews", "--date", "2026-04-27", "--base-url", "file:///etc/passwd"], "must be http://"),
    (["run", "tengrinews", "--date", "2026-04-27", "--base-url", "127.0.0.1:8765"], "must be http://"),
    (["run", "tengrinews", "--date", "2026-04-27", "--base-url", "http://"], "must be http://"),
    (["run", "tengrinews", "--date", "2026-04-27", "--base-url", "http://h:port/"], "bad port"),
    (["run", "tengrinews", "--date", "2026-04-27", "--base-url", "ftp://bob:secret@127.0.0.1:1/"],
     "must be http://"),
])
def test_bad_values_are_usage_errors_in_one_line(args: list[str], message: str) -> None:
    result = news_etl(*args)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("news-etl") and message in last, result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_a_mirror_behind_a_login_is_fetched_and_its_credentials_never_stored(db_url: str) -> None:
    secret = "s3cret-pw"
    with serve(basic_auth=("bob", secret)) as mirror:
        assert requests.get(mirror.url("/robots.txt"), timeout=5).status_code == 401
        netloc = f"{mirror.host}:{mirror.port}"
        result = news_etl("run", "tengrinews", "--date", "2024-03-01", "--base-url", f"http://bob:{secret}@{netloc}",
                          env={"NEWS_ETL_DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT params->>'base_url' FROM ingest_runs")
        assert cur.fetchall() == [(f"http://***@{netloc}",)]
        cur.execute("SELECT count(*) FROM articles")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        for (table,) in cur.fetchall():
            cur.execute(f"SELECT count(*) FROM {table} t WHERE t::text LIKE %s", (f"%{secret}%",))
            assert cur.fetchone() == (0,), table
    conn.close()


def test_one_bad_seed_among_good_ones_is_rejected_alone(db_url: str, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    good = SAMPLE.read_text(encoding="utf-8")
    (seeds / "a_good.txt").write_text(good, encoding="utf-8")
    start = good.index("Original: [")
    url_start = good.index("](", start) + 2
    url_end = good.index(")", url_start)
    (seeds / "b_javascript.txt").write_text(good[:url_start] + "javascript:alert(1)" + good[url_end:],
                                            encoding="utf-8")
    (seeds / "c_huge.txt").write_text(good + "x" * settings.MAX_SEED_FILE_BYTES, encoding="utf-8")
    result = news_etl("seeds", "load", str(seeds), env={"NEWS_ETL_DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    assert "seed files: 3; new 1, rejected 2" in result.stdout, result.stdout
    assert "javascript:alert(1)" in result.stderr and "larger than" in result.stderr
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        assert cur.fetchone() == (1,)
    conn.close()


def test_extract_refuses_a_gzip_bomb_without_unpacking_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.html.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        chunk = b" " * (1024 * 1024)
        out.write(b"<html><body>")
        for _ in range(settings.MAX_EXTRACT_INPUT_BYTES // len(chunk) * 8):  # 8 times the limit
            out.write(chunk)
    result = news_etl("extract", str(bomb))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("bytes (uncompressed): not a saved page"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


_ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)},"
    f" *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n" for n in range(9)
) + "sources: []\n"


def test_a_yaml_alias_bomb_sources_file_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(_ALIAS_BOMB, encoding="utf-8")
    # Refused at the first alias, before anything expands (unrefused, this takes gigabytes).
    with pytest.raises(SourceConfigError, match="aliases"):
        read_sources(path)
    big = tmp_path / "big.yaml"
    big.write_text("sources: []\n" + "#" * settings.MAX_SOURCES_FILE_BYTES, encoding="utf-8")
    with pytest.raises(SourceConfigError, match="larger than"):
        read_sources(big)
