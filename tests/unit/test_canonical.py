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
    # The AMP variant every page links (rel=amphtml) is the same article.
    (SAMPLE + "amp/", SAMPLE),
    (SAMPLE + "amp", SAMPLE),
    ("https://m.tengrinews.kz/article/55-detey-kak-jivet-samaya-mnogodetnaya-semya-kazahstana-2312/amp/?utm_x=1",
     "https://tengrinews.kz/article/55-detey-kak-jivet-samaya-mnogodetnaya-semya-kazahstana-2312/"),
    ("https://tengrinews.kz/amp/", "https://tengrinews.kz/amp/"),  # a page named "amp" is not a variant
    ("https://tengrinews.kz/usa/trampamp-556001/", "https://tengrinews.kz/usa/trampamp-556001/"),
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
    ("https://tengritravel.kz/around-the-world/talgo-487991/", None),
    ("https://kaz.tengrinews.kz/kazakhstan_news/kazaksha-383322/", None),  # the Kazakh and English
    ("https://en.tengrinews.kz/kazakhstan_news/english-383322/", None),    # editions are other sources
    # Every section numbers its news in one sequence ...
    ("https://tengrinews.kz/news/preduprejdaem-antikor-obratilsya-k-kazahstantsam-550643/", "550643"),
    ("https://tengrinews.kz/mixnews/neobyichnaya-nahodka-550610/", "550610"),
    ("https://tengrinews.kz/curious/lyubopytnyiy-fakt-550611/", "550611"),
    ("https://tengrinews.kz/usa/vyiboryi-550612/", "550612"),
    ("https://tengrinews.kz/europe/sammit-550613/", "550613"),
    ("https://tengrinews.kz/sng/vstrecha-550614/", "550614"),
    ("https://tengrinews.kz/asia/taifun-550615/", "550615"),
    ("https://tengrinews.kz/near_east/peregovoryi-550616/", "550616"),
    # ... long reads in their own, small one: a kind of their own, whatever the link's spelling.
    ("https://tengrinews.kz/article/55-detey-kak-jivet-samaya-mnogodetnaya-semya-kazahstana-2312/",
     "article:2312"),
    ("https://tengrinews.kz/article/55-detey-kak-jivet-samaya-mnogodetnaya-semya-kazahstana-2312/amp/",
     "article:2312"),
    ("https://tengrinews.kz/article/page/2/", None),              # the long reads' listing
    ("https://tengrinews.kz/news/page/9375/", None),
]


@pytest.mark.parametrize(("url", "article_id"), IDS)
def test_article_id(url, article_id):
    assert SOURCE.article_id(canonical_url(url)) == article_id


def test_a_long_read_and_a_news_item_with_the_same_number_are_two_articles():
    long_read = SOURCE.article_id(canonical_url("/article/byitovoe-nasilie-kazahstane-2324/", SOURCE))
    news = SOURCE.article_id(canonical_url("/kazakhstan_news/staraya-novost-2324/", SOURCE))
    assert news == "2324" and long_read == "article:2324"
