"""What every way of discovering shares: the result, its problems, the one URL collector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from news_etl.canonical import canonical_url
from news_etl.errors import Rejected, RetryableFailure, SiteUnreachable
from news_etl.page import Page
from news_etl.sources import Source


@dataclass(frozen=True)
class Problem:
    """A listing, feed, sitemap or listed item that could not be used; recorded under ``url``."""

    url: str
    reason: str                 # short stable code (http_404, bad_feed, undated_listing_item...)
    detail: str = ""
    outcome: str = "rejected"   # "failed" when a later run may succeed (a transient fetch fault)
    stage: str = "discover"


@dataclass
class Discovery:
    urls: list[str] = field(default_factory=list)       # canonical article URLs, in the order found
    pages: list[Page] = field(default_factory=list)     # listing/feed pages read, unless keep_page takes them
    problems: list[Problem] = field(default_factory=list)
    # Given, each page read goes there at once instead of into ``pages``: a run saves it as a raw
    # page and lets it go, so a day of hundreds of listing pages is never held at once.
    keep_page: Callable[[Page], None] | None = None

    def add_page(self, page: Page) -> None:
        if self.keep_page is not None:
            self.keep_page(page)
        else:
            self.pages.append(page)


class UrlCollector:
    """This source's article URLs: canonical, one per article identity, in first-seen order.

    The identity is the source's article id when its URLs carry one (two sections
    showing the same article are one article), otherwise the canonical URL.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self._by_key: dict[str, str] = {}

    def identify(self, href: str, base: str) -> tuple[str, str] | None:
        """(identity, canonical URL) of a link, or None when it is not an article of this source."""
        try:
            url = canonical_url(urljoin(base, href.strip()), self.source)
        except ValueError:
            return None
        if not self.source.owns_url(url):
            return None  # a sister site's link is another source's article
        key = self.source.article_id(url) if self.source.article_url_pattern else url
        return None if key is None else (key, url)  # None: a section, tag or static page

    def add(self, href: str, base: str) -> str | None:
        """Collect a link; its identity, or None when it is not an article of this source."""
        found = self.identify(href, base)
        if found is None:
            return None
        key, url = found
        self._by_key.setdefault(key, url)
        return key

    @property
    def urls(self) -> list[str]:
        return list(self._by_key.values())

    def items(self) -> list[tuple[str, str]]:
        """(identity, canonical URL) of every article collected, in first-seen order."""
        return list(self._by_key.items())


def fetch_listing(fetcher, url: str, found: Discovery, *, kind: str = "listing") -> Page | None:
    """Fetch a listing or feed page into ``found``; a page that cannot be had becomes a problem.

    A site that cannot be reached at all is no page's problem: SiteUnreachable goes up and fails the run.
    """
    try:
        page = fetcher.fetch(url, kind=kind)
    except SiteUnreachable:
        raise
    except (Rejected, RetryableFailure) as exc:
        found.problems.append(problem_from(url, exc))
        return None
    found.add_page(page)
    return page


def problem_from(url: str, exc: Rejected | RetryableFailure) -> Problem:
    outcome = "failed" if isinstance(exc, RetryableFailure) else "rejected"
    return Problem(url, exc.reason, f"{url}: {exc.detail}" if exc.detail else url, outcome)
