"""The configured news sources (``sources.yaml``) as plain data."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

SOURCES_FILE = Path(os.environ.get("NEWS_ETL_SOURCES_FILE", Path(__file__).with_name("sources.yaml")))


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
    rate_limit_per_second: float = 1.0
    article_url_pattern: str | None = None
    day_archive: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    selectors: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def owns_url(self, url: str) -> bool:
        """True when ``url`` is on one of this source's hosts."""
        return (urlsplit(url).hostname or "").lower() in self.allowed_hosts

    def article_id(self, url: str) -> str | None:
        """The source's own article id in ``url``, or None when it has none."""
        if not self.article_url_pattern or not self.owns_url(url):
            return None
        match = re.match(self.article_url_pattern, urlsplit(url).path or "/")
        return match.group("id") if match and "id" in match.groupdict() else None


def _source_from_entry(entry: dict) -> Source:
    discovery = entry.get("discovery") or {}
    try:
        return Source(
            key=entry["key"],
            name=entry["name"],
            base_url=entry["base_url"].rstrip("/"),
            allowed_hosts=tuple(h.lower() for h in entry.get("allowed_hosts") or
                                [urlsplit(entry["base_url"]).hostname]),
            timezone=entry.get("timezone", "UTC"),
            language=entry.get("language", "ru"),
            rate_limit_per_second=float(entry.get("rate_limit_per_second", 1.0)),
            article_url_pattern=entry.get("article_url_pattern"),
            day_archive=discovery.get("day_archive"),
            feeds=tuple(discovery.get("feeds") or ()),
            sitemaps=tuple(discovery.get("sitemaps") or ()),
            selectors=dict(entry.get("selectors") or {}),
        )
    except KeyError as exc:
        raise SourceConfigError(f"source entry {entry.get('key', '?')!r} lacks {exc.args[0]!r}") from exc


@cache
def load_sources(path: Path = SOURCES_FILE) -> dict[str, Source]:
    """All configured sources by key."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {s.key: s for s in map(_source_from_entry, data.get("sources") or [])}


def get_source(key: str) -> Source:
    sources = load_sources()
    if key not in sources:
        raise SourceConfigError(f"unknown source {key!r}; configured: {', '.join(sorted(sources))}")
    return sources[key]


def source_for_url(url: str) -> Source | None:
    """The configured source whose hosts include ``url``'s host, if any."""
    return next((s for s in load_sources().values() if s.owns_url(url)), None)
