"""The second and third sources (SteppeInfo, Caspian Wire) end to end, and adding a source by configuration.

Real PostgreSQL, real HTTP on loopback: each replica site (devtools/replica/sites/) is
served by ``devtools.replica.serve(site=...)`` and ingested through ``news_etl.pipeline.run``
with ``base_url`` pointing at it, exactly like ``news-etl run KEY --date D --base-url URL``.
Neither site has a day archive or selectors: discovery goes through feeds and sitemaps and the
article pages through JSON-LD / OpenGraph and the generic extractor. What each run must load is
written by hand in ``sites/<key>.expected.yaml``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg2
import pytest
import yaml
from news_etl import dedup, pipeline
from news_etl.sources import load_sources

from devtools.replica import SITES_DIR, SOURCES_FILE, serve

NEW_SOURCES = ("steppeinfo", "caspianwire")
EXPECTED = {key: yaml.safe_load((SITES_DIR / f"{key}.expected.yaml").read_text(encoding="utf-8"))
            for key in NEW_SOURCES}


@pytest.fixture(autouse=True)
def fast_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The replica's sources file with only the rate limits raised, as NEWS_ETL_SOURCES_FILE.

    Politeness is tested in test_fetch.py; at the configured 1-2 requests a second these runs
    would take minutes. Every other field is checked to be the replica file's own.
    """
    data = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))
    for entry in data["sources"]:
        entry["rate_limit_per_second"] = 50
    path = tmp_path / "sources-fast.yaml"  # a fresh path: load_sources caches by path
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    fast, configured = load_sources(path), load_sources(SOURCES_FILE)
    assert {k: replace(s, rate_limit_per_second=50) for k, s in configured.items()} == fast
    monkeypatch.setenv("NEWS_ETL_SOURCES_FILE", str(path))
    return path


@pytest.fixture(scope="module")
def replicas():
    with serve() as tengrinews, serve(site="steppeinfo") as steppeinfo, serve(site="caspianwire") as caspian:
        yield {"tengrinews": tengrinews, "steppeinfo": steppeinfo, "caspianwire": caspian}


