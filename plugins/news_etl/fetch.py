"""The one HTTP client: polite, bounded fetching of a source's pages.

A ``Fetcher`` is made per run and owns one ``requests.Session``. Every request
it sends (robots.txt, redirects and retries included) passes through the same
per-host rate limit. Retries follow a ``urllib3`` ``Retry`` policy (exponential
backoff with jitter, ``Retry-After`` honoured up to a cap); the loop that drives
it is ours so that each attempt waits for the rate limit and reads its body
under the size limit. Redirects are followed by hand, only within the source's
hosts. Whatever goes wrong ends as ``Rejected(stage="fetch")`` (the page is
bad) or ``RetryableFailure(stage="fetch")`` (try again later).

Socket timeouts bound each wait, not the whole: a server that trickles a byte
every few seconds never trips them. So every fetch also has a total deadline
(``total_timeout``: connecting, every read, redirects, retries and their
backoff); the body is read with ``read1`` so that no read outlasts it.

``base_url`` points the fetcher at a mirror (the offline replica): requests go
to the mirror with the same path while ``Page.url`` stays on the source's host
(``routing.Routing``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import psycopg2
import requests
from protego import Protego
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import DecodeError, InvalidHeader, MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from news_etl import __version__, settings
from news_etl.errors import Rejected, RetryableFailure, SiteUnreachable
from news_etl.page import Page, decode_body, parse_content_type, refuse_unsafe_xml
from news_etl.politeness import HostSchedule, LocalSchedule
from news_etl.rawpages import latest_page
from news_etl.routing import Routing
from news_etl.sources import Source

DEFAULT_USER_AGENT = f"news-etl/{__version__} (news archive ingestion; obeys robots.txt)"
KINDS = ("article", "listing", "feed")
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml",
                        "application/xml", "text/xml"})
RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})
_CHUNK = 64 * 1024
# A failed body read is worth another attempt; a body that cannot be decompressed is not.
_BODY_ERRORS = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                requests.exceptions.Timeout)


@dataclass
class _Attempt:
    response: requests.Response
    body: bytes = b""


def _remaining(deadline: float, url: str) -> float:
    """Seconds left before ``deadline``; a RetryableFailure once it has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise RetryableFailure("fetch", "deadline", f"{url}: not done within the fetch's total time limit")
    return remaining


