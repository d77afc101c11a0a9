"""Whole days of the replica through discover → fetch → parse, over real HTTP on loopback.

Checks that the replica's published contract (site/manifest.json and README.md) holds for the
project's fetcher and discovery: every day discovers exactly its articles, the expected ones
load and parse to the hand-written records, and every faulty URL ends rejected or failed.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from news_etl.errors import Rejected, RetryableFailure
from news_etl.sources import get_source
from support.replica_expected import BY_URL

from devtools.replica import SITE_DIR, serve

fetch = pytest.importorskip("news_etl.fetch")
discover = pytest.importorskip("news_etl.discover")
parse = pytest.importorskip("news_etl.parse")

MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fetcher():
    source = get_source("tengrinews")
    with serve() as replica:
        replica.slow_seconds = 0.2
        # No rate limit and tiny backoffs: politeness is tested elsewhere, here only outcomes.
        with fetch.Fetcher(source, base_url=replica.base_url, rate_limit_per_second=0,
                           backoff_factor=0.01, backoff_jitter=0, retry_after_max=1) as f:
            yield f


@pytest.mark.parametrize("day", sorted(MANIFEST["days"]))
def test_whole_day_meets_the_manifest(fetcher, day):
    source = get_source("tengrinews")
    entry = MANIFEST["days"][day]
    found = discover.discover_day(fetcher, source, date.fromisoformat(day))
    failing = {x["url"] for x in entry["expected_not_loaded"]}
    assert found.problems == []
    assert sorted(found.urls) == sorted(entry["expected_loaded"] + list(failing))
    loaded, refused = set(), set()
    for url in found.urls:
        try:
            page = fetcher.fetch(url)
            article = parse.parse_article(page.text, url=page.url, source=source, fetched_at=page.fetched_at)
        except (Rejected, RetryableFailure):
            refused.add(url)
            continue
        loaded.add(url)
        expected = BY_URL[url]
        assert (article.title, article.published_at, article.author) == (
            expected.title, expected.published, expected.author)
        assert article.body.split("\n")[0] == expected.first
    assert loaded == set(entry["expected_loaded"])
    assert refused == failing


def test_feed_and_hostile_feeds(fetcher):
    source = get_source("tengrinews")
    latest = discover.discover_latest(fetcher, source)
    assert sorted(latest.urls) == sorted(MANIFEST["feeds"]["/news.rss"]["expected_loaded"])
    for path in ("/rss/billion-laughs.rss", "/rss/xxe.rss"):
        with pytest.raises(Rejected):
            fetcher.fetch("https://tengrinews.kz" + path, kind="feed")