def _rows(db_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def _articles(db_url: str, source_key: str) -> dict[str, tuple]:
    """Stored articles of a source by canonical URL: (title, published_at, author, body, source name)."""
    return {url: rest for url, *rest in _rows(db_url, """
        SELECT a.canonical_url, a.title, a.published_at, a.author, a.body, s.name
        FROM articles a JOIN sources s USING (source_key) WHERE a.source_key = %s""", (source_key,))}


def _outcomes(db_url: str, run_id: int) -> dict[str, str]:
    return dict(_rows(db_url, "SELECT url, outcome FROM run_urls WHERE run_id = %s", (run_id,)))


def _check_article(url: str, stored: tuple, expected: dict, source_name: str) -> None:
    title, published_at, author, body, name = stored
    assert name == source_name, url
    assert title == expected["title"], url
    assert published_at == expected["published_at"], url  # both aware: compared as instants
    assert published_at.utcoffset() is not None
    assert author == expected["author"], url
    paragraphs = body.split("\n")
    assert body.startswith(expected["starts"]), (url, paragraphs[0])
    assert body.endswith(expected["ends"]), (url, paragraphs[-1])
    assert len(paragraphs) == expected["paragraphs"], (url, paragraphs)


@pytest.mark.parametrize("key", NEW_SOURCES)
def test_each_day_loads_exactly_the_expected_articles_and_a_rerun_adds_nothing(db_url, replicas, key):
    expected = EXPECTED[key]
    source = load_sources()[key]
    assert not source.day_archive and not source.selectors  # feeds, sitemaps and generic extraction only
    days = sorted(expected["days"])
    for day in days:
        # min_articles=0: some days are empty on purpose (the floor has its own test in test_operations).
        summary = pipeline.run(db_url, key, day, base_url=replicas[key].base_url, min_articles=0)
        wanted = set(expected["days"][day])
        # Every URL discovered has exactly one outcome (check() enforces it), and all are new.
        assert _outcomes(db_url, summary.run_id) == dict.fromkeys(wanted, "new"), day
        assert summary.outcome_counts == ({"new": len(wanted)} if wanted else {}), day

    stored = _articles(db_url, key)
    by_url = {a["url"]: a for a in expected["articles"]}
    assert set(stored) == set(by_url) == {u for urls in expected["days"].values() for u in urls}
    for url, row in stored.items():
        _check_article(url, row, by_url[url], source.name)

    # The same days again, as one range run: every article is found again and nothing changes.
    again = pipeline.run(db_url, key, days[0], days[-1], base_url=replicas[key].base_url, min_articles=0)
    assert again.outcome_counts == {"unchanged": len(by_url)}
    assert _articles(db_url, key) == stored
    assert _rows(db_url, "SELECT count(*) FROM article_revisions")[0][0] == 0
    assert _rows(db_url, "SELECT count(*) FROM duplicates")[0][0] == 0


def test_reprint_of_a_tengrinews_article_is_a_cross_source_near_duplicate(db_url, replicas):
    reprint = EXPECTED["steppeinfo"]["reprint"]
    tengri = pipeline.run(db_url, "tengrinews", reprint["original_day"],
                          base_url=replicas["tengrinews"].base_url)
    assert _outcomes(db_url, tengri.run_id)[reprint["original"]] == "new"
    steppe = pipeline.run(db_url, "steppeinfo", date(2026, 4, 27), base_url=replicas["steppeinfo"].base_url)
    outcomes = _outcomes(db_url, steppe.run_id)
    assert outcomes.pop(reprint["url"]) == "duplicate_near"
    assert set(outcomes.values()) == {"new"}

    rows = _rows(db_url, """
        SELECT d.kind, d.similarity, d.source_key, copy.canonical_url, orig.canonical_url, orig.source_key,
               copy.body, orig.body
        FROM duplicates d JOIN articles copy ON copy.article_id = d.article_id
        JOIN articles orig ON orig.article_id = d.original_article_id""")
    assert len(rows) == 1
    kind, similarity, source_key, copy_url, original_url, original_source, copy_body, original_body = rows[0]
    assert (kind, source_key, copy_url) == ("near", "steppeinfo", reprint["url"])
    assert (original_url, original_source) == (reprint["original"], "tengrinews")
    assert similarity >= 0.9
    # The stored similarity is the exact Jaccard of the two stored bodies' word 3-shingles.
    exact = dedup.jaccard(dedup.shingles(copy_body), dedup.shingles(original_body))
    assert 0.9 <= exact < 1.0
    assert similarity == pytest.approx(exact, abs=1e-3)
    # The reprint is still stored as SteppeInfo's own article (near duplicates are linked, not dropped).
    assert reprint["url"] in _articles(db_url, "steppeinfo")


def test_a_source_added_by_configuration_only_is_ingested(db_url, replicas, tmp_path: Path, monkeypatch):
    # A new key for the Caspian Wire site, written next to a broken entry in a fresh sources file:
    # no code names "caspian_en", and the broken entry must not stop it.
    entries = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))["sources"]
    caspian = next(e for e in entries if e["key"] == "caspianwire")
    added = {**caspian, "key": "caspian_en", "name": "Caspian Wire (English desk)",
             "rate_limit_per_second": 20}
    broken = {"key": "broken_site", "name": "Broken", "base_url": "https://broken.example",
              "timezone": "Mars/Olympus_Mons", "discovery": {"feeds": ["/rss.xml"]}}
    sources_file = tmp_path / "sources-added.yaml"
    sources_file.write_text(yaml.safe_dump({"sources": [broken, added]}, allow_unicode=True),
                            encoding="utf-8")
    monkeypatch.setenv("NEWS_ETL_SOURCES_FILE", str(sources_file))

    assert "caspian_en" not in load_sources(SOURCES_FILE)
    assert list(load_sources()) == ["caspian_en"]  # the broken entry is skipped (and logged)

    summary = pipeline.run(db_url, "caspian_en", date(2026, 4, 27), base_url=replicas["caspianwire"].base_url)
    expected_urls = set(EXPECTED["caspianwire"]["days"][date(2026, 4, 27)])
    assert _outcomes(db_url, summary.run_id) == dict.fromkeys(expected_urls, "new")
    stored = _articles(db_url, "caspian_en")
    assert set(stored) == expected_urls
    by_url = {a["url"]: a for a in EXPECTED["caspianwire"]["articles"]}
    for url, row in stored.items():
        _check_article(url, row, by_url[url], "Caspian Wire (English desk)")
    assert _rows(db_url, "SELECT name, base_url FROM sources WHERE source_key = 'caspian_en'") == [
        ("Caspian Wire (English desk)", "https://caspianwire.example")]


