"""Saved page files → what the pipeline would extract from them (``news-etl extract``).

A page whose URL belongs to a configured source goes through exactly the
pipeline's parse (``news_etl.parse.parse_article``: the source's selectors, zone
and noise); any other page through the generic extractor. A manifest (JSON Lines
of ``{"file": …, "url": …}``) gives one result per line, in order; a page that
fails gives its line with an ``error`` and the others go on.

Each result has ``published_at`` (UTC) and ``published_local``: the same instant
with the page's own offset — the source's zone when the source is configured,
else the offset the page states — so that a date-only value keeps its day.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from news_etl import settings
from news_etl.page import decode_body
from news_etl.sources import source_for_url


def read_html(path_or_dash: str | Path) -> str:
    """Text of an .html / .html.gz file, or of stdin for "-"."""
    limit = settings.MAX_EXTRACT_INPUT_BYTES
    stdin = str(path_or_dash) == "-"
    with contextlib.nullcontext(sys.stdin.buffer) if stdin else Path(path_or_dash).open("rb") as source:
        data = source.read(limit + 1)
        if data[:2] == b"\x1f\x8b":  # read back through gzip, so a bomb stops at the limit too
            data = gzip.GzipFile(fileobj=io.BytesIO(data + source.read(limit))).read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path_or_dash}: larger than {limit} bytes (uncompressed): not a saved page")
    # The project's one decoder (the fetcher's). A saved file has no Content-Type header, so
    # UTF-8 stands in for one: a strict UTF-8 decode that succeeds is reliable, and it spares
    # the character detection (pure Python, often slower than the extraction) on pages that
    # declare no charset. Bytes that are not UTF-8 go on to the declaration, then detection.
    return decode_body(data, "utf-8")[1]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def extract_html(html: str, url: str | None = None, fetched_at: datetime | None = None) -> dict:
    """One page's extraction as a JSON-safe dict; ``Rejected`` when a configured source's parse refuses it."""
    source = source_for_url(url) if url else None
    if source is not None:
        from news_etl.parse import parse_article

        article = parse_article(html, url=url, source=source, fetched_at=fetched_at)
        return {
            "title": article.title,
            "published_at": _iso(article.published_at),
            "published_local": _iso(article.published_at.astimezone(ZoneInfo(source.timezone))),
            "author": article.author,
            "source": source.name,
            "url": url,
            "canonical_url": article.url,
            "body": article.body,
            "extraction": article.extraction,
        }
    from news_etl.extract import extract_generic

    # No source: UTC stands in for a zone, and the page's declared language reads its dates.
    result = extract_generic(html, url=url, tz="UTC", language=None, fetched_at=fetched_at)
    return {
        "title": result.title,
        "published_at": _iso(result.published_at),
        "published_local": _iso(result.published.at if result.published else None),
        "author": result.author,
        "source": None,
        "url": url,
        "body": result.body,
        "extraction": result.methods,
    }


def extract_file(path_or_dash: str | Path, url: str | None = None) -> dict:
    """The ``news-etl extract FILE [--url URL]`` result as a JSON-safe dict."""
    return extract_html(read_html(path_or_dash), url=url)


def extract_manifest(lines: Iterable[str], base: Path | None = None) -> Iterator[dict]:
    """One result per manifest line, in order: the line's fields plus the extraction or an ``error``.

    Relative ``file`` paths are taken from ``base`` (the manifest's folder). Blank lines are skipped.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                raise ValueError('expected an object with a "file" string')
        except ValueError as exc:
            yield {"line": number, "error": f"manifest line {number}: {exc}"}
            continue
        path = Path(entry["file"])
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            result = extract_file(path, url=entry.get("url"))
        except Exception as exc:  # noqa: BLE001 - one bad page is reported on its line; the others go on
            yield {**entry, "error": f"{type(exc).__name__}: {exc}"}
            continue
        yield {**result, **entry}


__all__ = ["extract_file", "extract_html", "extract_manifest", "read_html"]
