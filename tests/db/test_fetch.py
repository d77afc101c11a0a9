"""news_etl.fetch over real HTTP on loopback: one test per fault, each ending in the right state."""

from __future__ import annotations

import base64
import gzip
import time
import tracemalloc
import zlib

import pytest
from news_etl import settings
from news_etl.errors import Rejected, RetryableFailure
from news_etl.fetch import Fetcher
from news_etl.rawpages import StoredPages, latest_page, save_page
from news_etl.sources import get_source
from support.loopback import ALLOW_ALL, Loopback, html

SOURCE = get_source("tengrinews")
ARTICLE = "/kazakhstan_news/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/"
PAGE = "<html><head><title>t</title></head><body><p>Привет, Алматы</p></body></html>"


def fast_fetcher(lb: Loopback, **kwargs) -> Fetcher:
    options = {"rate_limit_per_second": 0, "backoff_factor": 0.01, "backoff_jitter": 0.0,
               "read_timeout": 2.0, **kwargs}
    return Fetcher(SOURCE, base_url=lb.base_url, **options)


def sequence(*results):
    """A route that answers each result in turn, then repeats the last one."""
    state = {"n": 0}

    def route(_req):
        result = results[min(state["n"], len(results) - 1)]
        state["n"] += 1
        return result

    return route


OK = (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.encode())
ERR500 = (500, {"Content-Type": "text/html"}, b"oops")


def test_page_is_canonical_on_source_host_and_decoded():
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: html(PAGE)}) as lb, fast_fetcher(lb) as f:
        page = f.fetch(f"https://www.tengrinews.kz{ARTICLE}?utm_source=x#c")
    assert page.url == f"https://tengrinews.kz{ARTICLE}"
    assert page.final_url == lb.base_url + ARTICLE
    assert page.status == 200 and page.content_type == "text/html" and not page.not_modified
    assert "Привет, Алматы" in page.text and page.body == PAGE.encode()
    assert page.fetched_at.tzinfo is not None
    assert "news-etl" in lb.requests[-1][2]["User-Agent"]
    assert f.requests_made == 2  # robots.txt + the page


def test_server_error_is_retried_then_succeeds():
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: sequence(ERR500, ERR500, OK)}) as lb, \
            fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
    assert "Привет" in page.text
    assert lb.paths().count(ARTICLE) == 3


def test_persistent_server_error_becomes_retryable_failure():
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: sequence(ERR500)}) as lb, \
            fast_fetcher(lb, max_retries=2) as f, pytest.raises(RetryableFailure) as info:
        f.fetch(ARTICLE)
    assert info.value.stage == "fetch" and info.value.reason == "http_500"
    assert lb.paths().count(ARTICLE) == 3


def test_429_waits_for_retry_after_capped():
    too_many = (429, {"Content-Type": "text/html", "Retry-After": "3600"}, b"slow down")
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: sequence(too_many, OK)}) as lb, \
            fast_fetcher(lb, retry_after_max=1) as f:
        page = f.fetch(ARTICLE)
    assert page.status == 200
    first, second = lb.times(ARTICLE)
    assert second - first >= 0.95  # the capped Retry-After was honoured, not the hour asked for


def test_client_error_is_rejected_without_retry():
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: html("gone", status=404)}) as lb, \
            fast_fetcher(lb) as f, pytest.raises(Rejected) as info:
        f.fetch(ARTICLE)
    assert (info.value.stage, info.value.reason) == ("fetch", "http_404")
    assert lb.paths().count(ARTICLE) == 1


def test_read_timeout_is_retried_then_fails():
    def slow(_req):
        time.sleep(0.6)
        return OK

    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: slow}) as lb, \
            fast_fetcher(lb, read_timeout=0.2, max_retries=1) as f, pytest.raises(RetryableFailure) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "timeout"
    assert lb.paths().count(ARTICLE) == 2


