"""The configured news sources (the sources file of ``settings.sources_file()``) as plain data."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from news_etl import settings

log = logging.getLogger(__name__)


class SourceConfigError(ValueError):
    """The sources file, or one entry of it, is not valid."""


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    base_url: str
    allowed_hosts: tuple[str, ...]
    timezone: str
    language: str = "ru"
    date_formats: tuple[str, ...] = ()
    rate_limit_per_second: float = settings.DEFAULT_RATE_LIMIT_PER_SECOND
    article_url_pattern: str | None = None
    min_articles_per_day: int = 0
    day_archive: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    # Listings read newest first until their items predate the day (sections the day archive omits).
    dated_listings: tuple[str, ...] = ()
    # CSS selectors of a listing page (item, link, date, pagination); missing ones take discovery's defaults.
    listing: dict[str, str] = field(default_factory=dict)
    # CSS selectors by field (title, date, author, body, lead, noise); each field's
    # alternatives are tried in order. None: the page's metadata and generic extraction.
    selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def absolute_url(self, url: str) -> str:
        """``url`` (a path such as ``/news.rss``, or a whole URL) resolved against the base URL."""
        return urljoin(self.base_url + "/", url.strip())

    def owns_url(self, url: str) -> bool:
        """True when ``url`` is on one of this source's hosts."""
        return (urlsplit(url).hostname or "").lower() in self.allowed_hosts

    def article_id(self, url: str) -> str | None:
        """The source's own article id in ``url``, or None when it has none.

        A pattern with a ``kind`` group numbers that kind of article separately (a
        site's long reads next to its news): the id is then ``kind:id``, so that two
        sequences sharing a number stay two articles.
        """
        if not self.article_url_pattern or not self.owns_url(url):
            return None
        match = re.match(self.article_url_pattern, urlsplit(url).path or "/")
        if not match or "id" not in match.groupdict():
            return None
        kind = match.groupdict().get("kind")
        return f"{kind}:{match['id']}" if kind else match["id"]


SELECTOR_FIELDS = ("title", "date", "author", "body", "lead", "noise")
LISTING_FIELDS = ("item", "link", "date", "pagination")

# The shape of one entry of sources.yaml; jsonschema gives each mistake a path.
ENTRY_SCHEMA: dict = {
    "type": "object",
    "required": ["key", "name", "base_url"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "name": {"type": "string", "minLength": 1},
        "base_url": {"type": "string", "pattern": "^https?://[^/]+/?$"},
        "allowed_hosts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "timezone": {"type": "string"},
        "language": {"type": "string", "pattern": "^[a-z]{2}$"},
        "date_formats": {"type": "array", "items": {"type": "string"}},
        "rate_limit_per_second": {"type": "number", "exclusiveMinimum": 0},
        "article_url_pattern": {"type": "string"},
        "min_articles_per_day": {"type": "integer", "minimum": 0},
        "discovery": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "day_archive": {"type": "string"},
                "feeds": {"type": "array", "items": {"type": "string"}},
                "sitemaps": {"type": "array", "items": {"type": "string"}},
                "dated_listings": {"type": "array", "items": {"type": "string", "pattern": "^/"}},
                "listing": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {k: {"type": "string", "minLength": 1} for k in LISTING_FIELDS},
                },
            },
        },
        "selectors": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: {"oneOf": [{"type": "string", "minLength": 1},
                                         {"type": "array", "minItems": 1,
                                          "items": {"type": "string", "minLength": 1}}]}
                           for k in SELECTOR_FIELDS},
        },
    },
}


def _check_entry(entry: object) -> None:
    """Raise SourceConfigError with every problem of one entry, each with its place."""
    import cssselect  # pure Python: the DAG file reads this at parse time, without bs4 or lxml
    import jsonschema  # here, not at import: DAG files import this module

    validator = jsonschema.Draft202012Validator(ENTRY_SCHEMA)
    problems = sorted(validator.iter_errors(entry), key=lambda e: list(e.absolute_path))
    if problems:
        key = entry.get("key", "?") if isinstance(entry, dict) else "?"
        raise SourceConfigError("; ".join(
            f"source {key!r}: {'.'.join(map(str, p.absolute_path)) or 'entry'}: {p.message}"
            for p in problems))
    if entry.get("article_url_pattern"):
        try:
            re.compile(entry["article_url_pattern"])
        except re.error as exc:
            raise SourceConfigError(f"source {entry['key']!r}: article_url_pattern: {exc}") from None
    selectors = [(f"selectors.{name}", value) for name, value in (entry.get("selectors") or {}).items()]
    selectors += [(f"discovery.listing.{name}", value)
                  for name, value in ((entry.get("discovery") or {}).get("listing") or {}).items()]
    for name, value in selectors:
        for selector in [value] if isinstance(value, str) else value:
            try:
                cssselect.parse(selector)
            except cssselect.SelectorError as exc:
                first_line = str(exc).splitlines()[0]
                raise SourceConfigError(
                    f"source {entry['key']!r}: {name}: not a CSS selector {selector!r}: "
                    f"{first_line}") from None
    tz = entry.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceConfigError(f"source {entry['key']!r}: timezone: unknown time zone {tz!r}") from None


