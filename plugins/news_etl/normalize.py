"""Normalization: extracted fields → the article record.

Text: Unicode NFC, invisible zero-width characters dropped, runs of whitespace
collapsed to one space, except the no-break space, which is kept where the
source put it (it is part of the text: "МСБ.\u00a0Делегация"). Body: the
paragraphs that are the article's own text, joined by "\\n"; the lines of the
boilerplate lexicon (``news_etl.boilerplate``: credits, "Читайте также", promos,
embed remnants, sponsored-content markers) are dropped here, its blocks by the
parser before paragraphs are made.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from news_etl.boilerplate import is_boilerplate
from news_etl.canonical import canonical_url
from news_etl.errors import Rejected
from news_etl.record import Article
from news_etl.sources import Source

_SPACE_RUN = re.compile(r"[^\S\u00a0]+")  # whitespace except the no-break space
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(text: str | None) -> str:
    """NFC, zero-width characters removed, whitespace runs collapsed (NBSP kept), ends trimmed."""
    text = unicodedata.normalize("NFC", text or "").translate(_INVISIBLE)
    return _SPACE_RUN.sub(" ", text).strip()


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Cleaned paragraphs, empty and boilerplate ones dropped, repeats of the previous one dropped."""
    kept: list[str] = []
    for raw in paragraphs:
        text = clean_text(raw)
        if text and not is_boilerplate(text) and (not kept or kept[-1] != text):
            kept.append(text)
    return kept


def strip_site_name(title: str, source: Source) -> str:
    """ "Заголовок - Tengrinews.kz" → "Заголовок" (meta and <title> titles carry the site name)."""
    for sep in (" - ", " | ", " — ", " – "):
        if title.endswith(sep + source.name):
            return title[: -len(sep + source.name)].rstrip()
    return title


def build_article(*, title: str, published_at: datetime, author: str | None, paragraphs: Iterable[str],
                  url: str, source: Source, fetched_at: datetime,
                  extraction: dict[str, str] | None = None) -> Article:
    """The normalized record; Rejected("normalize", ...) when title or body end up empty."""
    title = clean_text(title)
    body = clean_paragraphs(paragraphs)
    if not title:
        raise Rejected("normalize", "no_title", "the title is empty after normalization")
    if not body:
        raise Rejected("normalize", "no_body", "no article text left after removing boilerplate")
    canonical = canonical_url(url, source)
    return Article(
        title=title,
        published_at=published_at.astimezone(UTC),
        author=clean_text(author),
        source_name=source.name,
        url=canonical,
        body="\n".join(body),
        source_key=source.key,
        source_article_id=source.article_id(canonical),
        fetched_at=fetched_at,
        extraction=dict(extraction or {}),
    )
