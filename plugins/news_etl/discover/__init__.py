"""Discovery: which article URLs a run should fetch.

A source is read the way its configuration says (``sources.yaml``, ``discovery:``):

- ``day_archive``: a local day's archive, every page of it (``archive``);
- ``dated_listings``: listings that run newest first across all days (a site's long
  reads), read until their items predate the day (``archive``);
- ``feeds`` and ``sitemaps``: entries placed on a day by their dates (``feeds``), the
  only way for a source without listings, and what ``discover_latest`` reads for all.

Every URL passes through one collector (``collect``): canonical, on the source's
hosts, one per article identity, in the order found. A listing, feed or sitemap
that cannot be used is a ``Problem`` in the result; only a transient failure of
a day archive's first page is raised, since then the run has nothing to work on
and is worth retrying as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from news_etl.discover.archive import read_dated_listing, read_day_archive
from news_etl.discover.collect import Discovery, Problem, UrlCollector
from news_etl.discover.feeds import discover_from_feeds
from news_etl.page import Page
from news_etl.sources import Source

__all__ = ["Discovery", "Problem", "discover_day", "discover_latest"]


def discover_day(fetcher, source: Source, day: date,
                 keep_page: Callable[[Page], None] | None = None) -> Discovery:
    """Every article of the local day ``day``: its archive and dated listings, else its feeds and sitemaps.

    ``keep_page``: where each listing page goes once read (default: ``Discovery.pages``).
    """
    if not (source.day_archive or source.dated_listings):
        if not (source.feeds or source.sitemaps):
            raise ValueError(f"source {source.key} has no day archive, listing, feed or sitemap")
        return discover_from_feeds(fetcher, source, day, keep_page)
    found = Discovery(keep_page=keep_page)
    collector = UrlCollector(source)
    if source.day_archive:
        read_day_archive(fetcher, source, day, found, collector)
    for path in source.dated_listings:
        read_dated_listing(fetcher, source, path, day, found, collector)
    found.urls = collector.urls
    return found


def discover_latest(fetcher, source: Source, keep_page: Callable[[Page], None] | None = None) -> Discovery:
    """The newest articles: the entries of the source's feeds and news sitemaps, newest first."""
    return discover_from_feeds(fetcher, source, None, keep_page)
