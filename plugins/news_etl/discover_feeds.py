"""Discovery through feeds and sitemaps, for sources that have no day archive.

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
Without a day (``--latest``) only feed and news-sitemap entries are taken.

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

from news_etl.canonical import canonical_url
from news_etl.dates import DateParseError, parse_date
from news_etl.discover import Discovery, _problem
from news_etl.errors import Rejected, RetryableFailure
from news_etl.sources import Source

MAX_SITEMAPS = 50  # sitemap files read per discovery (indexes included): a bound on a runaway index

# How sure a listing is of an article's publication time (lower is better).
NEWS_SITEMAP, FEED, LASTMOD = 0, 1, 2


@dataclass
class _Entry:
    url: str
    published: datetime | None  # aware UTC
    rank: int
    order: int                  # first-seen position, a stable tie-break
    recent: bool                # listed by a feed or a news sitemap (what --latest reads)


class _Entries:
    """Article URLs of one source, one per article id, each with its best-known date."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.by_id: dict[str, _Entry] = {}

    def add(self, href: str, base: str, published: datetime | None, rank: int) -> None:
        try:
            url = canonical_url(urljoin(base, href.strip()), self.source)
        except ValueError:
            return
        if not self.source.owns_url(url):
            return  # a partner site's link in the feed is another source
        # A source that numbers its articles is keyed by that id; otherwise the canonical URL is the id.
        key = self.source.article_id(url) if self.source.article_url_pattern else url
        if key is None:
            return  # section, tag or static page listed in a sitemap
        recent = rank < LASTMOD
        known = self.by_id.get(key)
        if known is None:
            self.by_id[key] = _Entry(url, published, rank if published else LASTMOD + 1, len(self.by_id),
                                     recent)
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


def _read_feed(page, entries: _Entries, found: Discovery) -> None:
    parsed = feedparser.parse(page.body, response_headers={"content-type": page.content_type})
    if parsed.bozo and not parsed.entries:
        problem = Rejected("discover", "bad_feed", str(parsed.bozo_exception))
        found.problems.append(_problem(page.url, problem))
        return
    for entry in parsed.entries:
        link = entry.get("link") or entry.get("id")
        if link:
            entries.add(link, page.url, _feed_date(entry), FEED)


def _read_sitemap(page, entries: _Entries, source: Source, day_start: datetime | None,
                  found: Discovery) -> list[str]:
    """Add the URLs of a sitemap; return the child sitemaps of a sitemap index worth reading."""
    try:
        root = SafeElementTree.fromstring(page.body)
    except SafeElementTree.ParseError as exc:
        found.problems.append(_problem(page.url, Rejected("discover", "bad_sitemap", str(exc))))
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
        found.problems.append(_problem(page.url, Rejected("discover", "bad_sitemap",
                                                          f"root element <{kind}> is not a sitemap")))
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


def _fetch(fetcher, url: str, found: Discovery):
    try:
        page = fetcher.fetch(url, kind="feed")
    except (Rejected, RetryableFailure) as exc:
        found.problems.append(_problem(url, exc))
        return None
    found.pages.append(page)
    return page


def discover_from_feeds(fetcher, source: Source, day: date | None) -> Discovery:
    """The articles the source's feeds and sitemaps date to local ``day`` (None: the latest ones).

    URLs are canonical, one per article id, newest first. A feed or sitemap that
    cannot be read is a problem in the result; the others are still used.
    """
    zone = ZoneInfo(source.timezone)
    day_start = datetime.combine(day, time(0), zone).astimezone(UTC) if day else None
    found = Discovery()
    entries = _Entries(source)
    base = source.base_url + "/"
    for feed_path in source.feeds:
        page = _fetch(fetcher, urljoin(base, feed_path), found)
        if page is not None:
            _read_feed(page, entries, found)
    queue = [urljoin(base, path) for path in source.sitemaps]
    seen: set[str] = set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        if len(seen) >= MAX_SITEMAPS:
            found.problems.append(Rejected("discover", "too_many_sitemaps",
                                           f"{url}: stopped after {MAX_SITEMAPS} sitemaps"))
            break
        seen.add(url)
        page = _fetch(fetcher, url, found)
        if page is not None:
            queue.extend(_read_sitemap(page, entries, source, day_start, found))

    chosen = list(entries.by_id.values())
    if day is not None:
        # Undated entries cannot be placed on a day; they are still found by --latest.
        chosen = [e for e in chosen if e.published is not None and e.published.astimezone(zone).date() == day]
    else:
        chosen = [e for e in chosen if e.recent]
    epoch = datetime.min.replace(tzinfo=UTC)
    chosen.sort(key=lambda e: (-(e.published or epoch).timestamp(), e.order))
    found.urls = [e.url for e in chosen]
    return found
