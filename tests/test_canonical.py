"""Canonical URLs and article ids: one spelling per Tengrinews article."""

from __future__ import annotations

import pytest
from news_etl.canonical import canonical_url
from news_etl.sources import get_source

SOURCE = get_source("tengrinews")
SAMPLE = "https://tengrinews.kz/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/"

CASES = [
    (SAMPLE, SAMPLE),
    (SAMPLE.replace("https:", "http:"), SAMPLE),
    ("https://www.tengrinews.kz/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322",
     SAMPLE),
    ("https://m.tengrinews.kz/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/"
     "?utm_source=telegram&utm_medium=social#comments", SAMPLE),
    ("HTTPS://WWW.TENGRINEWS.KZ/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/",
     SAMPLE),
    ("https://tengrinews.kz", "https://tengrinews.kz/"),
    ("https://tengrinews.kz/news.rss", "https://tengrinews.kz/news.rss"),  # a file keeps its name
    ("https://tengrinews.kz/news/2019/11/05/page/2/?ref=x", "https://tengrinews.kz/news/2019/11/05/page/2/"),
    ("https://tengrinews.kz/tag/алматы/", "https://tengrinews.kz/tag/%D0%B0%D0%BB%D0%BC%D0%B0%D1%82%D1%8B/"),
    ("https://tengrisport.kz/football/match-12345/", "https://tengrisport.kz/football/match-12345/"),
    ("https://www.example.com/a?b=c", "https://example.com/a/"),
    ("https://www.co/", "https://www.co/"),  # "www." is only dropped when a real host remains
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent


def test_relative_and_source_hosts_with_a_source():
    assert canonical_url("/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/",
                         SOURCE) == SAMPLE
    assert canonical_url("kazakhstan_news/x-1", SOURCE) == "https://tengrinews.kz/kazakhstan_news/x-1/"


def test_relative_without_a_source_is_an_error():
    with pytest.raises(ValueError):
        canonical_url("/kazakhstan_news/x-1/")


IDS = [
    (SAMPLE, "383322"),
    ("https://tengrinews.kz/events/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/", "383322"),
    ("https://www.tengrinews.kz/world_news/vyiboryi-v-ssha-383320/", "383320"),
    ("https://tengrinews.kz/crime/383001/", "383001"),
    ("https://tengrinews.kz/kazakhstan_news/", None),             # a section
    ("https://tengrinews.kz/news/2019/11/05/", None),             # a day archive
    ("https://tengrinews.kz/news/2019/11/05/page/2/", None),
    ("https://tengrisport.kz/football/match-383322/", None),      # sister site: not this source
    ("https://tengriauto.kz/news/novyiy-avtosalon-5678/", None),
]


@pytest.mark.parametrize(("url", "article_id"), IDS)
def test_article_id(url, article_id):
    assert SOURCE.article_id(canonical_url(url)) == article_id
