"""Raw pages: every kept response, gzip-compressed in ``raw_pages``, so parsing can be re-run offline.

``StoredPages`` reads them back through the fetcher's interface (``--reparse``).

A page whose body was already stored under the same URL is not stored twice:
the existing row is refreshed (fetch time, headers, run) and its id returned.
The caller commits.
"""

from __future__ import annotations

import gzip
import hashlib
import json

from psycopg2.extras import Json

from news_etl.canonical import canonical_url
from news_etl.errors import Rejected
from news_etl.page import Page, decode_body
from news_etl.sources import Source

_COLUMNS = "url, final_url, status, headers, content_type, encoding, body_gzip, fetched_at"


def save_page(conn, page: Page, *, source_key: str, run_id: int | None = None) -> int:
    """Store ``page`` (deduplicated on URL + body hash); return its page_id. No commit here."""
    digest = hashlib.sha256(page.body).hexdigest()
    with conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO raw_pages (source_key, url, final_url, status, headers, content_type, encoding,
                                   body_gzip, body_sha256, fetched_at, run_id)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (url, body_sha256) DO UPDATE
               SET fetched_at = GREATEST(raw_pages.fetched_at, EXCLUDED.fetched_at),
                   final_url = EXCLUDED.final_url, headers = EXCLUDED.headers,
                   run_id = COALESCE(EXCLUDED.run_id, raw_pages.run_id)
            RETURNING page_id
            """,
            (source_key, page.url, page.final_url, page.status, Json(page.headers), page.content_type,
             page.encoding, gzip.compress(page.body, compresslevel=6), digest, page.fetched_at, run_id),
        )
        return cur.fetchone()[0]


def latest_page(conn, url: str) -> Page | None:
    """The newest stored page for ``url`` (as ``Page.url`` was saved), or None."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM raw_pages WHERE url = %s ORDER BY fetched_at DESC, page_id DESC LIMIT 1",
            (url,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    url, final_url, status, headers, content_type, encoding, body_gzip, fetched_at = row
    body = gzip.decompress(bytes(body_gzip))
    if isinstance(headers, str):
        headers = json.loads(headers)
    encoding, text = decode_body(body, encoding, is_html=(content_type or "").endswith("html"))
    return Page(url=url, final_url=final_url, status=status, headers=dict(headers or {}),
                content_type=content_type or "", encoding=encoding, body=body, text=text,
                fetched_at=fetched_at)


class StoredPages:
    """The fetcher interface over raw_pages: the newest stored copy, never a request (``--reparse``)."""

    def __init__(self, conn, source: Source) -> None:
        self.conn = conn
        self.source = source
        self.requests_made = 0

    def __enter__(self) -> StoredPages:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        pass

    def fetch(self, url: str, *, kind: str = "article", deadline: float | None = None) -> Page:
        on_source = self.source.absolute_url(url)
        page_url = canonical_url(on_source, self.source) if kind == "article" else on_source
        page = latest_page(self.conn, page_url)
        if page is None:
            raise Rejected("fetch", "not_stored", f"no stored page for {page_url}")
        return page
