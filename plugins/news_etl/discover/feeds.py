"""Feeds and sitemaps: articles placed on a day by the dates their listings give.

A local day's articles are the entries of the source's RSS/Atom feeds and
sitemaps whose publication date falls on that day in the source's zone. Each
article is placed by the best date any listing gives for it:

1. ``<news:publication_date>`` of a news sitemap (the publication time, by definition);
2. the feed entry's ``published`` (or ``updated`` when that is all it has);
3. a sitemap's ``<lastmod>``, used only for articles no feed or news sitemap dates:
   it is the time of the last change, so an article edited the next day would
   otherwise be listed under the wrong day.

Feeds hold only the newest items and news sitemaps the last two days, so older
days come from the plain sitemaps. Sitemap indexes are followed (the fetcher
keeps every request on the source's hosts), skipping child sitemaps whose
``<lastmod>`` predates the day: they cannot list anything published on it.
Without a day (``discover_latest``) only feed and news-sitemap entries are taken.

Feeds and sitemaps are fetched as ``kind="feed"``, so the fetcher's guard refuses
entity-laden XML before anything parses it; sitemaps are then read with
defusedxml and feeds with feedparser, from the bytes fetched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser
from defusedxml import ElementTree as SafeElementTree

from news_etl import settings
from news_etl.dates import DateParseError, parse_date
from news_etl.discover.collect import Discovery, Problem, UrlCollector, fetch_listing
from news_etl.page import Page
from news_etl.sources import Source

# How sure a listing is of an article's publication time (lower is better).
NEWS_SITEMAP, FEED, LASTMOD = 0, 1, 2


@dataclass
class _Dated:
    published: datetime | None  # aware UTC
    rank: int
    recent: bool                # listed by a feed or a news sitemap (what discover_latest reads)


class _Entries:
    """The collected articles, each with the best date any listing gave it."""

    def __init__(self, source: Source) -> None:
        self.collector = UrlCollector(source)
        self.dated: dict[str, _Dated] = {}

    def add(self, href: str, base: str, published: datetime | None, rank: int) -> None:
        key = self.collector.add(href, base)
        if key is None:
            return
        recent = rank < LASTMOD
        known = self.dated.get(key)
        if known is None:
            self.dated[key] = _Dated(published, rank if published else LASTMOD + 1, recent)
            return
        known.recent = known.recent or recent
        if published is not None and rank < known.rank:
            known.published, known.rank = published, rank


def _local_name(tag: object) -> str:
    """``{namespace}name`` → ``name`` (sitemaps are written with and without their namespace)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local_name(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _w3c_date(text: str | None, source: Source) -> datetime | None:
    """A sitemap's W3C datetime (or bare date, taken as local midnight) as aware UTC."""
    if not text:
        return None
    try:
        return parse_date(text, tz=source.timezone, languages=[source.language])
    except DateParseError:
        return None


def _feed_date(entry) -> datetime | None:
    """The entry's publication time as feedparser read it (UTC).

    feedparser has already parsed RFC 822 / Atom dates, with their stated
    zone ("GMT", "+0000"), into UTC: nothing is left to parse.
    """
    for key in ("published_parsed", "created_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime(*value[:6], tzinfo=UTC)
    return None


def _read_feed(page: Page, entries: _Entries, found: Discovery) -> None:
    parsed = feedparser.parse(page.body, response_headers={"content-type": page.content_type})
    if parsed.bozo and not parsed.entries:
        found.problems.append(Problem(page.url, "bad_feed", f"{page.url}: {parsed.bozo_exception}"))
        return
    for entry in parsed.entries:
        link = entry.get("link") or entry.get("id")
        if link:
            entries.add(link, page.url, _feed_date(entry), FEED)


def _read_sitemap(page: Page, entries: _Entries, source: Source, day_start: datetime | None,
                  found: Discovery) -> list[str]:
    """Add the URLs of a sitemap; return the child sitemaps of a sitemap index worth reading."""
    try:
        root = SafeElementTree.fromstring(page.body)
    except SafeElementTree.ParseError as exc:
        found.problems.append(Problem(page.url, "bad_sitemap", f"{page.url}: {exc}"))
        return []
    kind = _local_name(root.tag)
    if kind == "sitemapindex":
        children = []
        for item in root:
            loc = _child_text(item, "loc")
            modified = _w3c_date(_child_text(item, "lastmod"), source)
            if loc and not (day_start and modified and modified < day_start):
                children.append(urljoin(page.url, loc))
        return children
    if kind != "urlset":
        found.problems.append(Problem(page.url, "bad_sitemap",
                                      f"{page.url}: root element <{kind}> is not a sitemap"))
        return []
    for item in root:
        loc = _child_text(item, "loc")
        if not loc:
            continue
        news = next((c for c in item if _local_name(c.tag) == "news"), None)
        published = _w3c_date(_child_text(news, "publication_date"), source) if news is not None else None
        if published is not None:
            entries.add(loc, page.url, published, NEWS_SITEMAP)
        elif day_start is not None:  # a plain sitemap only helps to place a given day
            entries.add(loc, page.url, _w3c_date(_child_text(item, "lastmod"), source), LASTMOD)
    return []


def discover_from_feeds(fetcher, source: Source, day: date | None, keep_page=None) -> Discovery:
    """The articles the source's feeds and sitemaps date to local ``day`` (None: the latest ones).

    URLs are canonical, one per article identity, newest first. A feed or sitemap
    that cannot be read is a problem in the result; the others are still used.
    """
    zone = ZoneInfo(source.timezone)
    day_start = datetime.combine(day, time(0), zone).astimezone(UTC) if day else None
    found = Discovery(keep_page=keep_page)
    entries = _Entries(source)
    for feed_path in source.feeds:
        page = fetch_listing(fetcher, source.absolute_url(feed_path), found, kind="feed")
        if page is not None:
            _read_feed(page, entries, found)
    queue = [source.absolute_url(path) for path in source.sitemaps]
    seen: set[str] = set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        if len(seen) >= settings.MAX_SITEMAPS:
            found.problems.append(
                Problem(url, "too_many_sitemaps", f"stopped after {settings.MAX_SITEMAPS} sitemaps"))
            break
        seen.add(url)
        page = fetch_listing(fetcher, url, found, kind="feed")
        if page is not None:
            queue.extend(_read_sitemap(page, entries, source, day_start, found))

    listed = [(n, url, entries.dated[key]) for n, (key, url) in enumerate(entries.collector.items())]
    if day is not None:
        # Undated entries cannot be placed on a day; they are still found by discover_latest.
        listed = [e for e in listed
                  if e[2].published is not None and e[2].published.astimezone(zone).date() == day]
    else:
        listed = [e for e in listed if e[2].recent]
    epoch = datetime.min.replace(tzinfo=UTC)
    listed.sort(key=lambda e: (-(e[2].published or epoch).timestamp(), e[0]))  # newest first, then as found
    found.urls = [url for _n, url, _dated in listed]
    return found
