"""A tiny HTTP server on 127.0.0.1 for fetch/discover tests: path -> handler, request times logged."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A route returns (status, headers, body) or writes the response itself and returns None.
Route = Callable[[BaseHTTPRequestHandler], "tuple[int, dict[str, str], bytes] | None"]


class Loopback:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, float, dict[str, str]]] = []  # (path, monotonic time, headers)
        loop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                loop.requests.append((self.path, time.monotonic(), dict(self.headers)))
                route = loop.routes.get(self.path) or loop.routes.get(self.path.split("?")[0])
                result = route(self) if route else (404, {"Content-Type": "text/html"}, b"not here")
                if result is None:
                    return
                status, headers, body = result
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def times(self, path: str) -> list[float]:
        return [t for p, t, _ in self.requests if p == path]


def html(body: str, *, status: int = 200, charset: str = "utf-8", **headers: str):
    """A route answering a fixed HTML page."""
    data = body.encode(charset)
    return lambda _req: (status, {"Content-Type": f"text/html; charset={charset}", **headers}, data)


ALLOW_ALL = lambda _req: (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n")  # noqa: E731
