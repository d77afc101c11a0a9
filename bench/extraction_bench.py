"""Article-body extraction quality and speed against trafilatura and readability-lxml.

Reads the benchmark pages from ../shared/benchmarks/article-extraction (never
copied into the repository), runs on every page, in the same run and in turn:
the project's extraction (news_etl.extract.extract_file, what `news-etl extract`
prints), trafilatura.extract(include_comments=False) and readability-lxml.
Scores are precision/recall/F1 of word 4-shingles (lowercased \\w+ tokens,
multiset overlap per page, true/false positives and negatives summed over
pages). Time per page is wall time of each extractor on the same page, taken
back to back, so background load hits all of them alike.

    .venv/bin/python bench/extraction_bench.py [--quick] [--worst N] [--cli]

--cli runs the real `news-etl extract FILE --url URL` command per page for the
scores (slow: one process per page); timings always come from in-process calls.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura
from lxml import html as lxml_html
from readability import Document

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

from news_etl.extract import extract_generic  # noqa: E402

BENCH_DIR = REPO.parent / "shared" / "benchmarks" / "article-extraction"
WORD = re.compile(r"\w+")


def shingles(text: str | None, n: int = 4) -> Counter:
    words = WORD.findall((text or "").lower())
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def counts(gold: str, predicted: str | None) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one page."""
    g, p = shingles(gold), shingles(predicted)
    tp = sum((g & p).values())
    return tp, sum(p.values()) - tp, sum(g.values()) - tp


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run_trafilatura(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


def run_readability(html: str, url: str) -> str:
    summary = Document(html, url=url).summary(html_partial=True)
    return lxml_html.fromstring(summary).text_content()


def run_project(html: str, url: str) -> str:
    # Same call `news-etl extract` makes for a URL outside the configured sources.
    return extract_generic(html, url=url, tz="UTC", language=None).body or ""


def run_cli(path: Path, url: str) -> str:
    # The installed `news-etl` script when there is one, else the same CLI as a module.
    script = REPO / ".venv" / "bin" / "news-etl"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "news_etl"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "plugins"),
                                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([*command, "extract", str(path), "--url", url],
                          capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        print(f"news-etl extract failed on {path.name}: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return ""
    return json.loads(done.stdout).get("body") or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first 15 pages only (smoke run)")
    parser.add_argument("--worst", type=int, default=10, help="pages to list where the project does worst")
    parser.add_argument("--cli", action="store_true", help="score the news-etl extract command itself")
    parser.add_argument("--dir", type=Path, default=BENCH_DIR)
    args = parser.parse_args(argv)

    if not (args.dir / "ground-truth.json").exists():
        print(f"benchmark not found at {args.dir} (expected ../shared next to the repository)")
        return 2
    gold = json.loads((args.dir / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(gold)[:15] if args.quick else sorted(gold)

    systems = {"project": run_project, "trafilatura": run_trafilatura, "readability": run_readability}
    totals = {name: [0, 0, 0] for name in systems}
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    per_page: list[tuple[float, str, str, tuple[int, int, int]]] = []
    run_project("<html><body><p>warm-up</p></body></html>", "https://example.com/")  # import-time costs
    for page_id in ids:
        path = args.dir / "html" / f"{page_id}.html.gz"
        html = gzip.decompress(path.read_bytes()).decode("utf-8")
        url, body = gold[page_id]["url"], gold[page_id]["articleBody"]
        for name, func in systems.items():
            started = time.perf_counter()
            predicted = func(html, url)
            seconds[name].append(time.perf_counter() - started)
            if name == "project" and args.cli:
                predicted = run_cli(path, url)
            tp, fp, fn = counts(body, predicted)
            for i, value in enumerate((tp, fp, fn)):
                totals[name][i] += value
            if name == "project":
                per_page.append((prf(tp, fp, fn)[2], page_id, url, (tp, fp, fn)))

    print(f"article extraction: {len(ids)} pages from {args.dir}")
    print(f"{'system':<13}{'precision':>10}{'recall':>10}{'F1':>10}{'median ms':>11}{'total s':>9}")
    scores = {}
    for name in systems:
        scores[name] = prf(*totals[name])
        median = statistics.median(seconds[name]) * 1000
        print(f"{name:<13}{scores[name][0]:>10.4f}{scores[name][1]:>10.4f}{scores[name][2]:>10.4f}"
              f"{median:>11.1f}{sum(seconds[name]):>9.2f}")
    base = statistics.median(seconds["trafilatura"])
    print(f"F1 project - trafilatura: {scores['project'][2] - scores['trafilatura'][2]:+.4f}   "
          f"F1 project - readability: {scores['project'][2] - scores['readability'][2]:+.4f}")
    ratio = statistics.median(seconds["project"]) / base
    print(f"median time per page, project / trafilatura: {ratio:.2f}x (goal <= 1.25x: "
          f"{'met' if ratio <= 1.25 else 'NOT met'}); "
          f"readability / trafilatura: {statistics.median(seconds['readability']) / base:.2f}x")
    f1_met = scores["project"][2] >= 0.975 and scores["project"][2] > scores["trafilatura"][2]
    print(f"goal F1 >= 0.975 and above trafilatura: {'met' if f1_met else 'NOT met'}")
    print("\npages where the project does worst (F1, tp/fp/fn):")
    for f1, page_id, url, (tp, fp, fn) in sorted(per_page)[:args.worst]:
        print(f"  {f1:.3f}  {tp:>5}/{fp:<4}/{fn:<4} {page_id[:10]}  {url[:80]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
