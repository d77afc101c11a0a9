"""Normalization: extracted fields → the article record.

Text: Unicode NFC, invisible zero-width characters dropped, runs of whitespace
collapsed to one space, except the no-break space, which is kept where the
source put it (it is part of the text: "МСБ.\u00a0Делегация"). Body: the
paragraphs that are the article's own text, joined by "\\n"; promos, "Читайте
также" lines and photo/video credits are dropped here, boilerplate blocks
(``BOILERPLATE_SELECTORS`` on every site, plus the source's own ``noise``
selectors) are dropped by the parser before paragraphs are made. Dates go
through the one date parser in the source's zone, with the fetch time as "now"
for relative words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from news_etl.canonical import canonical_url
from news_etl.dates import DateParseError, parse_date
from news_etl.errors import Rejected
from news_etl.record import Article
from news_etl.sources import Source

# Blocks inside an article that are never its text on any site; a source adds its own (``noise``).
BOILERPLATE_SELECTORS = (
    ".comments, #comments, script, style, noscript, iframe, figure, form, button, svg"
)

_SPACE_RUN = re.compile(r"[^\S\u00a0]+")  # whitespace except the no-break space
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_READ_ALSO = re.compile(r"^(читайте|смотрите)\s+(также|еще|ещё)\b", re.IGNORECASE)
_CREDIT = re.compile(r"^(фото|видео|фото\s+и\s+видео|иллюстрация|инфографика)\s*(:|©|—|-)",
                     re.IGNORECASE)
_PROMO_START = re.compile(r"^(наши новости теперь в|подписывайтесь на|подпишитесь на|присоединяйтесь к)",
                          re.IGNORECASE)
_NETWORK = re.compile(r"whatsapp|telegram|instagram|facebook|youtube|tiktok|вконтакте|дзен", re.IGNORECASE)
_SUBSCRIBE = re.compile(r"подпис|присоединяйтесь|наш\w*\s+(канал|telegram|whatsapp)", re.IGNORECASE)
_PROMO_MAX = 300  # promos are one or two sentences; an article paragraph about Telegram is not dropped


def clean_text(text: str | None) -> str:
    """NFC, zero-width characters removed, whitespace runs collapsed (NBSP kept), ends trimmed."""
    text = unicodedata.normalize("NFC", text or "").translate(_INVISIBLE)
    return _SPACE_RUN.sub(" ", text).strip()


def is_boilerplate(paragraph: str) -> bool:
    """True for a paragraph that is not the article's text: read-also, credits, promos."""
    if _READ_ALSO.match(paragraph) or _CREDIT.match(paragraph) or _PROMO_START.match(paragraph):
        return True
    return (len(paragraph) <= _PROMO_MAX and bool(_NETWORK.search(paragraph))
            and bool(_SUBSCRIBE.search(paragraph)))


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


def normalize_date(value: str | datetime, source: Source, fetched_at: datetime) -> datetime:
    """Aware UTC time of a date as found on the page; Rejected("normalize", "bad_date") if unreadable."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Rejected("normalize", "bad_date", f"naive datetime {value.isoformat()}")
        return value.astimezone(UTC)
    try:
        return parse_date(value, tz=source.timezone, languages=[source.language], now=fetched_at)
    except DateParseError as exc:
        raise Rejected("normalize", "bad_date", str(exc)) from exc


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
