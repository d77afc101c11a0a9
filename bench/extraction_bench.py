"""Article extraction against trafilatura and readability-lxml: the goals of issue 6.

Reads the benchmark pages from ../shared/benchmarks/article-extraction (never
copied into the repository) and, in one run:

* quality: precision/recall/F1 of word 4-shingles (lowercased \\w+ tokens,
  multiset overlap per page, true/false positives and negatives summed over
  pages) of the project's body, trafilatura.extract(include_comments=False)
  and readability-lxml. With --cli the project's bodies are the output of the
  real `news-etl extract FILE --url URL` command (one process per page, run
  after the timing pass so they cannot disturb it);
* speed: wall time per page of news_etl.extract.extract_file (the function the
  command calls, file reading and decoding included) and of the two baselines,
  taken back to back on the same page so background load hits them alike;
* title/date/author: the 30 hand-checked pages of tests/test_extract_sample.py.

It ends with a PASS/FAIL table and exits 1 when a goal is missed.

    .venv/bin/python bench/extraction_bench.py [--cli] [--quick] [--worst N]
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trafilatura
from lxml import html as lxml_html
from readability import Document

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO / "tests")]

from news_etl.extract import extract_generic  # noqa: E402
from news_etl.saved_pages import extract_file  # noqa: E402

BENCH_DIR = REPO.parent / "shared" / "benchmarks" / "article-extraction"
WORD = re.compile(r"\w+")

# Issue 6.
F1_GOAL = 0.975
SPEED_GOAL = 1.25  # project median time per page / trafilatura's, same run
SAMPLE_GOAL = 0.90  # exact titles and exact dates on the hand-checked sample


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


def run_project(path: Path, html: str, url: str) -> str:
    # What `news-etl extract FILE --url URL` computes, without the process start.
    return extract_file(path, url=url)["body"] or ""


def run_trafilatura(path: Path, html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


def run_readability(path: Path, html: str, url: str) -> str:
    summary = Document(html, url=url).summary(html_partial=True)
    return lxml_html.fromstring(summary).text_content()


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


def sample_accuracy() -> tuple[int, int, int, int] | None:
    """(exact titles, exact dates, exact authors, pages) on the hand-checked sample."""
    import test_extract_sample as sample  # the expectations written by hand for the tests

    if not (sample.BENCH / "ground-truth.json").exists():
        return None
    titles = dates = authors = 0
    for prefix, tz, title, date, author in sample.SAMPLE:
        html, url = sample._page(prefix)
        got = extract_generic(html, url=url, tz=tz, language=None)
        titles += got.title == title
        dates += sample._date_matches(date, got.published_at, tz)
        authors += got.author == author
    return titles, dates, authors, len(sample.SAMPLE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="store_true",
                        help="score the bodies printed by the news-etl extract command itself")
    parser.add_argument("--quick", action="store_true", help="first 15 pages only (smoke run)")
    parser.add_argument("--worst", type=int, default=10, help="pages to list where the project does worst")
    parser.add_argument("--dir", type=Path, default=BENCH_DIR)
    args = parser.parse_args(argv)

    if not (args.dir / "ground-truth.json").exists():
        print(f"benchmark not found at {args.dir} (expected ../shared next to the repository)")
        return 2
    gold = json.loads((args.dir / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(gold)[:15] if args.quick else sorted(gold)
    paths = {page_id: args.dir / "html" / f"{page_id}.html.gz" for page_id in ids}

    systems: dict[str, Callable[[Path, str, str], str]] = {
        "project": run_project, "trafilatura": run_trafilatura, "readability": run_readability}
    outputs: dict[str, dict[str, str]] = {name: {} for name in systems}
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    # Import-time and first-call costs (lazy imports, date-parser locale data) are not per page.
    for func in systems.values():
        func(paths[ids[0]], gzip.decompress(paths[ids[0]].read_bytes()).decode("utf-8"), "https://example.com/")
    names = list(systems)
    for n, page_id in enumerate(ids):
        html = gzip.decompress(paths[page_id].read_bytes()).decode("utf-8")
        # Each system goes first on a third of the pages: the first to touch a page pays for cold caches.
        for name in names[n % 3:] + names[:n % 3]:
            started = time.perf_counter()
            outputs[name][page_id] = systems[name](paths[page_id], html, gold[page_id]["url"])
            seconds[name].append(time.perf_counter() - started)

    scored = "project"
    if args.cli:
        scored = "news-etl extract"
        with ThreadPoolExecutor(max_workers=2) as pool:
            cli_bodies = list(pool.map(lambda i: run_cli(paths[i], gold[i]["url"]), ids))
        same = sum(cli_bodies[k] == outputs["project"][i] for k, i in enumerate(ids))
        outputs["project"] = dict(zip(ids, cli_bodies, strict=True))

    totals = {name: [0, 0, 0] for name in systems}
    per_page: list[tuple[float, str, str, tuple[int, int, int]]] = []
    for page_id in ids:
        for name in systems:
            tp, fp, fn = counts(gold[page_id]["articleBody"], outputs[name][page_id])
            totals[name] = [a + b for a, b in zip(totals[name], (tp, fp, fn), strict=True)]
            if name == "project":
                per_page.append((prf(tp, fp, fn)[2], page_id, gold[page_id]["url"], (tp, fp, fn)))
    scores = {name: prf(*totals[name]) for name in systems}
    medians = {name: statistics.median(seconds[name]) * 1000 for name in systems}
    ratio = medians["project"] / medians["trafilatura"]

    print(f"article extraction: {len(ids)} pages from {args.dir}")
    print(f"bodies scored for the project: {'the news-etl extract command' if args.cli else 'in-process'}"
          + (f" (identical to the in-process bodies on {same}/{len(ids)} pages)" if args.cli else ""))
    print(f"\n{'system':<13}{'precision':>10}{'recall':>9}{'F1':>9}{'median ms':>11}{'vs traf.':>9}")
    for name in systems:
        p, r, f1 = scores[name]
        print(f"{name:<13}{p:>10.4f}{r:>9.4f}{f1:>9.4f}{medians[name]:>11.1f}"
              f"{medians[name] / medians['trafilatura']:>8.2f}x")
    print("(time: in-process, back to back per page; the project's includes reading and decoding the file)")

    print("\npages where the project does worst (F1, tp/fp/fn):")
    for f1, page_id, url, (tp, fp, fn) in sorted(per_page)[:args.worst]:
        print(f"  {f1:.3f}  {tp:>5}/{fp:<4}/{fn:<4} {page_id[:10]}  {url[:80]}")

    goals: list[tuple[str, str, bool]] = [
        (f"F1 ({scored}) >= {F1_GOAL}", f"{scores['project'][2]:.4f}", scores["project"][2] >= F1_GOAL),
        ("F1 above trafilatura's, same run", f"{scores['project'][2]:.4f} vs {scores['trafilatura'][2]:.4f}",
         scores["project"][2] > scores["trafilatura"][2]),
        (f"median time/page <= {SPEED_GOAL}x trafilatura's",
         f"{ratio:.2f}x ({medians['project']:.1f} / {medians['trafilatura']:.1f} ms)", ratio <= SPEED_GOAL),
    ]
    sample = sample_accuracy()
    if sample is None:
        goals.append((f"sample titles/dates >= {SAMPLE_GOAL:.0%}", "sample pages not found", False))
    else:
        titles, dates, authors, n = sample
        goals += [(f"sample: exact titles >= {SAMPLE_GOAL:.0%}", f"{titles}/{n} = {titles / n:.0%}",
                   titles / n >= SAMPLE_GOAL),
                  (f"sample: exact dates >= {SAMPLE_GOAL:.0%}", f"{dates}/{n} = {dates / n:.0%}",
                   dates / n >= SAMPLE_GOAL)]
        print(f"\nhand-checked sample: authors exact {authors}/{n} = {authors / n:.0%} (no goal)")
    if args.quick:
        print("\n--quick: F1 on 15 pages only; the goals are set on the whole set")

    width = max(len(goal) for goal, _, _ in goals)
    print(f"\n{'goal (issue 6)':<{width}}  {'measured':<34}result")
    for goal, measured, met in goals:
        print(f"{goal:<{width}}  {measured:<34}{'PASS' if met else 'FAIL'}")
    return 0 if all(met for _, _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
