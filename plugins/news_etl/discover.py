"""Discovery: which article URLs a run should fetch.

``discover_day`` walks a local day's archive page by page (the links of
``ul.pagination``); ``discover_latest`` reads the source's RSS feeds. A source
without a day archive (only feeds and sitemaps) is handed to
``news_etl.discover_feeds`` by both, so callers need not know which kind it is. Both keep
only this source's article URLs (sister sites such as tengrisport.kz are other
sources), canonical, one per article id, in listing order. A listing page that
cannot be read becomes a problem in the result rather than ending discovery;
only a transient failure of the day's first page is raised, since then the
run has nothing to work on and is worth retrying as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

import feedparser
from bs4 import BeautifulSoup, SoupStrainer

from news_etl.canonical import canonical_url
from news_etl.errors import Rejected, RetryableFailure
from news_etl.fetch import Page
from news_etl.sources import Source

# Article links on listing pages, both markup generations.
LISTING_LINKS = ("div.content_main_item span.content_main_item_title a[href], "
                 "div.tn-tape-item a[href], a.tn-link[href]")
PAGINATION_LINKS = "ul.pagination a[href]"
MAX_LISTING_PAGES = 200  # a day never has this many; stops a pagination that never ends


@dataclass
class Discovery:
    urls: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    problems: list[Rejected] = field(default_factory=list)


def _problem(url: str, exc: Rejected | RetryableFailure) -> Rejected:
    problem = Rejected("discover", exc.reason, f"{url}: {exc.detail}" if exc.detail else url)
    problem.url = url  # the pipeline records listing problems under the listing's URL
    return problem


class _Collector:
    """Article URLs in order, one per article id."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.urls: list[str] = []
        self._ids: set[str] = set()

    def add(self, href: str, base: str) -> None:
        try:
            url = canonical_url(urljoin(base, href.strip()), self.source)
        except ValueError:
            return
        article_id = self.source.article_id(url)
        if article_id is None or article_id in self._ids:
            return  # not an article of this source (sister site, section page), or seen already
        self._ids.add(article_id)
        self.urls.append(url)


def discover_day(fetcher, source: Source, day: date) -> Discovery:
    """Every article of the local day ``day``'s archive, across all its pages.

    A source with no day archive is read from its feeds and sitemaps instead.
    """
    if not source.day_archive:
        if not (source.feeds or source.sitemaps):
            raise ValueError(f"source {source.key} has no day archive, feed or sitemap")
        from news_etl.discover_feeds import discover_from_feeds  # it imports this module

        return discover_from_feeds(fetcher, source, day)
    archive_path = source.day_archive.format(year=day.year, month=day.month, day=day.day)
    first = urljoin(source.base_url + "/", archive_path)
    found = Discovery()
    collector = _Collector(source)
    queue, queued = [first], {first}
    strainer = SoupStrainer(["a", "ul", "div", "span"])
    while queue and len(found.pages) < MAX_LISTING_PAGES:
        url = queue.pop(0)
        try:
            page = fetcher.fetch(url, kind="listing")
        except RetryableFailure as exc:
            if url == first:
                raise
            found.problems.append(_problem(url, exc))
            continue
        except Rejected as exc:
            found.problems.append(_problem(url, exc))
            continue
        found.pages.append(page)
        soup = BeautifulSoup(page.text, "lxml", parse_only=strainer)
        for link in soup.select(LISTING_LINKS):
            collector.add(link["href"], page.url)
        for link in soup.select(PAGINATION_LINKS):
            nxt = urljoin(page.url, link["href"].strip()).split("#")[0]
            # Only pages of the same day's archive: no loops, no wandering off to other days.
            if nxt not in queued and source.owns_url(nxt) and urlsplit(nxt).path.startswith(archive_path):
                queued.add(nxt)
                queue.append(nxt)
    if queue:
        found.problems.append(Rejected("discover", "too_many_listing_pages",
                                       f"{first}: stopped after {MAX_LISTING_PAGES} pages"))
    found.urls = collector.urls
    return found


def discover_latest(fetcher, source: Source) -> Discovery:
    """The articles of the source's RSS feeds (the fetcher refuses entity-laden feeds first).

    A source with no day archive also lists its newest articles in news sitemaps: it is read
    by ``discover_from_feeds``, which takes feeds and news sitemaps together.
    """
    if not source.day_archive:
        from news_etl.discover_feeds import discover_from_feeds  # it imports this module

        return discover_from_feeds(fetcher, source, None)
    found = Discovery()
    collector = _Collector(source)
    for feed_path in source.feeds:
        url = urljoin(source.base_url + "/", feed_path)
        try:
            page = fetcher.fetch(url, kind="feed")
        except (Rejected, RetryableFailure) as exc:
            found.problems.append(_problem(url, exc))
            continue
        found.pages.append(page)
        parsed = feedparser.parse(page.body, response_headers={"content-type": page.content_type})
        if parsed.bozo and not parsed.entries:
            found.problems.append(_problem(url, Rejected("discover", "bad_feed", str(parsed.bozo_exception))))
            continue
        for entry in parsed.entries:
            link = entry.get("link") or entry.get("id")
            if link:
                collector.add(link, page.url)
    found.urls = collector.urls
    return found
