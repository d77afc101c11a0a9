"""Publication time of a page without selectors: the generic extractor's date rules.

The page's declarations (``news_etl.metadata``: JSON-LD, <meta>, microdata) come
first; the visible page adds a time shown next to the headline when the declared
value is only a day. Dates go through the project's one date parser
(``news_etl.dates``) with the source's zone and language; htmldate's whole-page
search is the last layer. Every rule is measured by ``make bench-extraction``
(news-metadata/ and publication-dates/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from itertools import islice
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

from news_etl.dates import DateParseError, PageDate, read_page_date
from news_etl.metadata import BYLINE_PREFIX, PageMetadata

_WS = re.compile(r"\s+")


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


_DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})/(\d{2})/")


TEXT_DATE = re.compile(
    r"\b(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})(?:,?\s+\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?"
    r"|\b\d{1,2}\s+[^\W\d]{3,10}\.?,?\s+\d{4}(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?"
    r"|\b[^\W\d]{3,10}\.?\s+\d{1,2},?\s+\d{4}(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?",
    re.I,
)


def _date_candidates(tree: HtmlElement, metadata: PageMetadata) -> Iterator[tuple[str, str]]:
    """Date strings the page declares or shows, most trusted first, each with its method.

    A generator: the DOM scans below are only made when the declared data has no timestamp.
    """
    yield from metadata.published()
    for node in tree.iterfind(".//time"):
        yield node.get("datetime") or node.text_content(), "time-tag"
    # A date and time printed right under the headline (the page's own dateline), before
    # dates in elements merely named for them: those are often the day's date in the header.
    for heading in islice(tree.iter("h1", "h2"), 3):
        for sibling in islice(heading.itersiblings(), 2):
            text = _clean(" ".join(sibling.itertext())) if isinstance(sibling.tag, str) else ""
            if len(text) <= 80 and (match := TEXT_DATE.search(text)) and _CLOCK.search(match.group(0)):
                yield text[match.start():], "dateline"
    # Visible dates in elements named for them ("date", "published", "byline"), short text only.
    for node in tree.xpath('.//*[contains(@class, "date") or contains(@class, "publish") or '
                           'contains(@class, "byline") or contains(@class, "time")][not(*[4])]')[:20]:
        text = _clean(node.text_content())
        if 6 <= len(text) <= 80 and re.search(r"\d", text):
            yield BYLINE_PREFIX.sub("", text), "markup"
        # After the shown text, which keeps the page's wall clock when it is a full date.
        if instant := _epoch_attribute(node):
            yield instant, "markup-epoch"


# Unix time in seconds or milliseconds, 2001-09-09 (1e9 s) to 2286: a machine-readable instant.
_EPOCH = re.compile(r"^(\d{10})(\d{3})?$")
_EPOCH_NAME = re.compile(r"^data-.*(?:time|date|epoch)", re.I)


def _epoch_attribute(node: HtmlElement) -> str | None:
    """The instant a ``data-*time*`` attribute of a date element holds as Unix time, in ISO-8601 UTC.

    Pages print a short form ("Jul 10", "3h") and keep the instant in such an attribute
    (``data-time="1594448702"``, ``data-utime``, ``data-timestamp``): the markup counterpart
    of ``<time datetime>``.
    """
    for name, value in node.attrib.items():
        if _EPOCH_NAME.match(name) and (match := _EPOCH.match(value.strip())):
            return datetime.fromtimestamp(int(match.group(1)), UTC).isoformat()
    return None


def page_date(tree: HtmlElement, metadata: PageMetadata, *, url: str | None, tz: str, language: str | None,
          now: datetime | None, zone_is_known: bool) -> tuple[PageDate | None, str]:
    # English is tried after the source's language: dates in meta tags are often English.
    languages = list(dict.fromkeys([language or "en", "en"]))

    def read(text: str) -> PageDate:
        # An unknown site's zone is a stand-in: its declared offset is the best evidence there is.
        return read_page_date(text, tz=tz, languages=languages, now=now, zone_wins=zone_is_known)

    day_only: tuple[PageDate, str] | None = None
    tried: set[str] = set()
    for text, method in _date_candidates(tree, metadata):
        if text in tried:  # pages repeat their date in several places; a failed parse is costly
            continue
        tried.add(text)
        try:
            parsed = read(text)
        except DateParseError:
            # "Veröffentlicht am 13. Mai 2026 um 15:44", "erstellt: 01. April 2025, 15:25".
            unlabelled = _DATE_LABEL.sub("", text, count=1)
            try:
                parsed = read(unlabelled) if unlabelled != text else None
            except DateParseError:
                parsed = None
            if parsed is None:
                continue
        if not zone_is_known and isinstance(parsed.at.tzinfo, ZoneInfo) and (
                offset := _page_offset(metadata, tz)):
            # A time without an offset on a site of unknown zone: the page's own offset, stated
            # on its other times, is a better guess than the stand-in zone.
            wall = parsed.at.replace(tzinfo=None)
            parsed = PageDate(datetime.fromisoformat(wall.isoformat() + offset), parsed.date_only)
        if not parsed.date_only and _CLOCK.search(text):
            # A full timestamp on the same day beats a bare day found earlier.
            if day_only is None or abs(parsed.at - day_only[0].at).total_seconds() < 36 * 3600:
                if not zone_is_known and parsed.at.utcoffset() == timedelta(0):
                    parsed = _shown_offset(tree, parsed)
                return parsed, method
            break
        day_only = day_only or (parsed, method)
    if day_only:
        return day_only
    # Last resorts. htmldate's search of the whole page (its original_date rules, URL, extensive
    # patterns) finds more of the days our layers miss than a date in the text does; measured
    # by `make bench-extraction` on publication-dates/.
    # The page's URL, then its picture's (stored under the day it was uploaded), name a day
    # more reliably than a date guessed from the page's text.
    for where, address in (("url", url), ("image-url", metadata.meta.get("og:image"))):
        if match := _URL_DATE.search(urlsplit((address or "").strip()).path):
            try:
                return read("-".join(match.groups())), where
            except DateParseError:
                pass
    if found := _htmldate(tree):
        try:
            return read(found), "htmldate"
        except DateParseError:
            pass
    return None, "none"


def _htmldate(tree: HtmlElement) -> str | None:
    """htmldate's publication day (YYYY-MM-DD) of the page, None when it finds none."""
    import htmldate  # installed with trafilatura; imported on first use (most pages never get here)

    try:
        # A copy: htmldate prunes the tree it searches.
        return htmldate.find_date(deepcopy(tree), original_date=True, extensive_search=True)
    except (ValueError, TypeError):
        return None


