"""`news-etl run` over replica days, then `news-etl seeds export`: every field of every seed file.

The replica's pages follow the real site's markup (constant declared offsets, the author block,
credits, embeds, PR markers, long reads under /article/). Each exported file must be exactly the
seed-file format filled with what its page visibly shows (devtools/replica/site/expected.json,
written by the site builder from the data it renders, checked against the hand-written records in
tests/unit/test_replica.py): title, published_at in UTC from the Almaty wall clock, the named people,
the source's name, the canonical URL and the article's lines without any noise line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import truncate_all
from news_etl import db as dbmod
from support.replica_expected import BY_URL, SHOWN

from devtools.replica import SITE_DIR, serve

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seeds" / "000_058bb5e5475679ac.txt"
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
# Both sides of 2024-03-01 (UTC+6, then UTC+5), both markup generations, a day with long reads.
RUNS = (["--date", "2019-11-05"], ["--date", "2023-03-14"], ["--from", "2024-02-29", "--to", "2024-03-01"],
        ["--date", "2026-04-27"])
DAYS = ("2019-11-05", "2023-03-14", "2024-02-29", "2024-03-01", "2026-04-27")


def news_etl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "news_etl", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "plugins"), **env}, timeout=300)


def seed_text(url: str) -> str:
    """The seed file a reader of the page would write by hand, in the project's format."""
    shown = SHOWN[url]
    return (f"\n# {shown['title']}\n\nPublished at: **{shown['published_at']}**\n\n"
            f"Author: **{shown['author']}**\n\nOriginal: [Tengrinews.kz]({url})\n\n"
            + "\n".join(shown["body_lines"]) + "\n")


@pytest.fixture(scope="module")
def exported(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    conn = dbmod.connect(database_url)
    truncate_all(conn)  # module scope: the whole module shares one ingestion
    conn.close()
    env = {"NEWS_ETL_DATABASE_URL": database_url}
    with serve() as replica:
        for days in RUNS:
            run = news_etl("run", "tengrinews", *days, "--base-url", replica.base_url, env=env)
            assert run.returncode == 0, run.stdout + run.stderr
    out = tmp_path_factory.mktemp("seeds")
    export = news_etl("seeds", "export", str(out), "--source", "tengrinews", env=env)
    assert export.returncode == 0, export.stderr
    files = {}
    for path in sorted(out.iterdir()):
        text = path.read_bytes().decode("utf-8")
        url = text.split("\nOriginal: [", 1)[1].split("](", 1)[1].split(")\n", 1)[0]
        assert url not in files, url
        files[url] = text
    return files


def test_every_article_of_the_days_is_exported_once(exported):
    expected = {u for day in DAYS for u in MANIFEST["days"][day]["expected_loaded"]}
    assert set(exported) == expected
    assert any("/article/" in u for u in exported)  # long reads, found through /article/


@pytest.mark.parametrize("url", sorted({u for day in DAYS for u in MANIFEST["days"][day]["expected_loaded"]}),
                         ids=lambda u: u.rstrip("/").rsplit("-", 1)[1])
def test_every_field_of_the_seed_file_is_what_the_page_shows(exported, url):
    text = exported[url]
    assert text == seed_text(url)
    # The same in the hand-written terms, so a wrong builder cannot agree with a wrong parser.
    expected = BY_URL[url]
    assert f"\n# {expected.title}\n" in text and f"**{expected.published_at}**" in text
    assert f"Author: **{expected.author}**" in text
    body = text.split(")\n\n", 1)[1].removesuffix("\n").split("\n")
    assert (len(body), body[0], body[-1]) == (expected.paragraphs, expected.first, expected.last)
    assert not set(body) & set(SHOWN[url]["noise_lines"])


def test_the_sample_article_still_exports_byte_for_byte(exported):
    [sample] = [text for url, text in exported.items() if url.endswith("-383322/")]
    assert sample.encode("utf-8") == SAMPLE.read_bytes()