def trickle(stop: dict):
    """A route that promises a page and sends it one byte every 0.4 s: no read ever times out."""
    def route(req):
        req.send_response(200)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", "10000")
        req.end_headers()
        try:
            for _ in range(200):
                if stop.get("now"):
                    return None
                req.wfile.write(b"<")
                req.wfile.flush()
                time.sleep(0.4)
        except OSError:  # the client hung up: what the deadline is for
            stop["hung_up"] = True
        return None
    return route


def test_trickling_body_ends_at_the_total_deadline_without_retries():
    stop: dict = {}
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: trickle(stop)}) as lb, \
            fast_fetcher(lb, read_timeout=2.0, total_timeout=1.5, max_retries=3) as f:
        started = time.monotonic()
        with pytest.raises(RetryableFailure) as info:
            f.fetch(ARTICLE)
        elapsed = time.monotonic() - started
        stop["now"] = True
    assert (info.value.stage, info.value.reason) == ("fetch", "deadline")
    assert ARTICLE in str(info.value)
    # Ended at its deadline, far before the 80 s the whole body would take, and not tried again.
    assert 1.5 <= elapsed < 10.0
    assert lb.paths().count(ARTICLE) == 1


def test_retries_stop_at_the_total_deadline():
    busy = (503, {"Content-Type": "text/html", "Retry-After": "3"}, b"busy")
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: sequence(busy, OK)}) as lb, \
            fast_fetcher(lb, total_timeout=1.0, max_retries=3, retry_after_max=5) as f, \
            pytest.raises(RetryableFailure) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "deadline"
    assert lb.paths().count(ARTICLE) == 1  # the wait Retry-After asks for would pass the deadline


def test_truncated_body_is_retried_then_succeeds():
    def truncated(req):
        req.send_response(200)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", "5000")
        req.end_headers()
        req.wfile.write(b"<html><body><p>half")
        req.close_connection = True

    routes = {"/robots.txt": ALLOW_ALL, ARTICLE: sequence_of_routes(truncated, lambda _r: OK)}
    with Loopback(routes) as lb, fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
    assert "Привет" in page.text
    assert lb.paths().count(ARTICLE) == 2


def sequence_of_routes(*routes):
    state = {"n": 0}

    def route(req):
        chosen = routes[min(state["n"], len(routes) - 1)]
        state["n"] += 1
        return chosen(req)

    return route


def test_connection_refused_is_retryable():
    with Loopback({}) as lb:
        base = lb.base_url
    dead = Fetcher(SOURCE, base_url=base, rate_limit_per_second=0, backoff_factor=0.01,
                   backoff_jitter=0, max_retries=1)
    with dead, pytest.raises(RetryableFailure) as info:
        dead.fetch(ARTICLE)
    assert info.value.stage == "fetch" and info.value.reason == "robots_unavailable"


def test_robots_disallow_blocks_without_requesting():
    robots = lambda _r: (200, {"Content-Type": "text/plain"},  # noqa: E731
                         b"User-agent: *\nDisallow: /kazakhstan_news/\n")
    with Loopback({"/robots.txt": robots, ARTICLE: html(PAGE)}) as lb, fast_fetcher(lb) as f:
        with pytest.raises(Rejected) as info:
            f.fetch(ARTICLE)
        with pytest.raises(Rejected):
            f.fetch(ARTICLE.replace("383322", "383323"))
    assert info.value.reason == "robots_disallowed"
    assert lb.paths() == ["/robots.txt"]  # cached: asked once, and the article never requested


def test_a_redirected_robots_txt_is_followed():
    # RFC 9309: a robots.txt that moved is read where it moved to (here across two redirects).
    disallow = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /kazakhstan_news/\n")
    routes = {"/robots.txt": lambda _r: (301, {"Location": "/moved/robots.txt"}, b""),
              "/moved/robots.txt": lambda _r: (302, {"Location": "/final/robots.txt"}, b""),
              "/final/robots.txt": lambda _r: disallow, ARTICLE: html(PAGE)}
    with Loopback(routes) as lb, fast_fetcher(lb) as f, pytest.raises(Rejected) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "robots_disallowed"
    assert lb.paths() == ["/robots.txt", "/moved/robots.txt", "/final/robots.txt"]


