"""A synthetic news site generated on request: any number of days and articles a day, with faults.

The replica in ``site/`` is a faithful copy of one site at its real size; this one
is for scale and endurance (tests/db/test_memory.py, devtools/soak.py). Every page is
computed from its path, so 10,000 articles cost no files and no memory:

- ``/news/YYYY/MM/DD/`` and ``/news/YYYY/MM/DD/page/N/``: the day archive,
  ``LISTING_PAGE_SIZE`` items a page, each page linking to the next;
- ``/news/YYYY/MM/DD/a-<id>/``: an article (title, local time, author, body lines
  of words drawn by a generator seeded with the id, so any two articles differ and
  every fetch of one gives the same bytes);
- ``/robots.txt``: everything allowed.

Faults are transient, per article id, applied to its first ``times`` requests:
``status`` (answer ``arg``, e.g. 503), ``retry_after`` (429 with ``Retry-After: arg``),
``trickle`` (the body one chunk every ``arg`` seconds), ``truncated`` (half the body,
then the connection closes). ``delay`` makes every article answer that many seconds late.

``SYNTHETIC_SOURCE`` is its entry for a sources file (:func:`write_sources_file`),
with a rate limit high enough that loopback serves it as fast as it can.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

LISTING_PAGE_SIZE = 100
SOURCE_KEY = "synthetic"
BASE_URL = "https://synthetic.example"

SYNTHETIC_SOURCE = {
    "key": SOURCE_KEY,
    "name": "Synthetic News",
    "base_url": BASE_URL,
    "allowed_hosts": ["synthetic.example"],
    "timezone": "Asia/Almaty",
    "language": "ru",
    "rate_limit_per_second": 1000.0,
    "min_articles_per_day": 1,
    "article_url_pattern": r"^/news/\d{4}/\d{2}/\d{2}/a-(?P<id>\d+)/$",
    "discovery": {"day_archive": "/news/{year:04d}/{month:02d}/{day:02d}/"},
    "selectors": {"title": ["h1.title"], "date": ["div.published"], "author": ["span.author"],
                  "body": ["div.text"]},
}

_WORDS = ("степь", "ветер", "город", "река", "новости", "совет", "школа", "завод", "дорога", "поле", "небо",
          "мост", "рынок", "театр", "врач", "поезд", "зерно", "снег", "весна", "осень", "аким", "район",
          "улица", "музей", "книга", "песня", "солнце", "вода", "север", "юг", "запад", "восток", "утро",
          "вечер", "ночь", "день", "год", "месяц", "неделя", "час", "люди", "дети")
_LISTING = re.compile(r"^/news/(\d{4})/(\d{2})/(\d{2})/(?:page/(\d+)/)?$")
_ARTICLE = re.compile(r"^/news/(\d{4})/(\d{2})/(\d{2})/a-(\d+)/$")


def article_id(day: date, n: int) -> int:
    """The id of the ``n``-th article (from 0) of ``day``: unique across days."""
    return day.toordinal() * 100_000 + n


def article_path(day: date, n: int) -> str:
    return f"/news/{day:%Y/%m/%d}/a-{article_id(day, n)}/"


def article_html(ident: int, body_lines: int) -> str:
    """The page of article ``ident``: the same bytes on every request."""
    day = date.fromordinal(ident // 100_000)
    n = ident % 100_000
    rng = random.Random(ident)
    title = " ".join(rng.choice(_WORDS) for _ in range(6)).capitalize() + f" №{ident}"
    lines = [" ".join(rng.choice(_WORDS) for _ in range(14)).capitalize() + "." for _ in range(body_lines)]
    minute = n % (24 * 60)
    shown = f"{day:%d.%m.%Y} {minute // 60:02d}:{minute % 60:02d}"
    body = "\n".join(f"<p>{line}</p>" for line in lines)
    return (f"<!doctype html><html lang=ru><head><meta charset=utf-8><title>{title}</title></head><body>"
            f"<h1 class=title>{title}</h1><div class=published>{shown}</div>"
            f"<span class=author>Автор {n % 7}</span><div class=text>{body}</div></body></html>")


def listing_html(day: date, page: int, per_day: int) -> str | None:
    """Archive page ``page`` (from 1) of ``day``; None past its last page."""
    pages = max(1, -(-per_day // LISTING_PAGE_SIZE))
    if page > pages:
        return None
    first = (page - 1) * LISTING_PAGE_SIZE
    items = "".join(f'<article><a href="{article_path(day, n)}">Новость {n}</a><time>{day:%d.%m.%Y}</time>'
                    f"</article>" for n in range(first, min(first + LISTING_PAGE_SIZE, per_day)))
    nav = "".join(f'<li><a href="/news/{day:%Y/%m/%d}/page/{p}/">{p}</a></li>'
                  for p in (page - 1, page + 1) if 1 <= p <= pages)
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{day}</title></head><body>"
            f"{items}<ul class=pagination>{nav}</ul></body></html>")


@dataclass
class SyntheticSite:
    """What the server serves: ``per_day`` articles on each day from ``first_day`` for ``days`` days."""

    first_day: date
    days: int = 1
    per_day: int = 100
    body_lines: int = 6
    delay: float = 0.0
    faults: dict[int, tuple[str, float, int]] = field(default_factory=dict)  # id -> (kind, arg, times)
    hits: Counter = field(default_factory=Counter)
    requests: int = 0

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def day_paths(self, day: date) -> list[str]:
        return [article_path(day, n) for n in range(self.per_day)]

    def has_day(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the client's
    # delayed ACK add ~40 ms to every response on loopback.
    disable_nagle_algorithm = True
    site: SyntheticSite
    lock: threading.Lock

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?")[0]
        with self.lock:
            self.site.requests += 1
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")
        if (match := _LISTING.match(path)) and self._day(match):
            html = listing_html(self._day(match), int(match[4] or 1), self.site.per_day)
            if html is not None:
                return self._send(200, html.encode())
        if (match := _ARTICLE.match(path)) and self._day(match):
            ident = int(match[4])
            if ident % 100_000 < self.site.per_day and ident // 100_000 == self._day(match).toordinal():
                return self._article(ident)
        return self._send(404, b"not found")

    def _day(self, match: re.Match) -> date | None:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
        return day if self.site.has_day(day) else None

    def _article(self, ident: int) -> None:
        if self.site.delay:
            time.sleep(self.site.delay)
        body = article_html(ident, self.site.body_lines).encode()
        kind, arg, times = self.site.faults.get(ident, ("", 0, 0))
        with self.lock:
            self.site.hits[ident] += 1
            faulty = self.site.hits[ident] <= times
        if not faulty:
            return self._send(200, body)
        if kind == "status":
            return self._send(int(arg), b"unavailable")
        if kind == "retry_after":
            return self._send(429, b"slow down", extra={"Retry-After": str(int(arg))})
        if kind == "truncated":
            self._send(200, body[: len(body) // 2], length=len(body))
            self.close_connection = True
            return None
        if kind == "trickle":
            self._head(200, len(body))
            for start in range(0, len(body), 1024):
                self.wfile.write(body[start:start + 1024])
                self.wfile.flush()
                time.sleep(arg)
            return None
        raise ValueError(f"unknown fault {kind!r}")

    def _head(self, status: int, length: int, content_type: str = "text/html; charset=utf-8",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", *,
              length: int | None = None, extra: dict[str, str] | None = None) -> None:
        self._head(status, len(body) if length is None else length, content_type, extra)
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up on a trickle or a truncated body: expected, not worth a traceback


@contextmanager
def serve(site: SyntheticSite, port: int = 0) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 in a background thread; yields its base URL."""
    handler = type("SyntheticHandler", (_Handler,), {"site": site, "lock": threading.Lock()})
    server = _Server(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="synthetic-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_sources_file(path: Path, **overrides) -> Path:
    """A sources file with the synthetic source alone (``overrides`` replace its fields)."""
    path.write_text(yaml.safe_dump({"sources": [SYNTHETIC_SOURCE | overrides]}, allow_unicode=True),
                    encoding="utf-8")
    return path