_CLOCK = re.compile(r"\d:\d\d")
# A label before a date shown on the page: "Published:", "Veröffentlicht am", "Publié le".
_DATE_LABEL = re.compile(r"^[^\d:]{0,40}?(?::\s*|\s(?:am|on|le|el|il|den|op|at|vom|du|del|em)\s+)", re.I)


def _shown_offset(tree: HtmlElement, parsed: PageDate) -> PageDate:
    """A UTC instant as the page shows it in its own offset (a ``<time datetime>`` of the same instant).

    Servers serialize in UTC what the page displays in local time; the local offset keeps
    the page's own day and wall clock.
    """
    for node in islice(tree.iterfind(".//time[@datetime]"), 20):
        text = _clean(node.get("datetime"))
        if not _ISO_OFFSET.search(text):
            continue
        try:
            shown = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            continue
        if shown.utcoffset() and shown == parsed.at:
            return PageDate(shown, parsed.date_only)
    return parsed


_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*[+-]\d{2}:?\d{2}$")
_STATED_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}$")


def _page_offset(metadata: PageMetadata, tz: str) -> str | None:
    """A non-UTC offset that the page states on any of its ISO times (published or modified)."""
    texts = [t for t, _ in metadata.published()]
    texts += [v for k in ("dateModified",) if isinstance(v := metadata.article.get(k), str)]
    texts += [metadata.meta[k] for k in ("article:modified_time", "og:updated_time") if k in metadata.meta]
    for text in texts:
        match = _STATED_OFFSET.search(_clean(text))
        if match and match.group(0).replace(":", "") not in ("+0000", "-0000"):
            return match.group(0)
    return None


__all__ = ["TEXT_DATE", "page_date"]
