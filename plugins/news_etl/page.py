"""A kept response (``Page``), the decoding of its bytes to text, and the refusal of unsafe feeds.

Separate from the HTTP client so that stored pages (``rawpages``) and the
extractor can decode bytes without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from bs4 import UnicodeDammit
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as SafeElementTree

from news_etl.errors import Rejected


@dataclass
class Page:
    """One fetched response that was kept."""

    url: str                  # canonical URL asked for, on the source's host
    final_url: str            # after redirects, as served (the mirror's URL when mirrored)
    status: int
    headers: dict[str, str]
    content_type: str
    encoding: str | None
    body: bytes               # content bytes, transfer/content encoding already undone
    text: str
    fetched_at: datetime
    not_modified: bool = False


def parse_content_type(header: str | None) -> tuple[str, str | None]:
    """(media type, charset) of a Content-Type header; ("", None) when absent."""
    if not header:
        return "", None
    msg = Message()
    msg["content-type"] = header
    return msg.get_content_type().lower(), msg.get_content_charset()


def decode_body(body: bytes, charset: str | None, *, is_html: bool = True) -> tuple[str | None, str]:
    """Text of ``body``: the header's charset, the document's own declaration, UTF-8, then detection.

    A declared charset that fails to decode the bytes (a cp1251 page announced as
    UTF-8) is passed over rather than trusted. Strict UTF-8 is tried before
    statistical detection: it is what most undeclared pages are, and detection
    in pure Python can cost more than parsing the page.
    """
    if not body:
        return charset, ""
    known = [charset] if charset else []
    dammit = UnicodeDammit(body, known_definite_encodings=known, user_encodings=["utf-8"], is_html=is_html)
    if dammit.unicode_markup is None:
        return None, body.decode("utf-8", errors="replace")
    return dammit.original_encoding, dammit.unicode_markup


def refuse_unsafe_xml(body: bytes) -> None:
    """Raise Rejected when a feed declares entities or external references.

    defusedxml stops at the declaration, so a "billion laughs" feed is refused
    without being expanded. Malformed XML is left to feedparser's tolerant parser.
    """
    try:
        SafeElementTree.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (EntitiesForbidden, ExternalReferenceForbidden, DTDForbidden) as exc:
        raise Rejected("fetch", "unsafe_feed", f"feed declares entities or external references: {exc}") \
            from exc
    except SafeElementTree.ParseError:
        pass
