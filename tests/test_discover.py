"""Discovery over loopback: every page of a day archive, the RSS feed, only this source's articles."""

from __future__ import annotations

from datetime import date

import pytest
from _loopback import ALLOW_ALL, Loopback, html
from news_etl.discover import discover_day, discover_latest
from news_etl.errors import RetryableFailure
from news_etl.fetch import Fetcher
from news_etl.sources import get_source

SOURCE = get_source("tengrinews")
DAY = "/news/2019/11/05/"


def item(href: str, title: str = "Заголовок") -> str:
    return (f'<div class="content_main_item"><span class="content_main_item_title">'
            f'<a href="{href}">{title}</a></span>'
            f'<div class="content_main_item_meta"><span>5 ноября 2019 13:15</span></div></div>')


def pagination(*hrefs: str) -> str:
    return '<ul class="pagination">' + "".join(f'<li><a href="{h}">{n}</a></li>'
                                               for n, h in enumerate(hrefs, 1)) + "</ul>"


PAGE1 = ("<html><body>"
         + item("/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/")
         + item("https://www.tengrinews.kz/world_news/vyiboryi-v-ssha-383320/?utm_source=main")
         + item("https://tengrisport.kz/football/match-383321/")  # sister site: another source
         + item("/kazakhstan_news/")  # a section, not an article
         + '<div class="tn-tape-item"><a href="https://m.tengrinews.kz/crime/zaderjan-383318/">x</a></div>'
         + pagination(DAY, f"{DAY}page/2/", f"{DAY}page/3/", "/news/2019/11/04/")
         + "</body></html>")
PAGE2 = ("<html><body>"
         + item("/world_news/vyiboryi-v-ssha-383320/")  # same id again
         + item("/events/vyiboryi-v-ssha-povtor-383320/")  # same id under another section
         + '<a class="tn-link" href="/science/kosmos-383310/#comments">old markup</a>'
         + pagination(DAY, f"{DAY}page/2/", f"{DAY}page/3/")
         + "</body></html>")
PAGE3 = ("<html><body>" + item("/market/tenge-383301/") + pagination(DAY, f"{DAY}page/2/") + "</body></html>")
OTHER_DAY = "<html><body>" + item("/market/drugoy-den-383200/") + "</body></html>"

EXPECTED_DAY = [
    "https://tengrinews.kz/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/",
    "https://tengrinews.kz/world_news/vyiboryi-v-ssha-383320/",
    "https://tengrinews.kz/crime/zaderjan-383318/",
    "https://tengrinews.kz/science/kosmos-383310/",
    "https://tengrinews.kz/market/tenge-383301/",
]


def fetcher(lb: Loopback) -> Fetcher:
    return Fetcher(SOURCE, base_url=lb.base_url, rate_limit_per_second=0, backoff_factor=0.01,
                   backoff_jitter=0, max_retries=1)


def test_day_archive_all_pages_one_url_per_article_id():
    routes = {"/robots.txt": ALLOW_ALL, DAY: html(PAGE1), f"{DAY}page/2/": html(PAGE2),
              f"{DAY}page/3/": html(PAGE3), "/news/2019/11/04/": html(OTHER_DAY)}
    with Loopback(routes) as lb, fetcher(lb) as f:
        found = discover_day(f, SOURCE, date(2019, 11, 5))
    assert found.urls == EXPECTED_DAY
    assert [p.url for p in found.pages] == [f"https://tengrinews.kz{DAY}", f"https://tengrinews.kz{DAY}page/2/",
                                            f"https://tengrinews.kz{DAY}page/3/"]
    assert found.problems == []
    assert "/news/2019/11/04/" not in lb.paths()  # another day's archive is not followed
    assert sorted(lb.paths()) == sorted(["/robots.txt", DAY, f"{DAY}page/2/", f"{DAY}page/3/"])


def test_broken_listing_page_is_a_problem_not_the_end():
    routes = {"/robots.txt": ALLOW_ALL, DAY: html(PAGE1), f"{DAY}page/2/": html("gone", status=404),
              f"{DAY}page/3/": html(PAGE3)}
    with Loopback(routes) as lb, fetcher(lb) as f:
        found = discover_day(f, SOURCE, date(2019, 11, 5))
    assert found.urls == [EXPECTED_DAY[i] for i in (0, 1, 2, 4)]
    [problem] = found.problems
    assert (problem.stage, problem.reason) == ("discover", "http_404")
    assert problem.url == f"https://tengrinews.kz{DAY}page/2/"


def test_unreachable_day_archive_is_retryable():
    routes = {"/robots.txt": ALLOW_ALL, DAY: html("down", status=503)}
    with Loopback(routes) as lb, fetcher(lb) as f, pytest.raises(RetryableFailure):
        discover_day(f, SOURCE, date(2019, 11, 5))


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Tengrinews.kz</title><link>https://tengrinews.kz/</link>
<item><title>Первая</title><link>https://tengrinews.kz/kazakhstan_news/pervaya-novost-600001/</link></item>
<item><title>Спорт</title><link>https://tengrisport.kz/football/match-600002/</link></item>
<item><title>Вторая</title><link>https://tengrinews.kz/world_news/vtoraya-600003/?utm_source=rss</link></item>
<item><title>Вторая снова</title><link>https://tengrinews.kz/events/vtoraya-600003/</link></item>
</channel></rss>"""


def test_latest_reads_the_feed():
    feed = lambda _r: (200, {"Content-Type": "application/rss+xml; charset=utf-8"}, FEED.encode())  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, "/news.rss": feed}) as lb, fetcher(lb) as f:
        found = discover_latest(f, SOURCE)
    assert found.urls == ["https://tengrinews.kz/kazakhstan_news/pervaya-novost-600001/",
                          "https://tengrinews.kz/world_news/vtoraya-600003/"]
    assert [p.url for p in found.pages] == ["https://tengrinews.kz/news.rss"]


def test_unsafe_feed_is_a_problem():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<rss><channel><title>&b;</title></channel></rss>")
    feed = lambda _r: (200, {"Content-Type": "application/rss+xml"}, bomb)  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, "/news.rss": feed}) as lb, fetcher(lb) as f:
        found = discover_latest(f, SOURCE)
    assert found.urls == [] and found.pages == []
    [problem] = found.problems
    assert (problem.stage, problem.reason) == ("discover", "unsafe_feed")
