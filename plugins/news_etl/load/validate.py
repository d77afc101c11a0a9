"""Which articles can be loaded: every text field storable, the required fields present and sane.

An article that cannot be loaded becomes a ``Rejected`` with stage "load" and
a stable reason (``invalid_utf8``, ``no_title``, ``body_too_short``...): it is
recorded in the ledger and the rest of its batch goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from news_etl import dedup
from news_etl.errors import Rejected
from news_etl.load.batch import DEFAULT_SETTINGS, Batch, Item, LoadSettings
from news_etl.record import Article

_TEXT_FIELDS = ("url", "title", "body", "author", "source_key", "source_article_id", "source_name")


def validate_article(article: Article, *, now: datetime | None = None,
                     settings: LoadSettings = DEFAULT_SETTINGS) -> Rejected | None:
    """The reason ``article`` cannot be loaded (a Rejected with stage "load"), or None."""
    return _checked(article, now or datetime.now(UTC), settings)[0]


def validate_batch(batch: Batch) -> None:
    """Sort the batch's articles into items (with their exact-text digest) and rejects."""
    now = datetime.now(UTC)
    for n, article in enumerate(batch.articles):
        problem, digest = _checked(article, now, batch.settings)
        if problem is None:
            batch.items[n] = Item(n, article, digest)
        else:
            batch.reject(n, problem)


def _checked(article: Article, now: datetime, settings: LoadSettings) -> tuple[Rejected | None, bytes]:
    """(why ``article`` cannot be loaded or None, the raw digest of its title and body).

    Computing the digest encodes the title and body, which fails on a lone
    surrogate: for them that is the storability check, and the per-field check
    runs only when it fails (it costs a rerun several times the digest).
    """
    try:
        digest = dedup.raw_digest(article.title, article.body)
        checked = ("title", "body")
    except (AttributeError, TypeError, UnicodeEncodeError):
        digest, checked = b"", ()
    for name in _TEXT_FIELDS:
        value = getattr(article, name, None)
        problem = _nul_problem(value) if name in checked else _bad_text(value)
        if problem:
            return Rejected("load", "invalid_utf8", f"{name}: {problem}"), b""
    return _content_problem(article, now, settings), digest


def _bad_text(value: Any) -> str | None:
    """Why ``value`` cannot be stored as PostgreSQL text, or None."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"invalid UTF-8 at byte {exc.start}"
        return "bytes instead of text"
    if not isinstance(value, str):
        return f"{type(value).__name__} instead of text"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"lone surrogate {value[exc.start]!r} at character {exc.start}"
    return _nul_problem(value)


def _nul_problem(value: str) -> str | None:
    """PostgreSQL text cannot hold NUL."""
    if "\x00" in value:
        return f"NUL character at character {value.index(chr(0))}"
    return None


def _content_problem(article: Article, now: datetime, settings: LoadSettings) -> Rejected | None:
    if not article.url:
        return Rejected("load", "no_url", "the article has no URL")
    if not article.source_key:
        return Rejected("load", "no_source", "the article names no source")
    if not (article.title or "").strip():
        return Rejected("load", "no_title", "the title is missing or blank")
    body = (article.body or "").strip()
    if len(body) < settings.min_body_chars:
        return Rejected("load", "body_too_short",
                        f"body has {len(body)} characters, the minimum is {settings.min_body_chars}")
    published = article.published_at
    if not isinstance(published, datetime) or published.tzinfo is None:
        return Rejected("load", "bad_date", f"published_at is not an aware datetime: {published!r}")
    if published > now + settings.future_tolerance:
        return Rejected("load", "future_date",
                        f"published_at {published.isoformat()} is more than {settings.future_tolerance} "
                        f"ahead of now ({now.isoformat(timespec='seconds')})")
    return None