def test_a_robots_txt_redirecting_without_end_counts_as_absent():
    def hop(req):  # /rN.txt -> /rN+1.txt
        return 301, {"Location": f"/r{int(req.path[2:-4]) + 1}.txt"}, b""

    hops = {f"/r{n}.txt": hop for n in range(10)}
    routes = {"/robots.txt": lambda _r: (301, {"Location": "/r0.txt"}, b""), **hops, ARTICLE: html(PAGE)}
    with Loopback(routes) as lb, fast_fetcher(lb) as f:
        assert f.fetch(ARTICLE).status == 200
    assert lb.paths()[-1] == ARTICLE and len(lb.paths()) == 1 + settings.ROBOTS_MAX_REDIRECTS + 1


def test_a_robots_txt_redirecting_off_the_mirror_or_in_a_loop_counts_as_absent():
    for location in ("http://offsite.example.invalid/robots.txt", "", "/robots.txt"):
        routes = {"/robots.txt": lambda _r, loc=location: (301, {"Location": loc}, b""), ARTICLE: html(PAGE)}
        with Loopback(routes) as lb, fast_fetcher(lb) as f:
            assert f.fetch(ARTICLE).status == 200
        assert lb.paths() == ["/robots.txt", ARTICLE], location


def test_a_mirror_password_goes_out_as_basic_auth_in_utf8():
    expected = "Basic " + base64.b64encode("bob:p€ss".encode()).decode()

    def locked(req):
        if req.headers.get("Authorization") != expected:
            return 401, {"Content-Type": "text/html"}, b"login"
        return OK

    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: locked}) as lb:
        netloc = lb.base_url.removeprefix("http://")
        with Fetcher(SOURCE, base_url=f"http://bob:p%E2%82%ACss@{netloc}", rate_limit_per_second=0) as f:
            page = f.fetch(ARTICLE)
    assert page.status == 200 and "@" not in page.final_url and "p€ss" not in page.final_url


def test_robots_wildcards_and_end_anchor_are_honoured():
    # RFC 9309: "*" matches any characters, "$" ends the path; a prefix-only reader allows all of these.
    robots = lambda _r: (200, {"Content-Type": "text/plain"},  # noqa: E731
                         b"User-agent: *\nDisallow: /*?print=\nDisallow: /news/2019/11/05/$\n"
                         b"User-agent: other-bot\nDisallow: /\n")
    day, page2 = "/news/2019/11/05/", "/news/2019/11/05/page/2/"
    routes = {"/robots.txt": robots, day: html(PAGE), page2: html(PAGE)}
    with Loopback(routes) as lb, fast_fetcher(lb) as f:
        refused = []
        for path in (f"{page2}?print=1", f"{page2}?print=yes&utm_source=x", day):
            with pytest.raises(Rejected) as info:
                f.fetch(path, kind="listing")
            refused.append(info.value.reason)
        assert f.fetch(page2, kind="listing").status == 200              # "$": only the day page itself
        assert f.fetch(f"{page2}?page=1", kind="listing").status == 200  # another parameter
        assert f.fetch(f"{page2}?x=1&print=1", kind="listing").status == 200  # "?print=" is literal
    assert refused == ["robots_disallowed"] * 3
    assert lb.paths() == ["/robots.txt", page2, f"{page2}?page=1", f"{page2}?x=1&print=1"]


def test_missing_robots_allows_everything():
    with Loopback({ARTICLE: html(PAGE)}) as lb, fast_fetcher(lb) as f:
        assert f.fetch(ARTICLE).status == 200


def test_too_large_by_content_length():
    big = "<html><body>" + "я" * (1024 * 1024) + "</body></html>"
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: html(big)}) as lb, \
            fast_fetcher(lb, max_bytes=1024 * 1024) as f, pytest.raises(Rejected) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "too_large"


