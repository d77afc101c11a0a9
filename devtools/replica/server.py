"""A stdlib HTTP server that serves an offline replica site from its directory of files.

The default site is the copy of tengrinews.kz in ``site/``; the other replica sites
(fictional sources) live in ``sites/<key>/`` and are chosen by key (``serve(site="steppeinfo")``).
Pages are plain files (``/a/b/`` → ``<dir>/a/b/index.html``); on the Tengrinews site a few
paths carry faults instead (see ``FAULTS`` and README.md) so that the fetcher can be tested
over real HTTP on loopback without touching the internet.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

SITE_DIR = Path(__file__).with_name("site")
# The sources file of every replica site (Tengrinews and the fictional ones): the demo and tests use it.
SOURCES_FILE = Path(__file__).with_name("sources.yaml")
SITES_DIR = Path(__file__).with_name("sites")  # the other sites, one directory per source key
DEFAULT_SITE = "tengrinews"
# All files get one fixed Last-Modified so that conditional GETs are reproducible.
LAST_MODIFIED = formatdate(1777300000, usegmt=True)  # 2026-04-27

TYPES = {".html": "text/html; charset=utf-8", ".rss": "application/rss+xml; charset=utf-8",
         ".atom": "application/atom+xml; charset=utf-8",
         ".xml": "application/xml; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".json": "application/json", ".pdf": "application/pdf"}

# path → (fault, argument). Documented, with the expected fetch outcome, in README.md.
FAULTS: dict[str, tuple[str, object]] = {
    "/kazakhstan_news/zasedanie-maslihata-almatyi-perenesli-596201/": ("slow", None),
    "/world_news/v-tokio-otkryilas-vyistavka-kazahstanskih-hudojnikov-596202/": ("status_then_ok", 429),
    "/market/tenge-ukrepilsya-na-utrennih-torgah-596203/": ("status_then_ok", 500),
    "/kazakhstan_news/v-pavlodare-otkryili-novyiy-most-596204/": ("content_type", "text/html"),
    "/events/v-karagandyi-proshel-festival-shahterov-596205/": ("content_type", "text/html"),
    "/science/v-shymkente-zapustili-solnechnuyu-stantsiyu-596206/": ("content_type",
                                                                     "text/html; charset=utf-8"),
    "/kazakhstan_news/v-akmolinskoy-oblasti-zaversheno-stroitelstvo-shkolyi-596207/": ("truncated", None),
    "/world_news/krugovaya-pereadresatsiya-596208/": (
        "redirect", "/world_news/krugovaya-pereadresatsiya-596209/"),
    "/world_news/krugovaya-pereadresatsiya-596209/": (
        "redirect", "/world_news/krugovaya-pereadresatsiya-596208/"),
    "/internet/perehod-na-drugoy-sayt-596210/": ("redirect", "http://offsite.example.invalid/internet/596210/"),
    "/kazakhstan_news/ogromnaya-stranitsa-596211/": ("oversized", 6 * 1024 * 1024),
    "/kazakhstan_news/gzip-bomba-596212/": ("gzip_bomb", 64 * 1024 * 1024),
    "/kazakhstan_news/otchet-v-pdf-596213/": ("pdf", None),
    "/kazakhstan_news/udalennaya-novost-596214/": ("status", 404),
}
SLOW_SECONDS = 1.5
_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def available_sites() -> list[str]:
    """Keys of the sites the replica can serve (the Tengrinews one first)."""
    built = sorted(p.name for p in SITES_DIR.iterdir() if p.is_dir()) if SITES_DIR.is_dir() else []
    return [DEFAULT_SITE, *built]


def site_dir_for(site: str | None) -> Path:
    """The directory of files of replica site ``site`` (None: Tengrinews)."""
    if site in (None, DEFAULT_SITE):
        return SITE_DIR
    if site not in available_sites():
        raise ValueError(f"no replica site {site!r}; available: {', '.join(available_sites())}")
    return SITES_DIR / site


@cache
def _gzip_bomb(size: int) -> bytes:
    # Spaces compress about 1000:1: tens of kilobytes on the wire, ``size`` bytes unpacked.
    return gzip.compress(b"<html><body>" + b" " * size, compresslevel=9)


def _filler_page(size: int) -> bytes:
    row = "<p>Очень длинная страница: этот абзац повторяется, чтобы превысить предел размера.</p>\n"
    count = size // len(row.encode()) + 1
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Огромная страница</title></head>"
            "<body>" + row * count + "</body></html>").encode()


class _Handler(BaseHTTPRequestHandler):
    server: ReplicaHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "TengriReplica/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        path = urlsplit(self.path).path or "/"
        self.server.log_request_line(self.command, self.path)
        if self.server.authorization and self.headers.get("Authorization") != self.server.authorization:
            return self._send(401, b"", "text/html", {"WWW-Authenticate": 'Basic realm="replica"'}, head)
        fault, arg = self.server.faults.get(path, (None, None))
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
        elif fault == "status_then_ok" and self.server.first_hit(path):
            extra = {"Retry-After": "1"} if arg == 429 else {}
            return self._send(int(arg), b"<html><body>Try again later</body></html>", "text/html", extra,
                              head)
        elif fault == "status":
            return self._send(int(arg), b"<html><body>Not found</body></html>", "text/html; charset=utf-8",
                              {}, head)
        elif fault == "redirect":
            return self._send(301, b"", "text/html", {"Location": str(arg)}, head)
        elif fault == "oversized":
            return self._send(200, _filler_page(int(arg)), "text/html; charset=utf-8", {}, head)
        elif fault == "pdf":
            return self._send(200, _PDF, "application/pdf", {}, head)
        elif path in self.server.redirects:  # an article linked under a second section
            return self._send(301, b"", "text/html", {"Location": self.server.redirects[path]}, head)
        elif fault == "gzip_bomb":
            return self._send(200, _gzip_bomb(int(arg)), "text/html; charset=utf-8",
                              {"Content-Encoding": "gzip"}, head)
        file = self._file_for(path)
        if file is None:
            return self._send(404, b"<html><body>Not found</body></html>", "text/html; charset=utf-8", {},
                              head)
        body = file.read_bytes()
        ctype = str(arg) if fault == "content_type" else TYPES.get(file.suffix, "application/octet-stream")
        if fault == "truncated":
            # Promise the whole page, send half of it, then hang up.
            return self._send(200, body[: len(body) // 2], ctype, {"Content-Length": str(len(body))}, head,
                              close=True)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self._not_modified(etag):
            return self._send(304, b"", None, {"ETag": etag, "Last-Modified": LAST_MODIFIED}, head)
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        compressible = ctype.startswith(("text/", "application/rss", "application/atom", "application/xml"))
        if compressible and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=5, mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        self._send(200, body, ctype, headers, head)

    def _file_for(self, path: str) -> Path | None:
        root = self.server.site_dir.resolve()
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):  # no ../ escapes out of the site
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _not_modified(self, etag: str) -> bool:
        if self.headers.get("If-None-Match"):
            return etag in self.headers["If-None-Match"]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return parsedate_to_datetime(since) >= parsedate_to_datetime(LAST_MODIFIED)
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: int, body: bytes, ctype: str | None, headers: dict[str, str], head: bool,
              close: bool = False) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        headers = {"Content-Length": str(len(body)), **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head and status != 304:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. size limit)
                self.close_connection = True


class ReplicaHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site_dir: Path, verbose: bool = False,
                 faults: dict[str, tuple[str, object]] | None = None) -> None:
        super().__init__(address, _Handler)
        self.site_dir = Path(site_dir)
        self.verbose = verbose
        # The fault table belongs to the Tengrinews site; the other sites serve their files as they are.
        if faults is None:
            faults = FAULTS if self.site_dir.resolve() == SITE_DIR.resolve() else {}
        self.faults = faults
        # Generated by build_site.py: other-section paths of an article → its own path.
        redirects = self.site_dir / "_redirects.json"
        self.redirects: dict[str, str] = json.loads(redirects.read_text()) if redirects.is_file() else {}
        self.slow_seconds = SLOW_SECONDS
        self.authorization: str | None = None  # the Authorization header every request must carry
        self.requests: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self._hits: set[str] = set()

    def log_request_line(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path, time.monotonic()))

    def first_hit(self, path: str) -> bool:
        """True the first time ``path`` is asked for on this server (for fail-once faults)."""
        with self._lock:
            if path in self._hits:
                return False
            self._hits.add(path)
            return True

    def reset_faults(self) -> None:
        with self._lock:
            self._hits.clear()


class ReplicaServer:
    """A running replica on a background thread; use as a context manager."""

    def __init__(self, site_dir: Path | str | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 site: str | None = None, basic_auth: tuple[str, str] | None = None) -> None:
        if site_dir is not None and site is not None:
            raise ValueError("give a site key or a site directory, not both")
        self.httpd = ReplicaHTTPServer((host, port), Path(site_dir or site_dir_for(site)))
        if basic_auth:  # a mirror behind a login: anything else gets 401
            token = base64.b64encode(":".join(basic_auth).encode()).decode()
            self.httpd.authorization = f"Basic {token}"
        self.host, self.port = self.httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="replica", daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[tuple[str, str, float]]:
        """(method, path with query, time.monotonic()) of every request, in arrival order."""
        return self.httpd.requests

    @property
    def slow_seconds(self) -> float:
        return self.httpd.slow_seconds

    @slow_seconds.setter
    def slow_seconds(self, value: float) -> None:
        self.httpd.slow_seconds = value

    def reset_requests(self) -> None:
        with self.httpd._lock:
            self.httpd.requests.clear()

    def reset_faults(self) -> None:
        """Make the fail-once faults (429, 500) fail again on their next request."""
        self.httpd.reset_faults()

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ReplicaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(site_dir: Path | str | None = None, host: str = "127.0.0.1", port: int = 0, *,
          site: str | None = None, basic_auth: tuple[str, str] | None = None) -> ReplicaServer:
    """Start a replica on a background thread (port 0: any free port).

    ``site`` picks a replica site by source key ("steppeinfo", "caspianwire"; default Tengrinews);
    ``basic_auth`` (user, password) puts it behind a login.
    """
    return ReplicaServer(site_dir, host, port, site=site, basic_auth=basic_auth)
