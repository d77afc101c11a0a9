"""Listing pages: a day's archive, and listings that run newest first across days.

A listing page is read with the source's ``discovery.listing`` selectors: each
``item`` gives one ``link`` and, when shown, one ``date``; ``pagination`` gives the
links to other pages. Only the items are articles of the listing: sidebars and
strips of other news (older tengrinews' ``div.tn-tape-item``) are outside them.

- A day archive is read whole: every page its pagination reaches under the same
  archive path (windowed pagination shows the neighbours of each page, so all are
  reached), never another day's archive.
- A dated listing (``/article/``: long reads, which a day archive may not list) is
  read page by page from its first page, taking the items dated on the day, until
  a page has nothing newer than the day. Its order is only roughly by date, so one
  older item does not stop the walk; a whole page of older ones does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup

from news_etl import settings
from news_etl.dates import DateParseError, parse_date
from news_etl.discover.collect import Discovery, Problem, UrlCollector, fetch_listing, problem_from
from news_etl.errors import Rejected
from news_etl.sources import Source

# Used for any selector a source does not configure: one <article> per item.
DEFAULT_LISTING = {"item": "article", "link": "a[href]", "date": "time",
                   "pagination": "ul.pagination li a[href]"}


@dataclass(frozen=True)
class ListingItem:
    href: str                # absolute, as linked
    date_text: str | None    # as shown, None when the item shows no date


@dataclass(frozen=True)
class Listing:
    items: list[ListingItem]
    pages: list[tuple[str, str]]  # pagination: (absolute URL without fragment, link text)


def read_listing(html: str, page_url: str, source: Source) -> Listing:
    """The items and pagination links of one listing page."""
    selectors = DEFAULT_LISTING | source.listing
    soup = BeautifulSoup(html, "lxml")
    items = []
    for block in soup.select(selectors["item"]):
        link = block.select_one(selectors["link"])
        if link is None:
            continue  # a placeholder or advertising slot in the list's markup, no article
        shown = block.select_one(selectors["date"])
        items.append(ListingItem(urljoin(page_url, link["href"].strip()),
                                 " ".join(shown.get_text(" ").split()) or None if shown else None))
    pages = [(urljoin(page_url, a["href"].strip()).split("#")[0], a.get_text(" ", strip=True))
             for a in soup.select(selectors["pagination"])]
    return Listing(items, pages)


def read_day_archive(fetcher, source: Source, day: date, found: Discovery, collector: UrlCollector) -> None:
    """Collect every article of the day's archive, across all its pages."""
    archive_path = source.day_archive.format(year=day.year, month=day.month, day=day.day)
    first = source.absolute_url(archive_path)
    queue, queued, read = [first], {first}, 0
    while queue and read < settings.MAX_LISTING_PAGES:
        url = queue.pop(0)
        if url == first:
            # Without its first page the day has nothing to work on: a transient fault is raised
            # (the run is retried whole), a rejection is a problem like any other page's.
            try:
                page = fetcher.fetch(url, kind="listing")
            except Rejected as exc:
                found.problems.append(problem_from(url, exc))
                continue
            found.add_page(page)
        else:
            page = fetch_listing(fetcher, url, found)
            if page is None:
                continue
        read += 1
        listing = read_listing(page.text, page.url, source)
        for item in listing.items:
            collector.add(item.href, page.url)
        for nxt, _text in listing.pages:
            if nxt not in queued and source.owns_url(nxt) and urlsplit(nxt).path.startswith(archive_path):
                queued.add(nxt)
                queue.append(nxt)
    if queue:
        found.problems.append(Problem(first, "too_many_listing_pages",
                                      f"stopped after {settings.MAX_LISTING_PAGES} pages"))


def read_dated_listing(fetcher, source: Source, path: str, day: date, found: Discovery,
                       collector: UrlCollector) -> None:
    """Collect the items of a newest-first listing that are dated on ``day``."""
    zone = ZoneInfo(source.timezone)
    first = source.absolute_url(path)
    url: str | None = first
    number = 1
    while url is not None:
        if number > settings.MAX_LISTING_PAGES:
            found.problems.append(Problem(first, "too_many_listing_pages",
                                          f"stopped after {settings.MAX_LISTING_PAGES} pages"))
            return
        page = fetch_listing(fetcher, url, found)
        if page is None:
            return  # the pages after it cannot be reached without it
        listing = read_listing(page.text, page.url, source)
        reaches_day = False
        for item in listing.items:
            known = collector.identify(item.href, page.url)
            if known is None:
                continue
            try:  # relative dates ("Сегодня", "Вчера, 14:05") count from the page's fetch time
                shown = parse_date(item.date_text or "", tz=source.timezone, languages=[source.language],
                                   now=page.fetched_at).astimezone(zone).date()
            except DateParseError:
                found.problems.append(Problem(known[1], "undated_listing_item",
                                              f"{page.url}: no date in {item.date_text!r}"))
                continue
            if shown == day:
                collector.add(item.href, page.url)
            reaches_day = reaches_day or shown >= day
        if not reaches_day:
            return  # a whole page older than the day: the rest of the listing is older still
        number += 1
        url = next((nxt for nxt, text in listing.pages
                    if text == str(number) and source.owns_url(nxt) and urlsplit(nxt).path.startswith(path)),
                   None)