def test_too_large_while_streaming_without_length():
    def chunked(req):
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        block = b"<p>" + b"x" * 65536 + b"</p>"
        try:
            for _ in range(64):
                req.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            req.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: chunked}) as lb, \
            fast_fetcher(lb, max_bytes=1024 * 1024) as f, pytest.raises(Rejected) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "too_large"


def gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join(packer.compress(zeros) for _ in range(size // len(zeros))) + packer.flush()


def test_gzip_bomb_is_stopped_without_inflating_it():
    bomb = gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    route = lambda _r: (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb)  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: route}) as lb, fast_fetcher(lb) as f:
        tracemalloc.start()
        try:
            with pytest.raises(Rejected) as info:
                f.fetch(ARTICLE)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert info.value.reason == "too_large"
    assert peak < 40 * 1024 * 1024  # far below the 200 MB it would inflate to


def test_gzip_encoded_page_is_decompressed():
    route = lambda _r: (200, {"Content-Type": "text/html; charset=utf-8",  # noqa: E731
                              "Content-Encoding": "gzip"}, gzip.compress(PAGE.encode()))
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: route}) as lb, fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
    assert page.body == PAGE.encode()


def redirect(location: str, status: int = 301):
    return lambda _r: (status, {"Location": location, "Content-Type": "text/html"}, b"")


def test_redirect_within_source_is_followed_on_the_mirror():
    moved = "/world_news/novyiy-adres-383322/"
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: redirect(f"https://tengrinews.kz{moved}"),
                   moved: html(PAGE)}) as lb, fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
    assert page.final_url == lb.base_url + moved
    assert page.url == f"https://tengrinews.kz{ARTICLE}"


def test_off_host_redirect_is_refused():
    with Loopback({"/robots.txt": ALLOW_ALL,
                   ARTICLE: redirect("https://tengrisport.kz/football/match-1/")}) as lb, \
            fast_fetcher(lb) as f, pytest.raises(Rejected) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "redirect_off_host"
    assert lb.paths().count(ARTICLE) == 1


def test_redirect_loop_is_stopped():
    routes = {"/robots.txt": ALLOW_ALL, "/a/": redirect("/b/", 302), "/b/": redirect("/a/", 302)}
    with Loopback(routes) as lb, fast_fetcher(lb) as f, pytest.raises(Rejected) as info:
        f.fetch("/a/", kind="listing")
    assert info.value.reason == "redirect_loop"
    assert lb.paths().count("/a/") == 1 and lb.paths().count("/b/") == 1


CP1251_PAGE = "<html><head><title>Новости</title></head><body><p>Курс тенге укрепился</p></body></html>"


def test_cp1251_declared_in_meta_only():
    body = CP1251_PAGE.replace("<head>", '<head><meta charset="windows-1251">').encode("cp1251")
    route = lambda _r: (200, {"Content-Type": "text/html"}, body)  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: route}) as lb, fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
    assert "Курс тенге укрепился" in page.text
    assert page.encoding == "windows-1251"


def test_cp1251_served_as_utf8_is_detected():
    body = (CP1251_PAGE.replace("<p>", "<p>" + "В Алматы прошло заседание городского совета. " * 20)
            .encode("cp1251"))
    route = lambda _r: (200, {"Content-Type": "text/html; charset=utf-8"}, body)  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: route}) as lb, fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
    assert "Курс тенге укрепился" in page.text


