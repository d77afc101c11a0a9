"""Discovery over loopback: every page of a day archive, the RSS feed, only this source's articles."""

from __future__ import annotations

from datetime import date

import pytest
from news_etl.discover import discover_day, discover_latest
from news_etl.errors import RetryableFailure
from news_etl.fetch import Fetcher
from news_etl.sources import get_source
from support.loopback import ALLOW_ALL, Loopback, html

SOURCE = get_source("tengrinews")
DAY = "/news/2019/11/05/"


def item(href: str, title: str = "Заголовок", shown: str = "5 ноября 2019 13:15") -> str:
    return (f'<div class="content_main_item"><a href="{href}"><img src="/x.jpg"></a>'
            f'<span class="content_main_item_title"><a href="{href}">{title}</a></span>'
            f'<div class="content_main_item_meta"><span>{shown}</span><span>1500</span></div></div>')


def older_item(href: str, shown: str = "05 ноября 2019, 13:15") -> str:
    return (f'<div class="tn-news-author-list-item"><span class="tn-news-author-list-title">Заголовок</span>'
            f'<ul class="tn-data-list"><li><time>{shown}</time></li></ul>'
            f'<a class="tn-link" href="{href}"><span class="tn-hidden">Заголовок</span></a></div>')


def pagination(*hrefs: str) -> str:
    return '<ul class="pagination">' + "".join(
        f'<li class="page-item"><a class="page-link" href="{h}">{n}</a></li>' for n, h in enumerate(hrefs, 1)
    ) + "</ul>"


# The older markup's sidebar of other days' news: never the day's articles.
SIDEBAR = ('<aside><div class="tn-tape-item"><a class="tn-tape-title" href="/crime/vchera-383100/">x</a>'
           '<ul class="tn-data-list"><li><time>Вчера, 14:05</time></li></ul></div></aside>')
PAGE1 = ("<html><body>"
         + item("/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/")
         + item("https://www.tengrinews.kz/world_news/vyiboryi-v-ssha-383320/?utm_source=main")
         + item("https://tengrisport.kz/football/match-383321/")  # sister site: another source
         + item("https://kaz.tengrinews.kz/kazakhstan_news/kazaksha-383319/")  # the Kazakh edition too
         + item("/kazakhstan_news/")  # a section, not an article
         + item("https://m.tengrinews.kz/crime/zaderjan-383318/amp/")  # the AMP variant of an article
         + SIDEBAR
         + pagination(DAY, f"{DAY}page/2/", f"{DAY}page/3/", "/news/2019/11/04/")
         + "</body></html>")
PAGE2 = ("<html><body>"
         + item("/world_news/vyiboryi-v-ssha-383320/")  # same id again
         + item("/events/vyiboryi-v-ssha-povtor-383320/")  # same id under another section
         + older_item("/science/kosmos-383310/#comments")
         + SIDEBAR
         + pagination(DAY, f"{DAY}page/2/", f"{DAY}page/3/")
         + "</body></html>")
PAGE3 = ("<html><body>" + item("/market/tenge-383301/") + pagination(DAY, f"{DAY}page/2/") + "</body></html>")
OTHER_DAY = "<html><body>" + item("/market/drugoy-den-383200/") + "</body></html>"
NO_LONG_READS = html("<html><body>" + item("/article/staraya-statya-2100/", shown="01 ноября 2019 08:00")
                     + "</body></html>")

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
              f"{DAY}page/3/": html(PAGE3), "/news/2019/11/04/": html(OTHER_DAY), "/article/": NO_LONG_READS}
    with Loopback(routes) as lb, fetcher(lb) as f:
        found = discover_day(f, SOURCE, date(2019, 11, 5))
    assert found.urls == EXPECTED_DAY
    assert [p.url for p in found.pages] == [f"https://tengrinews.kz{DAY}", f"https://tengrinews.kz{DAY}page/2/",
                                            f"https://tengrinews.kz{DAY}page/3/", "https://tengrinews.kz/article/"]
    assert found.problems == []
    assert "/news/2019/11/04/" not in lb.paths()  # another day's archive is not followed
    assert sorted(lb.paths()) == sorted(["/robots.txt", DAY, f"{DAY}page/2/", f"{DAY}page/3/", "/article/"])


def test_broken_listing_page_is_a_problem_not_the_end():
    routes = {"/robots.txt": ALLOW_ALL, DAY: html(PAGE1), f"{DAY}page/2/": html("gone", status=404),
              f"{DAY}page/3/": html(PAGE3), "/article/": NO_LONG_READS}
    with Loopback(routes) as lb, fetcher(lb) as f:
        found = discover_day(f, SOURCE, date(2019, 11, 5))
    assert found.urls == [EXPECTED_DAY[i] for i in (0, 1, 2, 4)]
    [problem] = found.problems
    assert (problem.stage, problem.reason, problem.outcome) == ("discover", "http_404", "rejected")
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