class Fetcher:
    """Fetches one source's pages politely; use as a context manager (closes the session)."""

    def __init__(
        self,
        source: Source,
        *,
        base_url: str | None = None,
        user_agent: str | None = None,
        rate_limit_per_second: float | None = None,
        connect_timeout: float = settings.FETCH_CONNECT_TIMEOUT,
        read_timeout: float = settings.FETCH_READ_TIMEOUT,
        total_timeout: float = settings.FETCH_TOTAL_TIMEOUT,
        max_bytes: int = settings.FETCH_MAX_BYTES,
        max_retries: int = settings.FETCH_MAX_RETRIES,
        backoff_factor: float = settings.FETCH_BACKOFF_FACTOR,
        backoff_max: float = settings.FETCH_BACKOFF_MAX,
        backoff_jitter: float = settings.FETCH_BACKOFF_JITTER,
        retry_after_max: int = settings.FETCH_RETRY_AFTER_MAX,
        max_redirects: int = settings.FETCH_MAX_REDIRECTS,
        obey_robots: bool = True,
        conn=None,
        host_schedule: HostSchedule | LocalSchedule | None = None,
    ) -> None:
        self.source = source
        self.routing = Routing(source, base_url)
        self.user_agent = user_agent or DEFAULT_USER_AGENT
        rate = source.rate_limit_per_second if rate_limit_per_second is None else rate_limit_per_second
        self.min_interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.timeout = (connect_timeout, read_timeout)
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.obey_robots = obey_robots
        # A Retry object is only a policy here: is_retry / increment / backoff / Retry-After.
        self.retry = Retry(
            total=max_retries, redirect=False, status_forcelist=RETRY_STATUSES, allowed_methods=None,
            backoff_factor=backoff_factor, backoff_max=backoff_max, backoff_jitter=backoff_jitter,
            retry_after_max=retry_after_max, respect_retry_after_header=True, raise_on_status=False,
        )
        self.conn = conn  # optional: validators and bodies for conditional GET from raw_pages
        # Request slots per host: shared with every fetcher anywhere (HostSchedule), else this process's.
        self.host_schedule = host_schedule or LocalSchedule()
        self.session = requests.Session()
        self.session.headers.update({
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        })
        self.requests_made = 0
        self.polite_seconds = 0.0  # time spent waiting for the host's request slots
        self._host_interval: dict[str, float] = {}
        self._robots: dict[str, Protego] = {}
        self._validated: dict[str, Page] = {}

    # -- context manager -------------------------------------------------
    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()
        self.host_schedule.close()

    # -- politeness ------------------------------------------------------
    def _throttle(self, wire_url: str) -> None:
        """Wait for this host's next request slot."""
        host = urlsplit(wire_url).netloc
        interval = max(self.min_interval, self._host_interval.get(host, 0.0))
        if interval > 0:
            self.polite_seconds += (wait := self.host_schedule.reserve(host, interval))
            time.sleep(wait)

    def _robots_for(self, wire_url: str) -> Protego:
        """The host's robots.txt, read once per run with Protego (RFC 9309: ``*`` and ``$`` in paths)."""
        parts = urlsplit(wire_url)
        key = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(key)
        if parser is not None:
            return parser
        try:
            attempt = self._robots_txt(key + "/robots.txt")
        except RetryableFailure as exc:
            # RFC 9309: an unreachable robots.txt means "disallow"; not cached, so a later call retries.
            raise SiteUnreachable("fetch", "robots_unavailable", f"{key}/robots.txt: {exc.reason}") from exc
        except Rejected:
            attempt = None
        status = attempt.response.status_code if attempt else 404
        if status == 200:
            _, charset = parse_content_type(attempt.response.headers.get("Content-Type"))
            parser = Protego.parse(attempt.body.decode(charset or "utf-8", errors="replace"))
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                self._host_interval[parts.netloc] = float(delay)
        elif 400 <= status < 500 or 300 <= status < 400:
            parser = Protego.parse("")  # no robots.txt (or too many redirects): everything is allowed
        else:
            raise SiteUnreachable("fetch", "robots_unavailable", f"{key}/robots.txt answered {status}")
        self._robots[key] = parser
        return parser

    def _robots_txt(self, url: str) -> _Attempt | None:
        """GET robots.txt, following redirects (RFC 9309: at least five, even to another host, but
        never off a mirror); None when there are more, a loop or a bad target, which the RFC lets a
        crawler treat as "unavailable"."""
        deadline = time.monotonic() + self.total_timeout
        seen = {url}
        for _hop in range(settings.ROBOTS_MAX_REDIRECTS + 1):
            attempt = self._send(url, {}, deadline, max_bytes=settings.ROBOTS_MAX_BYTES)
            if not attempt.response.is_redirect:
                return attempt
            try:
                location = urljoin(url, attempt.response.headers["Location"])
                url = self.routing.redirect_target(location) or (None if self.routing.mirror else location)
            except ValueError:  # an unparsable Location
                return None
            if url is None or url in seen:
                return None
            seen.add(url)
        return None

    def _check_robots(self, wire_url: str) -> None:
        if self.obey_robots and not self._robots_for(wire_url).can_fetch(wire_url, self.user_agent):
            raise Rejected("fetch", "robots_disallowed", f"robots.txt forbids {wire_url}")

    # -- one request, with retries ----------------------------------------
    def _read_body(self, response: requests.Response, max_bytes: int, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise Rejected("fetch", "too_large", f"Content-Length {declared} > {max_bytes} bytes")
        chunks, size = [], 0
        raw = response.raw
        while True:
            # read1 returns what one receive brought (decompressed, each inflate step bounded by
            # urllib3), so the size limit is on decompressed bytes and the deadline is checked often.
            remaining = _remaining(deadline, response.url)
            sock = getattr(raw.connection, "sock", None)
            if sock is not None:
                sock.settimeout(min(self.timeout[1], remaining))
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)
            except ReadTimeoutError as exc:
                _remaining(deadline, response.url)  # the deadline's own timeout says so
                raise requests.exceptions.Timeout(str(exc)) from exc
            except ProtocolError as exc:
                raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc
            except DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(str(exc)) from exc
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise Rejected("fetch", "too_large", f"more than {max_bytes} bytes after decompression")
            chunks.append(chunk)

    def _send(self, wire_url: str, headers: dict[str, str], deadline: float, *,
              max_bytes: int | None = None) -> _Attempt:
        """GET ``wire_url`` (no redirects), retrying transient faults until ``deadline``; read a 2xx body."""
        retry = self.retry
        while True:
            self._throttle(wire_url)
            self.requests_made += 1
            response, error = None, None
            try:
                remaining = _remaining(deadline, wire_url)
                response = self.session.get(wire_url, headers=headers, stream=True, allow_redirects=False,
                                            auth=self.routing.auth_for(wire_url),
                                            timeout=(min(self.timeout[0], remaining),
                                                     min(self.timeout[1], remaining)))
                if response.status_code in RETRY_STATUSES:
                    pass  # decided below, with the policy
                elif 200 <= response.status_code < 300:
                    body = self._read_body(response, max_bytes or self.max_bytes, deadline)
                    response.close()
                    return _Attempt(response, body)
                else:
                    response.close()
                    return _Attempt(response)
            except requests.exceptions.ContentDecodingError as exc:
                response.close()
                raise Rejected("fetch", "bad_content_encoding", str(exc)) from exc
            except (Rejected, RetryableFailure):
                if response is not None:
                    response.close()
                raise
            except _BODY_ERRORS as exc:
                if response is not None:
                    response.close()
                    response = None
                error = exc
            except requests.exceptions.RequestException as exc:
                raise Rejected("fetch", "bad_request", f"{wire_url}: {exc}") from exc
            status = response.status_code if response is not None else None
            try:
                raw = response.raw if response is not None else None
                retry = retry.increment("GET", wire_url, response=raw)
            except MaxRetryError as exc:
                if response is not None:
                    response.close()
                    raise RetryableFailure("fetch", f"http_{status}",
                                           f"{wire_url} still answered {status} after retries") from exc
                reason = "timeout" if isinstance(error, requests.exceptions.Timeout) else "connection_error"
                # No connection at all (refused, unresolvable, connect timeout): the site is down.
                down = isinstance(error, requests.exceptions.ConnectionError)
                failure = SiteUnreachable if down else RetryableFailure
                raise failure("fetch", reason, f"{wire_url}: {error}") from exc
            delay = retry.get_backoff_time()
            if response is not None:
                try:
                    retry_after = retry.get_retry_after(response.raw)
                except InvalidHeader:
                    retry_after = None
                if retry_after is not None:
                    delay = max(delay, retry_after)
                response.close()
            if delay > 0:
                if time.monotonic() + delay >= deadline:
                    raise RetryableFailure("fetch", "deadline", f"{wire_url}: no time left for another "
                                           f"attempt within {self.total_timeout:g} s")
                time.sleep(delay)

    # -- the public call --------------------------------------------------
    def _validated_page(self, page_url: str) -> Page | None:
        if page_url in self._validated:
            return self._validated[page_url]
        if self.conn is not None:
            return latest_page(self.conn, page_url)
        return None

    def fetch(self, url: str, *, kind: str = "article", deadline: float | None = None) -> Page:
        """Fetch ``url`` (absolute or relative to the source) by ``deadline`` if sooner than ``total_timeout``
        (a run's budget, as ``time.monotonic()``); raise Rejected or RetryableFailure."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        on_source = self.routing.source_url(url)
        if not self.source.owns_url(on_source):
            raise Rejected("fetch", "off_source", f"{url} is not on {self.source.name}")
        page_url = self.routing.page_url(url, kind)
        wire = self.routing.wire_url(on_source if kind != "article" else page_url)
        try:
            return self._fetch(page_url, wire, kind, deadline)
        except (Rejected, RetryableFailure, psycopg2.Error):  # a database error (the shared host
            raise                                                # schedule's) is the stage's, not this URL's
        except Exception as exc:  # anything unforeseen still ends as a recorded failure
            raise RetryableFailure("fetch", "unexpected_error", f"{url}: {exc!r}") from exc

    def _fetch(self, page_url: str, wire: str, kind: str, until: float | None = None) -> Page:
        headers: dict[str, str] = {}
        previous = self._validated_page(page_url) if kind in ("listing", "feed") else None
        if previous is not None:
            stored = CaseInsensitiveDict(previous.headers)
            if stored.get("ETag"):
                headers["If-None-Match"] = stored["ETag"]
            if stored.get("Last-Modified"):
                headers["If-Modified-Since"] = stored["Last-Modified"]
        seen = {wire}
        current = wire
        deadline = min(time.monotonic() + self.total_timeout, until or float("inf"))
        for _hop in range(self.max_redirects + 1):
            self._check_robots(current)
            attempt = self._send(current, headers, deadline)
            response = attempt.response
            if response.is_redirect:
                location = urljoin(current, response.headers["Location"])
                target = self.routing.redirect_target(location)
                if target is None:
                    raise Rejected("fetch", "redirect_off_host", f"{current} redirects to {location}")
                if target in seen:
                    raise Rejected("fetch", "redirect_loop", f"{current} redirects back to {target}")
                seen.add(target)
                current = target
                continue
            break
        else:
            raise Rejected("fetch", "too_many_redirects",
                           f"more than {self.max_redirects} redirects from {wire}")
        fetched_at = datetime.now(UTC)
        status = response.status_code
        if status == 304 and previous is not None:
            return replace(previous, status=304, not_modified=True, fetched_at=fetched_at,
                           final_url=current)
        if not 200 <= status < 300:
            raise Rejected("fetch", f"http_{status}", f"{current} answered {status}")
        media_type, charset = parse_content_type(response.headers.get("Content-Type"))
        allowed = FEED_TYPES if kind == "feed" else HTML_TYPES
        if media_type not in allowed:
            raise Rejected("fetch", "bad_content_type",
                           f"{current} is {media_type or 'untyped'}, wanted {kind} content")
        if kind == "feed":
            refuse_unsafe_xml(attempt.body)
        encoding, text = decode_body(attempt.body, charset, is_html=media_type in HTML_TYPES)
        page = Page(url=page_url, final_url=current, status=status, headers=dict(response.headers),
                    content_type=media_type, encoding=encoding, body=attempt.body, text=text,
                    fetched_at=fetched_at)
        if kind in ("listing", "feed") and ({"etag", "last-modified"} & {h.lower() for h in page.headers}):
            self._validated[page_url] = page
        return page