def test_non_html_is_refused():
    route = lambda _r: (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: route}) as lb, fast_fetcher(lb) as f, \
            pytest.raises(Rejected) as info:
        f.fetch(ARTICLE)
    assert info.value.reason == "bad_content_type"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol4;</title></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&secret;</title></channel></rss>"""


@pytest.mark.parametrize("feed", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_entity_feeds_are_refused(feed):
    route = lambda _r: (200, {"Content-Type": "application/rss+xml"}, feed)  # noqa: E731
    with Loopback({"/robots.txt": ALLOW_ALL, "/news.rss": route}) as lb, fast_fetcher(lb) as f, \
            pytest.raises(Rejected) as info:
        f.fetch("/news.rss", kind="feed")
    assert (info.value.stage, info.value.reason) == ("fetch", "unsafe_feed")


def test_conditional_get_gives_not_modified():
    listing = "/news/2019/11/05/"

    def route(req):
        if req.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"',
                     "Last-Modified": "Tue, 05 Nov 2019 10:00:00 GMT"}, PAGE.encode()

    with Loopback({"/robots.txt": ALLOW_ALL, listing: route}) as lb, fast_fetcher(lb) as f:
        first = f.fetch(listing, kind="listing")
        second = f.fetch(listing, kind="listing")
    assert not first.not_modified and second.not_modified
    assert second.status == 304 and second.text == first.text
    sent = [headers for path, _, headers in lb.requests if path == listing]
    assert sent[1]["If-None-Match"] == '"v1"'
    assert sent[1]["If-Modified-Since"] == "Tue, 05 Nov 2019 10:00:00 GMT"


def test_conditional_get_uses_stored_validators(conn):
    listing = "/news/2019/11/05/"
    route = lambda req: ((304, {}, b"") if req.headers.get("If-None-Match") == '"v7"' else  # noqa: E731
                         (200, {"Content-Type": "text/html", "ETag": '"v7"'}, PAGE.encode()))
    with conn.cursor() as cur:
        cur.execute("INSERT INTO sources VALUES ('tengrinews', 'Tengrinews.kz', 'https://tengrinews.kz')")
    with Loopback({"/robots.txt": ALLOW_ALL, listing: route}) as lb:
        with fast_fetcher(lb) as f:
            save_page(conn, f.fetch(listing, kind="listing"), source_key="tengrinews")
        with fast_fetcher(lb, conn=conn) as f:  # a later run: validators come from raw_pages
            again = f.fetch(listing, kind="listing")
    assert again.not_modified and "Привет" in again.text


def test_rate_limit_holds_on_the_server_side():
    paths = [f"/news/page/{n}/" for n in range(1, 5)]
    routes = {"/robots.txt": ALLOW_ALL, **{p: html(PAGE) for p in paths},
              ARTICLE: sequence(ERR500, OK)}
    with Loopback(routes) as lb, fast_fetcher(lb, rate_limit_per_second=5) as f:
        for path in paths:
            f.fetch(path, kind="listing")
        f.fetch(ARTICLE)  # a retry waits for the limit too
    times = [t for _, t, _ in lb.requests]
    assert len(times) == 7
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.19  # 5 requests/s, robots.txt and the retry included


def test_rate_limit_defaults_to_the_source():
    assert Fetcher(SOURCE).min_interval == pytest.approx(1.0 / SOURCE.rate_limit_per_second)


def test_off_source_url_is_rejected():
    with Fetcher(SOURCE) as f, pytest.raises(Rejected) as info:
        f.fetch("https://tengrisport.kz/football/match-383322/")
    assert info.value.reason == "off_source" and f.requests_made == 0


def test_stored_pages_make_no_request(conn):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO sources VALUES ('tengrinews', 'Tengrinews.kz', 'https://tengrinews.kz')")
    with Loopback({"/robots.txt": ALLOW_ALL, ARTICLE: html(PAGE)}) as lb, fast_fetcher(lb) as f:
        page = f.fetch(ARTICLE)
        first_id = save_page(conn, page, source_key="tengrinews")
        assert save_page(conn, page, source_key="tengrinews") == first_id  # same body: one row
        served = len(lb.requests)
        stored = StoredPages(conn, SOURCE)
        again = stored.fetch(f"https://m.tengrinews.kz{ARTICLE}?utm_medium=social")
        assert len(lb.requests) == served and stored.requests_made == 0
    assert again.body == page.body and again.text == page.text and again.url == page.url
    assert latest_page(conn, page.url).final_url == page.final_url
    with pytest.raises(Rejected) as info:
        stored.fetch("/world_news/drugaya-novost-1/")
    assert (info.value.stage, info.value.reason) == ("fetch", "not_stored")