def windowed(current: int, last: int, base: str = "/article/") -> str:
    """The real site's pagination: neighbours of the current page, "•", the last page, next."""
    link = lambda n: base if n == 1 else f"{base}page/{n}/"  # noqa: E731
    shown = [n for n in range(1, last + 1) if abs(n - current) <= 2 or n in (1, last)]
    items = []
    for n in shown:
        if items and n - int(items[-1][1]) > 1:
            items.append((None, "•"))
        items.append((None if n == current else link(n), str(n)))
    items.append((link(current + 1) if current < last else None, ""))
    return '<ul class="pagination">' + "".join(
        f'<li class="page-item"><a class="page-link" href="{href}">{text}</a></li>' if href
        else f'<li class="page-item"><span>{text}</span></li>' for href, text in items) + "</ul>"


# /article/ newest first, only roughly in date order; page 4 is never needed for 5 November.
LONG_READS = {
    "/article/": [("/article/noyabrskaya-2410/", "06 ноября 2019 09:00"),
                  ("/article/utrom-pyatogo-2409/", "05 ноября 2019 07:30"),
                  ("https://tengrinews.kz/article/pozdno-vecherom-2408/amp/", "05 ноября 2019 23:40")],
    "/article/page/2/": [("/article/chetvertogo-2407/", "04 ноября 2019 18:00"),
                         ("/article/opozdavshaya-2405/", "05 ноября 2019 06:10"),  # after an older one
                         ("https://tengritravel.kz/article/puteshestvie-2404/", "05 ноября 2019 10:00")],
    "/article/page/3/": [("/article/tretego-2403/", "03 ноября 2019 10:00"),
                         ("/article/vtorogo-2402/", "02 ноября 2019 10:00")],
    "/article/page/4/": [("/article/pervogo-2401/", "01 ноября 2019 10:00")],
}


def long_read_routes() -> dict:
    routes = {}
    for n, (path, entries) in enumerate(LONG_READS.items(), 1):
        routes[path] = html("<html><body>" + "".join(item(h, shown=d) for h, d in entries)
                            + windowed(n, 7) + SIDEBAR + "</body></html>")
    return routes


def test_long_reads_of_the_day_are_read_from_their_listing_until_it_is_older():
    # The news id 2405 of the archive and the long read 2405 are two articles.
    day_page = "<html><body>" + item("/kazakhstan_news/novost-s-tem-zhe-nomerom-2405/") + "</body></html>"
    routes = {"/robots.txt": ALLOW_ALL, DAY: html(day_page), **long_read_routes()}
    with Loopback(routes) as lb, fetcher(lb) as f:
        found = discover_day(f, SOURCE, date(2019, 11, 5))
    assert found.urls == ["https://tengrinews.kz/kazakhstan_news/novost-s-tem-zhe-nomerom-2405/",
                          "https://tengrinews.kz/article/utrom-pyatogo-2409/",
                          "https://tengrinews.kz/article/pozdno-vecherom-2408/",
                          "https://tengrinews.kz/article/opozdavshaya-2405/"]
    assert found.problems == []
    assert lb.paths() == ["/robots.txt", DAY, "/article/", "/article/page/2/", "/article/page/3/"]


def test_an_older_day_pages_further_and_a_newer_day_stops_at_once():
    routes = {"/robots.txt": ALLOW_ALL, "/news/2019/11/02/": html("<html><body></body></html>"),
              "/news/2019/11/07/": html("<html><body></body></html>"), **long_read_routes()}
    with Loopback(routes) as lb, fetcher(lb) as f:
        older = discover_day(f, SOURCE, date(2019, 11, 2))
        newer = discover_day(f, SOURCE, date(2019, 11, 7))
    assert older.urls == ["https://tengrinews.kz/article/vtorogo-2402/"]
    assert newer.urls == []
    assert lb.paths() == ["/robots.txt", "/news/2019/11/02/", "/article/", "/article/page/2/",
                          "/article/page/3/", "/article/page/4/", "/news/2019/11/07/", "/article/"]


def test_a_long_read_without_a_date_and_an_unreachable_listing_are_problems():
    undated = html("<html><body>" + item("/article/bez-daty-2411/", shown="") + "</body></html>")
    day_page = html("<html><body>" + item("/market/tenge-383301/") + "</body></html>")
    routes = {"/robots.txt": ALLOW_ALL, DAY: day_page, "/article/": undated}
    with Loopback(routes) as lb, fetcher(lb) as f:
        found = discover_day(f, SOURCE, date(2019, 11, 5))
        lb.routes["/article/"] = html("busy", status=503)
        busy = discover_day(f, SOURCE, date(2019, 11, 5))
    assert found.urls == busy.urls == ["https://tengrinews.kz/market/tenge-383301/"]
    [problem] = found.problems
    assert (problem.url, problem.reason, problem.outcome) == (
        "https://tengrinews.kz/article/bez-daty-2411/", "undated_listing_item", "rejected")
    [problem] = busy.problems
    assert (problem.url, problem.reason, problem.outcome) == (
        "https://tengrinews.kz/article/", "http_503", "failed")