@pytest.mark.parametrize(("key", "expected_paths"), [
    # Feed items and news-sitemap entries of the last two days (written by hand from the YAML).
    ("steppeinfo", {"/news/2026/04/26/v-akmolinskoy-oblasti-ukreplyayut-damby-pered-pavodkom/",
                    "/news/2026/04/26/v-ust-kamenogorske-vybrali-luchshiy-shkolnyy-orkestr/",
                    "/news/2026/04/27/v-taldykorgane-poyavyatsya-novye-velodorozhki/",
                    "/news/2026/04/27/fermery-zhambylskoy-oblasti-nachali-sev-saharnoy-svekly/",
                    "/news/2026/04/27/elektronnye-ocheredi-zarabotayut-vo-vseh-poliklinikah/",
                    "/news/2026/04/27/v-atyrau-zavershili-rekonstrukciyu-naberezhnoy-urala/",
                    "/news/2026/04/28/nochyu-v-almatinskoy-oblasti-proshel-silnyy-liven/",
                    "/news/2026/04/28/aeroport-shymkenta-zapustil-reysy-v-stambul/"}),
    # The six entries of the Atom feed (the sponsored partner entry is another site).
    ("caspianwire", {"/stories/20405/volunteers-count-caspian-seals-on-kazakh-coast/",
                     "/stories/20409/aktau-bus-routes-to-change-as-new-district-opens/",
                     "/stories/20412/kuryk-baku-ferry-service-resumes-after-storm/",
                     "/stories/20415/atyrau-refinery-to-halt-unit-for-repairs/",
                     "/stories/20419/mangystau-desalination-plant-expansion/",
                     "/stories/20423/first-caspian-wind-farm-gets-environmental-approval/"}),
])
def test_latest_run_reads_the_feed_and_news_sitemap(db_url, replicas, key, expected_paths):
    summary = pipeline.run(db_url, key, latest=True, base_url=replicas[key].base_url)
    origin = load_sources()[key].base_url
    assert _outcomes(db_url, summary.run_id) == {origin + p: "new" for p in expected_paths}


@pytest.mark.parametrize(("day", "sitemaps_read"), [
    # The index's pages sitemap (lastmod 2025-09-01) never lists anything of these days.
    (date(2026, 4, 26), ["/sitemap-news.xml", "/sitemap.xml", "/sitemap-posts-2026-04.xml"]),
    # The April posts sitemap was last changed on the 28th: nothing in it can be from the 29th.
    (date(2026, 4, 29), ["/sitemap-news.xml", "/sitemap.xml"]),
])
def test_sitemap_index_children_older_than_the_day_are_not_fetched(replicas, day, sitemaps_read):
    from news_etl.discover import discover_day
    from news_etl.fetch import Fetcher

    source = load_sources()["steppeinfo"]
    replica = replicas["steppeinfo"]
    replica.reset_requests()
    with Fetcher(source, base_url=replica.base_url, rate_limit_per_second=0) as fetcher:
        found = discover_day(fetcher, source, day)
    assert found.problems == []
    assert sorted(found.urls) == sorted(EXPECTED["steppeinfo"]["days"][day])
    assert [path for _, path, _ in replica.requests] == ["/robots.txt", "/rss.xml", *sitemaps_read]
