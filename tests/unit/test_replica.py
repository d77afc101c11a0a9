"""The offline replica of tengrinews.kz over real HTTP on loopback: pages, listings, faults, request log.

Expected counts and ids below are written by hand from the replica's README, not read back
from the generator's manifest (the manifest is checked against them instead).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest
import requests
from bs4 import BeautifulSoup
from defusedxml import ElementTree as SafeET
from defusedxml.common import DTDForbidden, EntitiesForbidden
from support.replica_expected import BY_ID, EXPECTED, SHOWN

from devtools.replica import FAULTS, SITE_DIR, serve

ARTICLE_PATH = re.compile(r"^/[a-z_]+/[a-z0-9-]+-(\d+)/$")
UA = "news-etl/0.1.0 (news archive ingestion; obeys robots.txt)"

# Day → (archive pages, listed links, ids of this source's articles listed), by hand.
DAYS = {
    "2019-11-05": (1, 11, {383322, 383270, 383301, 383315, 383340, 383361}),
    "2023-03-14": (1, 11, {493598, 493610, 493625, 493642, 493655, 493671, 493688}),
    "2024-02-29": (1, 7, {527201, 527215, 527230, 527244, 527250, 527252}),
    "2024-03-01": (1, 5, {527260, 527290, 527310, 527333}),
    "2026-04-27": (1, 11, {596101, 596120, 596131, 596142, 596150, 596165, 596170}),
    "2026-04-28": (2, 21, {596201, 596202, 596203, 596204, 596205, 596206, 596207, 596208, 596210,
                           596211, 596212, 596213, 596214, 596215}),
}
# Of those, the ones a correct pipeline loads (the rest are faults that must end rejected/failed).
LOADED_ON_FAULT_DAY = {596201, 596202, 596203, 596204, 596205, 596206}
# Long reads of a day: not in its archive, found through /article/.
LONG_READS = {"2024-02-29": {2399}, "2024-03-01": {2402, 2404}}
CP1251 = {596204, 596205, 596206}
MB = 1024 * 1024


@pytest.fixture(scope="module")
def replica():
    with serve() as server:
        yield server


@pytest.fixture
def fresh(replica):
    replica.reset_faults()
    replica.reset_requests()
    return replica


def get(replica, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 10)
    return requests.get(replica.base_url + path, **kwargs)


def listing_links(html: str) -> tuple[list[str], list[str]]:
    """(item links, pagination links) of a day archive page, in either markup generation."""
    soup = BeautifulSoup(html, "lxml")
    items = [a["href"] for a in soup.select("div.content_main_item span.content_main_item_title a, "
                                            "div.tn-news-author-list-item a.tn-link")]
    pages = [a["href"] for a in soup.select("ul.pagination a, ul.tn-pagination a")]
    return items, pages


def crawl_day(replica, day: str) -> tuple[list[str], list[str]]:
    y, m, d = day.split("-")
    todo, seen, items = [f"/news/{y}/{m}/{d}/"], [], []
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        response = get(replica, path)
        assert response.status_code == 200, path
        found, pages = listing_links(response.text)
        items += found
        todo += [urlsplit(urljoin(replica.base_url + path, p)).path for p in pages]
    return seen, items


def own_article_id(href: str) -> int | None:
    parts = urlsplit(href)
    if parts.hostname not in (None, "tengrinews.kz", "www.tengrinews.kz"):
        return None
    match = ARTICLE_PATH.match(parts.path)
    return int(match.group(1)) if match else None


# ------------------------------------------------------------------ pages and listings
def test_robots_txt_blocks_private_for_our_user_agent(replica):
    response = get(replica, "/robots.txt")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    robots = RobotFileParser()
    robots.parse(response.text.splitlines())
    assert not robots.can_fetch(UA, "https://tengrinews.kz/private/sluzhebnaya-zapiska-596215/")
    assert robots.can_fetch(UA, "https://tengrinews.kz/news/2019/11/05/")
    assert robots.can_fetch(UA, "https://tengrinews.kz" + BY_ID[383322].path)


@pytest.mark.parametrize("day", sorted(DAYS))
def test_day_archive_pagination_lists_the_days_articles(replica, day):
    n_pages, n_links, ids = DAYS[day]
    pages, items = crawl_day(replica, day)
    assert len(pages) == n_pages
    assert len(items) == n_links
    assert {own_article_id(h) for h in items} - {None} == ids


def test_listings_link_sister_sites_and_duplicates(replica):
    _, items = crawl_day(replica, "2019-11-05")
    hosts = {urlsplit(h).hostname for h in items} - {None}
    assert {"tengrisport.kz", "tengriauto.kz", "tengritravel.kz", "www.tengrinews.kz"} <= hosts
    sample = [h for h in items if own_article_id(h) == 383322]
    assert len(sample) == 3 and any("utm_source=" in h for h in sample)
    assert any(h.startswith("/events/") for h in sample)


def test_other_section_path_redirects_to_the_article(replica):
    response = get(replica, "/events/almatyi-sankt-peterburg-razrabotayut-dorojnuyu-kartu-383322/",
                   allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"] == BY_ID[383322].path


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: str(e.article_id))
def test_every_article_page_is_served(replica, expected):
    if expected.article_id == 596207:
        pytest.skip("served truncated on purpose, see test_truncated_body")
    response = get(replica, expected.path, headers={"User-Agent": UA})
    if expected.article_id in (596202, 596203):  # 429 / 500 on the first request only
        response = get(replica, expected.path)
    assert response.status_code == 200
    text = response.content.decode("cp1251" if expected.article_id in CP1251 else "utf-8")
    soup = BeautifulSoup(text, "lxml")
    assert soup.find("link", rel="canonical")["href"] == expected.url
    assert expected.title in soup.find("h1").get_text()
    assert len(text) > 40_000  # real pages carry their chrome, scripts and ads


def test_every_article_file_has_a_hand_written_expectation():
    pages = {"/" + str(p.parent.relative_to(SITE_DIR)) + "/" for p in SITE_DIR.rglob("index.html")}
    articles = {p for p in pages if ARTICLE_PATH.match(p) and not p.startswith("/news/")}
    assert articles == {e.path for e in EXPECTED}
    assert {e.url for e in EXPECTED} == set(SHOWN)
    assert len(EXPECTED) >= 34


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: str(e.article_id))
def test_hand_written_records_agree_with_what_the_builder_rendered(expected):
    shown = SHOWN[expected.url]
    assert (shown["title"], shown["published_at"], shown["author"]) == (
        expected.title, expected.published_at, expected.author)
    lines = shown["body_lines"]
    assert (len(lines), lines[0], lines[-1]) == (expected.paragraphs, expected.first, expected.last)
    assert not set(lines) & set(shown["noise_lines"])


def test_older_and_current_markup_both_present(replica):
    older = get(replica, BY_ID[493610].path).text
    assert 'class="tn-content-title"' in older and 'class="tn-news-text"' in older
    current = BeautifulSoup(get(replica, BY_ID[2402].path).text, "lxml")
    assert current.select_one("div.date-time").get_text() == "01 марта 2024 10:40"
    assert current.select_one("h1.head-single").get_text() == BY_ID[2402].title
    names = current.select("div.content_main_meta_author_item span.content_main_meta_author_item_name a")
    assert [a.get_text() for a in names] == ["Сауле Муканова", "Ержан Касымов"]
    assert current.find("link", rel="amphtml")["href"] == BY_ID[2402].url + "amp/"
    text = current.select_one("div.content_main_text")
    assert text.select("blockquote.instagram-media") and text.select("h2") and text.select("ol li")
    assert any(br for br in text.select("p br"))
    pr = BeautifulSoup(get(replica, BY_ID[2404].path).text, "lxml")
    marker = pr.select_one("div.content_main_text div.tn-pr").get_text(strip=True)
    assert marker.startswith("Материал предоставлен")
    assert pr.select("blockquote.tiktok-embed") and not pr.select("div.content_main_meta_author_item")


@pytest.mark.parametrize("expected", [e for e in EXPECTED if e.article_id not in (527250, 527252, 596199)
                                      and e.article_id not in range(493000, 494000)],
                         ids=lambda e: str(e.article_id))
def test_current_pages_declare_the_sites_constant_offsets(expected):
    """article:published_time always +05:00, JSON-LD always +06:00, whatever the date; the organization
    is the meta author, and JSON-LD names it when the page names no person."""
    raw = (SITE_DIR / expected.path.strip("/") / "index.html").read_bytes()
    soup = BeautifulSoup(raw.decode("cp1251" if expected.article_id in CP1251 else "utf-8"), "lxml")
    wall = SHOWN[expected.url]["local"].replace(" ", "T") + ":00"
    assert soup.find("meta", property="article:published_time")["content"] == wall + "+05:00"
    [data] = [json.loads(s.string) for s in soup.find_all("script", type="application/ld+json")
              if '"NewsArticle"' in s.string]
    assert data["datePublished"] == wall + "+06:00"
    assert soup.find("meta", attrs={"name": "author"})["content"] == "tengrinews.kz"
    if not expected.author:
        assert data["author"]["@type"] == "Organization"


def test_long_reads_listing_is_paginated_like_the_real_one(replica):
    """/article/: 20 items a page, newest first; ul.pagination > li.page-item > a.page-link with a
    window, "•" and the last page."""
    first = BeautifulSoup(get(replica, "/article/").text, "lxml")
    items = [a["href"] for a in first.select("div.content_main_item span.content_main_item_title a")]
    assert len(items) == 20 and items[:3] == [BY_ID[2404].path, BY_ID[2402].path, BY_ID[2399].path]
    shown = [li.get_text(strip=True) for li in first.select("ul.pagination > li.page-item")]
    assert shown[1:] == ["1", "2", "3", "4", "5", "•", "9", ""]
    fifth = BeautifulSoup(get(replica, "/article/page/5/").text, "lxml")  # as the real page 5 shows it
    shown = [li.get_text(strip=True) for li in fifth.select("ul.pagination > li.page-item")]
    assert shown[1:-1] == ["1", "2", "•", "2", "3", "4", "5", "6", "7", "8", "•", "9"]
    links = [a["href"] for a in fifth.select("ul.pagination > li.page-item > a.page-link")]
    assert links[0] == "/article/page/4/" and links[-1] == "/article/page/6/"
    last = BeautifulSoup(get(replica, "/article/page/9/").text, "lxml")
    assert [li.get_text(strip=True) for li in last.select("ul.pagination > li.page-item")][1:] == [
        "1", "2", "•", "5", "6", "7", "8", "9"]
    assert get(replica, "/article/page/10/").status_code == 404


def test_older_listing_has_its_pagination_and_a_strip_of_other_days(replica):
    soup = BeautifulSoup(get(replica, "/news/2023/03/14/").text, "lxml")
    items = [a["href"] for a in soup.select("div.tn-news-author-list-item a.tn-link")]
    strip = [a["href"] for a in soup.select("div.tn-tape-item a")]
    assert len(items) == 11 and len(strip) == 12
    assert not {own_article_id(h) for h in strip} & DAYS["2023-03-14"][2]
    assert soup.select("ul.tn-pagination") == [] or soup.select("ul.tn-pagination li.tn-active")


def test_feed_lists_recent_articles(replica):
    response = get(replica, "/news.rss")
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    root = SafeET.fromstring(response.content)
    links = [item.findtext("link") for item in root.iter("item")]
    assert len(links) == 10
    assert {own_article_id(link) for link in links} == {596170, 596165, 596150, 596142, 596131, 596120,
                                                       596101, 527333, 527310, 527290}


@pytest.mark.parametrize("path,marker", [("/rss/billion-laughs.rss", b'<!ENTITY lol9 "&lol8;'),
                                         ("/rss/xxe.rss", b'<!ENTITY xxe SYSTEM "file:///etc/passwd">')])
def test_hostile_feeds_carry_entity_declarations(replica, path, marker):
    body = get(replica, path).content
    assert marker in body
    with pytest.raises(DTDForbidden):
        SafeET.fromstring(body, forbid_dtd=True)
    with pytest.raises(EntitiesForbidden):
        SafeET.fromstring(body)


def test_conditional_get_returns_304(replica):
    first = get(replica, "/news.rss")
    again = get(replica, "/news.rss", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = get(replica, "/news/2019/11/05/", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_pages_are_gzipped_when_asked(replica):
    raw = get(replica, BY_ID[383322].path, stream=True)
    assert raw.headers["Content-Encoding"] == "gzip"
    wire = raw.raw.read(decode_content=False)
    assert BY_ID[383322].title in gzip.decompress(wire).decode()


def test_manifest_agrees_with_the_hand_written_days():
    manifest = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["days"]) == set(DAYS)
    for day, (n_pages, n_links, ids) in DAYS.items():
        entry = manifest["days"][day]
        loaded = {own_article_id(u) for u in entry["expected_loaded"]}
        failing = {own_article_id(f["url"]) for f in entry["expected_not_loaded"]}
        assert len(entry["archive_pages"]) == n_pages and len(entry["listed_hrefs"]) == n_links
        assert loaded | failing == ids | LONG_READS.get(day, set()) and not loaded & failing
        assert {own_article_id(u) for u in entry["long_reads"]} == LONG_READS.get(day, set())
        assert all(u in {e.url for e in EXPECTED} for u in entry["expected_loaded"])
        if day == "2026-04-28":
            assert loaded == LOADED_ON_FAULT_DAY
        else:
            assert not failing


# ------------------------------------------------------------------ faults
def test_slow_page_answers_late(fresh):
    path = BY_ID[596201].path
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(fresh, path, timeout=(5, 0.2))
    assert get(fresh, path).status_code == 200


@pytest.mark.parametrize("article_id,status", [(596202, 429), (596203, 500)])
def test_fails_once_then_succeeds(fresh, article_id, status):
    path = BY_ID[article_id].path
    first = get(fresh, path)
    assert first.status_code == status
    if status == 429:
        assert first.headers["Retry-After"] == "1"
    assert get(fresh, path).status_code == 200
    assert get(fresh, path).status_code == 200
    fresh.reset_faults()
    assert get(fresh, path).status_code == status


def test_truncated_body(fresh):
    path = BY_ID[596207].path
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(fresh, path)
    # On the wire: Content-Length promises more than is sent before the connection closes.
    with socket.create_connection((fresh.host, fresh.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert 0 < len(body) < length


def test_cp1251_with_charset_only_in_meta(replica):
    response = get(replica, BY_ID[596204].path)
    assert response.headers["Content-Type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert b'charset=windows-1251' in response.content
    assert BY_ID[596204].title in response.content.decode("cp1251")


def test_cp1251_without_any_charset(replica):
    response = get(replica, BY_ID[596205].path)
    assert response.headers["Content-Type"] == "text/html"
    assert b"charset" not in response.content.lower()
    assert BY_ID[596205].title in response.content.decode("cp1251")


def test_wrong_charset_in_header(replica):
    response = get(replica, BY_ID[596206].path)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert b'<meta charset="windows-1251">' in response.content
    assert BY_ID[596206].title in response.content.decode("cp1251")


def test_redirect_loop(replica):
    first = get(replica, "/world_news/krugovaya-pereadresatsiya-596208/", allow_redirects=False)
    assert first.status_code == 301
    second = get(replica, first.headers["Location"], allow_redirects=False)
    assert second.headers["Location"] == "/world_news/krugovaya-pereadresatsiya-596208/"
    with pytest.raises(requests.exceptions.TooManyRedirects):
        get(replica, "/world_news/krugovaya-pereadresatsiya-596208/")


def test_redirect_to_another_host(replica):
    response = get(replica, "/internet/perehod-na-drugoy-sayt-596210/", allow_redirects=False)
    assert response.status_code == 301
    assert urlsplit(response.headers["Location"]).hostname == "offsite.example.invalid"


def test_oversized_page(replica):
    response = get(replica, "/kazakhstan_news/ogromnaya-stranitsa-596211/", stream=True)
    assert int(response.headers["Content-Length"]) > 5 * MB
    assert sum(len(chunk) for chunk in response.iter_content(MB)) > 5 * MB


def test_gzip_bomb_is_small_on_the_wire_and_huge_unpacked(replica):
    response = get(replica, "/kazakhstan_news/gzip-bomba-596212/", stream=True)
    assert response.headers["Content-Encoding"] == "gzip"
    wire = response.raw.read(decode_content=False)
    assert len(wire) < 200_000
    # Unpack in bounded steps, stopping once past the 5 MB limit (never holding it all).
    inflater, unpacked, data = zlib.decompressobj(16 + zlib.MAX_WBITS), 0, wire
    while data and unpacked <= 5 * MB:
        unpacked += len(inflater.decompress(data, MB))
        data = inflater.unconsumed_tail
    assert unpacked > 5 * MB


def test_pdf_and_404(replica):
    pdf = get(replica, "/kazakhstan_news/otchet-v-pdf-596213/")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert get(replica, "/kazakhstan_news/udalennaya-novost-596214/").status_code == 404
    assert get(replica, "/no/such/page/").status_code == 404
    assert get(replica, "/../../etc/passwd").status_code == 404


def test_every_fault_path_is_on_the_fault_day():
    _, _, ids = DAYS["2026-04-28"]
    assert {own_article_id(p) for p in FAULTS} - {596209} <= ids  # 596209: the loop's other half


# ------------------------------------------------------------------ request log and CLI
def test_request_log_records_method_path_and_time(fresh):
    get(fresh, "/robots.txt")
    requests.head(fresh.base_url + "/news.rss?x=1", timeout=5)
    assert [(m, p) for m, p, _ in fresh.requests] == [("GET", "/robots.txt"), ("HEAD", "/news.rss?x=1")]
    assert fresh.requests[0][2] <= fresh.requests[1][2]
    fresh.reset_requests()
    assert fresh.requests == []


def test_request_log_is_thread_safe(fresh):
    threads = [threading.Thread(target=get, args=(fresh, f"/robots.txt?n={n}")) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p for _, p, _ in fresh.requests) == sorted(f"/robots.txt?n={n}" for n in range(24))


def test_module_serves_in_the_foreground():
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "plugins")])}
    proc = subprocess.Popen([sys.executable, "-m", "devtools.replica", "--port", "0", "--quiet"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        base = re.search(r"http://[\d.]+:\d+", line).group(0)
        assert requests.get(base + "/robots.txt", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=5)
