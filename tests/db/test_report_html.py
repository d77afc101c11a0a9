"""The HTML report opened in a real headless Chromium (Debian's ``chromium`` package).

The browser is driven over the DevTools protocol through
``--remote-debugging-pipe`` (JSON messages separated by NUL on file
descriptors 3 and 4), which needs no port and no websocket library. The test
records every console message, page error, log entry and network request of
the page, takes a screenshot, and inspects the DOM.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from news_etl.report import build_report, refresh_views, render_html
from test_views import SCRIPT_TITLE, load_fixture

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                       "(apt-get install chromium; .ci/run installs it)"),
]
TIMEOUT = 30.0


class Browser:
    """A headless Chromium with a fresh profile, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path, log: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "--window-size=1200,900",
                "--no-first-run", "about:blank"]
        # The protocol wants the pipe on fds 3 (in) and 4 (out): bash puts it there (dash's
        # redirections take one-digit descriptors only).
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}', CHROMIUM, *args],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self.events: queue.Queue[dict] = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._replies[message["id"]] = message
                        self._cond.notify_all()
                else:
                    self.events.put(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        with self._cond:
            if not self._cond.wait_for(lambda: ident in self._replies, timeout=TIMEOUT):
                raise TimeoutError(f"no reply to {method}")
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may be gone already; killed below
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        self._reader.join(timeout=5)
        os.close(self._from_browser)
        self._log.close()


class Visit:
    """What happened while a page was loaded: console, errors, requests, DOM, screenshot."""

    def __init__(self) -> None:
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dom: dict = {}
        self.screenshot = b""


DOM_PROBE = """(() => {
  const charts = Array.from(document.querySelectorAll('figure.chart')).map(f => {
    const svg = f.querySelector(':scope > svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {id: f.id, width: box.width, height: box.height,
            shapes: svg ? svg.querySelectorAll('path, use, rect').length : 0};
  });
  return {
    title: document.title,
    charts: charts,
    scripts: document.querySelectorAll('script').length,
    newest: Array.from(document.querySelectorAll('#newest .title')).map(e => e.textContent),
    bodyText: document.body.innerText,
  };
})()"""


def visit(url: str, tmp_path: Path) -> Visit:
    """Open url in a fresh headless Chromium and record everything the page did."""
    browser = Browser(tmp_path / "profile", tmp_path / "chromium.log")
    result = Visit()
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + TIMEOUT
        loaded_at = None
        # Keep listening a moment after "load" for late errors and requests.
        while loaded_at is None or time.monotonic() < loaded_at + 1.0:
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not load")
            try:
                event = browser.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if event.get("sessionId") != session:
                continue
            method, params = event["method"], event.get("params", {})
            if method == "Page.loadEventFired":
                loaded_at = time.monotonic()
            elif method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
                result.console.append((params["type"], text))
            elif method == "Runtime.exceptionThrown":
                result.errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                result.errors.append(params["entry"]["text"])
            elif method == "Network.requestWillBeSent":
                result.requests.append(params["request"]["url"])
        result.dom = browser.send("Runtime.evaluate", {"expression": DOM_PROBE, "returnByValue": True},
                                  session=session)["result"]["value"]
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                            session=session)
        result.screenshot = base64.b64decode(shot["data"])
    finally:
        browser.close()
    return result


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def report_page(conn, tmp_path) -> Path:
    load_fixture(conn)
    refresh_views(conn)
    from datetime import date

    path = tmp_path / "report.html"
    path.write_text(render_html(build_report(conn, days=2, today=date(2025, 3, 11))), encoding="utf-8")
    return path


def test_report_in_headless_chromium(report_page, tmp_path):
    seen = visit(report_page.as_uri(), tmp_path)
    # Screenshot of the whole page, kept next to the page for a person to look at.
    (tmp_path / "report.png").write_bytes(seen.screenshot)
    width, height = png_size(seen.screenshot)
    assert width >= 800 and height >= 1500, (width, height)
    # Nothing went wrong and nothing was fetched: the only request is the page itself.
    assert [t for t in seen.console if t[0] in ("error", "assert", "warning")] == []
    assert seen.errors == []
    assert seen.requests == [report_page.as_uri()]
    # The four charts are there, drawn and of a real size.
    assert [c["id"] for c in seen.dom["charts"]] == ["chart-articles", "chart-lag", "chart-runs",
                                                     "chart-rejects"]
    for chart in seen.dom["charts"]:
        assert chart["width"] > 300 and chart["height"] > 100 and chart["shapes"] > 20, chart
    # The title with <script> is text on the page, not a script.
    assert seen.dom["scripts"] == 0
    assert seen.dom["newest"][0] == SCRIPT_TITLE
    assert 'Акимат ответил на <script>alert("xss")</script> в заголовке' in seen.dom["bodyText"]
    assert len(seen.dom["newest"]) == 3


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_browser_probe_sees_requests_and_errors(tmp_path):
    """The checks above can fail: a page that fetches and logs an error is caught."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        bad = tmp_path / "bad.html"
        image = f"http://127.0.0.1:{server.server_address[1]}/pixel.png"
        bad.write_text(f'<!DOCTYPE html><html><body><img src="{image}">'
                       "<script>console.error('broken'); undefinedFunction();</script></body></html>")
        seen = visit(bad.as_uri(), tmp_path)
    finally:
        server.shutdown()
    assert image in seen.requests
    assert ("error", "broken") in seen.console
    assert any("undefinedFunction" in e or "Uncaught" in e for e in seen.errors), seen.errors
