"""The `news-etl` command line: help, exit codes, one-line errors, seeds in and out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seeds" / "000_058bb5e5475679ac.txt"


def news_etl(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "news_etl", *args], capture_output=True, text=True, input=stdin,
        env={**os.environ, "PYTHONPATH": str(REPO / "plugins"), **(env or {})}, timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [[], ["db"], ["db", "migrate"], ["seeds"], ["seeds", "load"], ["seeds", "export"], ["extract"],
     ["run"], ["report"]],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = news_etl(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: news-etl" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "invalid choice"),
        (["run", "tengrinews", "--date", "2019-13-45"], "not a date"),
        (["run", "tengrinews"], "give --date, --from/--to or --latest"),
        (["seeds", "load", "/nonexistent/dir"], "not a directory"),
        (["extract", "/nonexistent.html"], "no such file"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = news_etl(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_source_is_a_one_line_failure(db_url: str) -> None:
    result = news_etl("run", "nosuchsite", "--date", "2020-01-01", env={"NEWS_ETL_DATABASE_URL": db_url})
    assert result.returncode == 1
    assert result.stderr.strip() == ("news-etl: error: unknown source 'nosuchsite'; configured: "
                                     + result.stderr.split("configured: ")[1].strip())
    assert "tengrinews" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_a_one_line_failure() -> None:
    result = news_etl("db", "migrate", env={"NEWS_ETL_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert result.stderr.startswith("news-etl: error: cannot connect to the news database")
    assert len(result.stderr.strip().splitlines()) == 1


def test_seeds_load_export_round_trip_and_load_twice(db_url: str, tmp_path: Path) -> None:
    env = {"NEWS_ETL_DATABASE_URL": db_url}
    seeds = tmp_path / "in"
    seeds.mkdir()
    (seeds / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    first = news_etl("seeds", "load", str(seeds), env=env)
    assert first.returncode == 0, first.stderr
    assert "new 1" in first.stdout
    again = news_etl("seeds", "load", str(seeds), env=env)
    assert again.returncode == 0, again.stderr
    assert "unchanged 1" in again.stdout

    out = tmp_path / "out"
    exported = news_etl("seeds", "export", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    files = sorted(out.iterdir())
    assert len(files) == 1
    assert files[0].name.startswith("000_")
    assert files[0].read_bytes() == SAMPLE.read_bytes()

    # The stored row carries Tengrinews' identity, so a later crawl finds it.
    import psycopg2

    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT source_key, source_article_id, count(*) OVER () FROM articles")
        assert cur.fetchall() == [("tengrinews", "383322", 1)]


def test_seeds_load_goes_on_past_bad_files(db_url: str, tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    (tmp_path / "a_good.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b_no_header.txt").write_text(text.replace("\n# ", "\n", 1), encoding="utf-8")
    (tmp_path / "c_bad_date.txt").write_text(text.replace("2019-11-05T07:15", "yesterday"),
                                             encoding="utf-8")
    (tmp_path / "d_cp1251.txt").write_bytes(text.replace("383322", "383323").encode("cp1251"))
    result = news_etl("seeds", "load", str(tmp_path), env={"NEWS_ETL_DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    assert "seed files: 4" in result.stdout
    assert "new 1" in result.stdout and "rejected 3" in result.stdout
    assert "b_no_header.txt:2:" in result.stderr
    assert "c_bad_date.txt:4: bad date" in result.stderr
    assert "d_cp1251.txt:2: not UTF-8" in result.stderr
    import psycopg2

    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT stage, reason, count(*) FROM rejects GROUP BY 1, 2")
        assert cur.fetchall() == [("seeds", "bad_seed_file", 3)]


def _articles_checksum(db_url: str) -> tuple[int, str]:
    import psycopg2

    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        # Everything but fetched_at, which a rerun moves by design.
        cur.execute("SELECT count(*), md5(coalesce(string_agg(row(article_id, source_key, source_article_id,"
                    " canonical_url, title, published_at, author, body, content_hash, extraction, first_seen,"
                    " updated_at)::text, '|' ORDER BY article_id), '')) FROM articles")
        return cur.fetchone()


def test_run_the_sample_day_then_export_reproduces_the_sample(db_url: str, tmp_path: Path) -> None:
    from devtools.replica import serve

    env = {"NEWS_ETL_DATABASE_URL": db_url}
    with serve() as replica:
        run = news_etl("run", "tengrinews", "--date", "2019-11-05", "--base-url", replica.base_url, env=env)
        assert run.returncode == 0, run.stderr
        assert "succeeded" in run.stdout and "new 6" in run.stdout, run.stdout
        before = _articles_checksum(db_url)

        out = tmp_path / "out"
        exported = news_etl("seeds", "export", str(out), "--source", "tengrinews", env=env)
        assert exported.returncode == 0, exported.stderr
        files = sorted(out.iterdir())
        assert len(files) == before[0] == 6
        [sample] = [f for f in files if "-383322/)" in f.read_text(encoding="utf-8")]
        assert sample.read_bytes() == SAMPLE.read_bytes()

        # The same day again: every article unchanged, the table byte for byte the same.
        again = news_etl("run", "tengrinews", "--date", "2019-11-05", "--base-url", replica.base_url,
                         env=env)
        assert again.returncode == 0, again.stderr
        assert "unchanged 6" in again.stdout and "new" not in again.stdout.split(";", 1)[1], again.stdout
    assert _articles_checksum(db_url) == before
