"""Parse + normalize throughput on real and replica article pages, against trafilatura.extract.

Two page sets: the real tengrinews.kz dev pages (read from
../shared/real-pages/tengrinews, never copied here; skipped with a note when
absent) and the replica's article pages. On each set both run in this
process, pinned to one core, on the same pages, in the same run: the
project's ``news_etl.parse.parse_article`` (layers, selectors, normalization
into an Article) and ``trafilatura.extract`` (text only). Each is warmed up
on every page first, then timed over whole rounds of all pages, taking each
one's best round; rounds alternate between them, so other load on the
machine hits all alike. Peak Python memory of one pass is measured
separately with tracemalloc (which slows code down, so it never overlaps the
timing), and the resident memory a pass adds (libxml2's C allocations
included) in a forked child. The goal (issues 3 and 19) is at least 3x
trafilatura's pages per second on each set, every page parsed: the last line
says PASS or FAIL (exit code 1 on FAIL). Two reference rows put the figures
in context: lxml's own parse of the whole page, and BeautifulSoup building
the whole tree (which the parser no longer does).

    .venv/bin/python bench/parse_bench.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import trafilatura
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]  # the library, and devtools/

from news_etl.errors import Rejected  # noqa: E402
from news_etl.page import decode_body  # noqa: E402
from news_etl.parse import parse_article  # noqa: E402
from news_etl.sources import get_source  # noqa: E402

from devtools.replica import SITE_DIR as SITE  # noqa: E402

REAL = REPO.parent / "shared" / "real-pages" / "tengrinews"
FETCHED_AT = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
GOAL = 3.0


def article_pages(source) -> list[tuple[str, str]]:
    """(canonical URL, text) of every article page of the replica."""
    pages = []
    for path in sorted(SITE.rglob("index.html")):
        url_path = "/" + str(path.parent.relative_to(SITE)) + "/"
        url = source.base_url + url_path
        if source.article_id(url) is None:
            continue  # listings, sections
        _, text = decode_body(path.read_bytes(), None)
        pages.append((url, text))
    return pages


def real_pages() -> list[tuple[str, str]]:
    """(URL, text) of the real dev pages, in expected.json's order; empty when ../shared is absent."""
    if not (REAL / "expected.json").is_file():
        return []
    pages = []
    for url in json.loads((REAL / "expected.json").read_text(encoding="utf-8")):
        path = REAL / "pages" / (url.rstrip("/").rsplit("/", 1)[1] + ".html")
        pages.append((url, decode_body(path.read_bytes(), None)[1]))
    return pages


def best_rounds(funcs: dict[str, Callable[[str, str], object]], pages: list[tuple[str, str]],
                rounds: int) -> dict[str, float]:
    """Best whole-round time of each function; rounds alternate so background load hits both alike."""
    best = dict.fromkeys(funcs, float("inf"))
    for _ in range(rounds):
        for name, func in funcs.items():
            start = time.perf_counter()
            for url, text in pages:
                func(url, text)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def python_peak(func: Callable[[str, str], object], pages: list[tuple[str, str]]) -> int:
    """Peak of Python-level allocations over one pass (tracemalloc; not libxml2's own C memory)."""
    tracemalloc.start()
    try:
        for url, text in pages:
            func(url, text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rss_growth(func: Callable[[str, str], object], pages: list[tuple[str, str]]) -> int:
    """Peak resident memory added by one pass, C allocations included, measured in a forked child."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: everything is loaded and warm; only the pass's own memory is added
        os.close(read_fd)
        with open("/proc/self/statm") as statm:
            before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        for url, text in pages:
            func(url, text)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        os.write(write_fd, str(max(0, peak - before)).encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        value = pipe.read()
    os.waitpid(pid, 0)
    return int(value or 0)


def measure(label: str, pages: list[tuple[str, str]], source, rounds: int) -> tuple[float, bool]:
    """Print one set's table; return parse_article's ratio to trafilatura and whether every page parsed."""
    rejected: list[str] = []

    def ours(url: str, text: str) -> object:
        try:
            return parse_article(text, url=url, source=source, fetched_at=FETCHED_AT)
        except Rejected as exc:
            rejected.append(f"{url}: {exc}")
            return None

    def theirs(url: str, text: str) -> object:
        return trafilatura.extract(text, url=url)

    for url, text in pages:  # warm-up: imports, dateparser's language data, lxml/cssselect caches
        ours(url, text)
        theirs(url, text)
    warm_rejects = list(rejected)

    funcs = {"news_etl.parse_article": ours, "trafilatura.extract": theirs,
             "(ref) lxml.html parse": lambda _url, text: lxml.html.document_fromstring(text),
             "(ref) BeautifulSoup lxml": lambda _url, text: BeautifulSoup(text, "lxml")}
    times = best_rounds(funcs, pages, rounds)
    results = {name: (times[name], len(pages) / times[name], python_peak(func, pages),
                      rss_growth(func, pages)) for name, func in funcs.items()}

    size = sum(len(text.encode()) for _, text in pages)
    print(f"{label}: {len(pages)} article pages ({size / len(pages) / 1024:.0f} KiB average),"
          f" 1 core, best of {rounds} alternating round(s)")
    print(f"{'method':<26}{'s/round':>9}{'pages/s':>9}{'ms/page':>9}{'py peak MiB':>13}{'RSS +MiB':>10}")
    for name, (seconds, rate, py_peak, rss) in results.items():
        print(f"{name:<26}{seconds:>9.3f}{rate:>9.0f}{1000 / rate:>9.2f}{py_peak / 2**20:>13.1f}"
              f"{rss / 2**20:>10.1f}")
    if warm_rejects:
        print(f"{len(warm_rejects)} page(s) rejected by the parser (they skip most of the work: "
              "the speed below flatters it):")
        for line in warm_rejects:
            print("  " + line)
    ours_rate = results["news_etl.parse_article"][1]
    ratio = ours_rate / results["trafilatura.extract"][1]
    print(f"{label}: parse_article {ours_rate:.0f} pages/s = {ratio:.2f}x trafilatura.extract, "
          f"{ours_rate / results['(ref) BeautifulSoup lxml'][1]:.2f}x a whole BeautifulSoup tree, "
          f"peak +{results['news_etl.parse_article'][3] / 2**20:.1f} MiB RSS "
          f"(Python peak {results['news_etl.parse_article'][2] / 2**20:.1f} MiB)\n")
    return ratio, not warm_rejects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 pages a set, one round: a smoke run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal states
    source = get_source("tengrinews")
    sets = {"real pages": real_pages(), "replica": article_pages(source) if SITE.is_dir() else []}
    if not sets["real pages"]:
        print(f"no real pages at {REAL}: measuring the replica only")
    if not sets["replica"]:
        print(f"no replica article pages at {SITE}")
    rounds = 1 if args.quick else args.rounds
    outcomes = {}
    for label, pages in sets.items():
        if pages:
            outcomes[label] = measure(label, pages[:10] if args.quick else pages, source, rounds)
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if not outcomes:
        return 1
    passed = all(ratio >= GOAL and parsed for ratio, parsed in outcomes.values())
    summary = ", ".join(f"{label} {ratio:.2f}x{'' if parsed else ' (pages rejected)'}"
                        for label, (ratio, parsed) in outcomes.items())
    print(f"{'PASS' if passed else 'FAIL'}: parse_article vs trafilatura.extract: {summary} "
          f"(goal >= {GOAL:.0f}x)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