def _source_from_entry(entry: dict) -> Source:
    _check_entry(entry)
    discovery = entry.get("discovery") or {}
    return Source(
        key=entry["key"],
        name=entry["name"],
        base_url=entry["base_url"].rstrip("/"),
        allowed_hosts=tuple(h.lower() for h in entry.get("allowed_hosts") or
                            [urlsplit(entry["base_url"]).hostname]),
        timezone=entry.get("timezone", "UTC"),
        language=entry.get("language", "ru"),
        date_formats=tuple(entry.get("date_formats") or ()),
        rate_limit_per_second=float(entry.get("rate_limit_per_second",
                                              settings.DEFAULT_RATE_LIMIT_PER_SECOND)),
        article_url_pattern=entry.get("article_url_pattern"),
        min_articles_per_day=int(entry.get("min_articles_per_day", 0)),
        day_archive=discovery.get("day_archive"),
        feeds=tuple(discovery.get("feeds") or ()),
        sitemaps=tuple(discovery.get("sitemaps") or ()),
        dated_listings=tuple(discovery.get("dated_listings") or ()),
        listing=dict(discovery.get("listing") or {}),
        selectors={name: (value,) if isinstance(value, str) else tuple(value)
                   for name, value in (entry.get("selectors") or {}).items()},
    )


@dataclass(frozen=True)
class SourceConfig:
    """What the sources file gave: the valid sources, and why the others were skipped."""

    sources: dict[str, Source]
    problems: tuple[str, ...]


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: a few lines of nested aliases expand to gigabytes (an alias bomb),
    and a sources file has no need of them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a sources file",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def read_sources(path: Path | str | None = None) -> SourceConfig:
    """Read and validate a sources file. A broken entry is reported and skipped; the rest load."""
    path = Path(path or settings.sources_file())
    try:
        with path.open("rb") as file:
            raw = file.read(settings.MAX_SOURCES_FILE_BYTES + 1)
        if len(raw) > settings.MAX_SOURCES_FILE_BYTES:
            raise SourceConfigError(f"sources file {path} is larger than "
                                    f"{settings.MAX_SOURCES_FILE_BYTES} bytes")
        data = yaml.load(raw.decode("utf-8"), Loader=_NoAliasLoader) or {}  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SourceConfigError(f"cannot read sources file {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise SourceConfigError(f"{path}: expected a top-level 'sources:' list")
    sources: dict[str, Source] = {}
    problems: list[str] = []
    for n, entry in enumerate(data["sources"], start=1):
        try:
            source = _source_from_entry(entry)
        except SourceConfigError as exc:
            problems.append(f"{path}: entry {n}: {exc}")
            continue
        if source.key in sources:
            problems.append(f"{path}: entry {n}: duplicate source key {source.key!r}")
            continue
        sources[source.key] = source
    for problem in problems:
        log.error("skipping a source: %s", problem)
    return SourceConfig(sources, tuple(problems))


def load_sources(path: Path | str | None = None) -> dict[str, Source]:
    """All valid configured sources by key (broken entries are logged and skipped)."""
    return _cached_sources(str(path or settings.sources_file())).sources


@cache
def _cached_sources(path: str) -> SourceConfig:
    return read_sources(path)


def get_source(key: str) -> Source:
    sources = load_sources()
    if key not in sources:
        raise SourceConfigError(f"unknown source {key!r}; configured: {', '.join(sorted(sources))}")
    return sources[key]


def source_for_url(url: str) -> Source | None:
    """The configured source whose hosts include ``url``'s host, if any."""
    return next((s for s in load_sources().values() if s.owns_url(url)), None)
