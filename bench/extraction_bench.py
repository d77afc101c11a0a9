"""Generic extraction on three sets of real pages, next to trafilatura and htmldate (issues 6 and 20).

Reads ../shared/benchmarks (never copied into the repository) and, in one run:

* ``article-extraction/``: body F1 of word 4-shingles (lowercased ``\\w+`` tokens,
  multiset overlap per page, true/false positives and negatives summed over
  pages) — the project against ``trafilatura.extract(include_comments=False)``;
* ``news-metadata/``: title (exact after Unicode NFKC, whitespace collapsing and
  case folding), authors (set equality of names normalized the same way), date
  (the instant to the minute; a gold time without offset is compared as a wall
  clock with the page's own local time) and body F1 — the project against
  ``trafilatura.bare_extraction`` with its metadata. trafilatura gives days
  only, so its date is scored by the day (in the gold's own offset): a bar
  lower than the project's;
* ``publication-dates/``: the day of ``published_local`` against the gold day
  (a page without a gold date is right when nothing is found) — the project
  against ``htmldate.find_date(original_date=True)`` with and without
  ``extensive_search``;
* speed: median wall time per page of ``news_etl.saved_pages.extract_file`` (the
  function ``news-etl extract`` calls, file reading and decoding included) and of
  trafilatura (``extract`` on the first set, ``bare_extraction`` with metadata on
  the second), taken back to back on the same page over both sets.

With ``--cli`` the project's figures come from the real command
(``news-etl extract --manifest``, one process per set, after the timing pass).
``--half even|odd`` keeps every other page of each set (by sorted id): develop on
one half, check the other does not drop. It ends with a PASS/FAIL table and exits
1 when a goal is missed.

    .venv/bin/python bench/extraction_bench.py [--cli] [--quick] [--half even|odd] [--misses]
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
import tempfile
import time
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path

import htmldate
import trafilatura

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins")]

from news_etl.saved_pages import extract_file  # noqa: E402

SHARED = REPO.parent / "shared" / "benchmarks"
WORD = re.compile(r"\w+")

# Issues 6 and 20.
ARTICLE_F1_GOAL = 0.98
META_GOALS = {"title": 0.85, "authors": 0.80, "date": 0.97, "body": 0.965}
DAYS_GOAL = 0.92
SPEED_GOAL = 1.25  # project median time per page / trafilatura's, same run


# ---------------------------------------------------------------- scoring (as the sets' READMEs say)

def shingles(text: str | None, n: int = 4) -> Counter:
    words = WORD.findall((text or "").lower())
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def counts(gold: str, predicted: str | None) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one page."""
    g, p = shingles(gold), shingles(predicted)
    tp = sum((g & p).values())
    return tp, sum(p.values()) - tp, sum(g.values()) - tp


def f1(totals: list[int]) -> float:
    tp, fp, fn = totals
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def same_title(gold: str, got: str | None) -> bool:
    return norm(gold) == norm(got)


def same_authors(gold: list[str] | None, got: list[str]) -> bool:
    return {norm(n) for n in gold or [] if norm(n)} == {norm(n) for n in got if norm(n)}


def _gold_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T"))


def same_minute(gold: str, local: str | None) -> bool:
    """The instant to the minute; a gold wall clock without offset against the page's local time."""
    if not local:
        return False
    want, got = _gold_time(gold), datetime.fromisoformat(local)
    if want.tzinfo is None:
        got = got.replace(tzinfo=None)
    return want.replace(second=0, microsecond=0) == got.replace(second=0, microsecond=0)


def same_day(gold: str, day: str | None) -> bool:
    return bool(day) and _gold_time(gold).date().isoformat() == day[:10]


# ---------------------------------------------------------------- systems

def read(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def project(path: Path, url: str) -> dict:
    # What `news-etl extract FILE --url URL` computes, without the process start.
    return extract_file(path, url=url)


def project_authors(result: dict) -> list[str]:
    return [n for n in (result.get("author") or "").split(", ") if n]


def traf_body(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


def traf_metadata(html: str, url: str) -> dict:
    doc = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    if doc is None:
        return {}
    doc = doc if isinstance(doc, dict) else doc.as_dict()
    return {"title": doc.get("title"), "date": doc.get("date"), "body": doc.get("text") or "",
            "authors": [n.strip() for n in (doc.get("author") or "").split(";") if n.strip()]}


def run_cli(paths: dict[str, Path], urls: dict[str, str]) -> dict[str, dict]:
    """The real command over one manifest: id -> its JSON object."""
    script = REPO / ".venv" / "bin" / "news-etl"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "news_etl"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "plugins"),
                                                                       os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.jsonl"
        manifest.write_text("".join(json.dumps({"file": str(paths[i]), "url": urls[i], "id": i}) + "\n"
                                    for i in paths), encoding="utf-8")
        done = subprocess.run([*command, "extract", "--manifest", str(manifest)],
                              capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        print(f"news-etl extract --manifest failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
    results = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        if "error" in result:
            print(f"news-etl extract: {result['id']}: {result['error']}", file=sys.stderr)
        results[result["id"]] = result
    return results


# ---------------------------------------------------------------- the run

def load_set(name: str, gold_file: str, args: argparse.Namespace) -> tuple[dict, dict[str, Path]]:
    folder = SHARED / name
    gold = json.loads((folder / gold_file).read_text(encoding="utf-8"))
    ids = sorted(gold)
    if args.half:
        ids = ids[args.half == "odd"::2]
    if args.quick:
        ids = ids[:12]
    return {i: gold[i] for i in ids}, {i: folder / "html" / f"{i}.html.gz" for i in ids}


def timed(func, *call_args):
    started = time.perf_counter()
    result = func(*call_args)
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="store_true",
                        help="score the output of `news-etl extract --manifest`")
    parser.add_argument("--quick", action="store_true", help="12 pages of each set (smoke run)")
    parser.add_argument("--half", choices=("even", "odd"), help="every other page of each set")
    parser.add_argument("--misses", action="store_true", help="list the project's misses")
    args = parser.parse_args(argv)
    if not (SHARED / "news-metadata" / "gold.json").exists():
        print(f"benchmarks not found at {SHARED} (expected ../shared next to the repository)")
        return 2

    articles, article_paths = load_set("article-extraction", "ground-truth.json", args)
    meta, meta_paths = load_set("news-metadata", "gold.json", args)
    dated, dated_paths = load_set("publication-dates", "gold.json", args)

    # Import-time and first-call costs (lazy imports, locale data) are not per page.
    first = next(iter(article_paths))
    project(article_paths[first], "https://example.com/")
    traf_metadata(read(article_paths[first]), "https://example.com/")

    seconds: dict[str, list[float]] = {"project": [], "trafilatura": []}
    ours: dict[str, dict] = {}
    theirs: dict[str, object] = {}
    # Back to back on each page; who goes first alternates (the first pays for cold caches).
    for n, (page_id, path, url, baseline) in enumerate(
            [(i, article_paths[i], articles[i]["url"], traf_body) for i in articles]
            + [(i, meta_paths[i], meta[i]["url"], traf_metadata) for i in meta]):
        html = read(path)
        runs = [("project", project, (path, url)), ("trafilatura", baseline, (html, url))]
        for name, func, call_args in runs[n % 2:] + runs[:n % 2]:
            result, spent = timed(func, *call_args)
            seconds[name].append(spent)
            (ours if name == "project" else theirs)[page_id] = result
    dates_htmldate = {i: htmldate.find_date(read(p), original_date=True) for i, p in dated_paths.items()}
    dates_extensive = {i: htmldate.find_date(read(p), original_date=True, extensive_search=True)
                       for i, p in dated_paths.items()}
    for i, path in dated_paths.items():
        ours[i] = project(path, dated[i]["url"])

    scored = "in-process"
    if args.cli:
        scored = "news-etl extract --manifest"
        for paths, gold in ((article_paths, articles), (meta_paths, meta), (dated_paths, dated)):
            cli = run_cli(paths, {i: gold[i]["url"] for i in paths})
            same = sum(cli.get(i, {}).get("body") == ours[i]["body"] for i in paths)
            print(f"{len(paths)} pages through the command: bodies identical to in-process on {same}")
            ours.update({i: cli.get(i, {}) for i in paths})

    # article-extraction
    body_totals = {"project": [0, 0, 0], "trafilatura": [0, 0, 0]}
    for i in articles:
        for name, text in (("project", ours[i].get("body")), ("trafilatura", theirs[i])):
            page = counts(articles[i]["articleBody"], text)
            body_totals[name] = [a + b for a, b in zip(body_totals[name], page, strict=True)]
    # news-metadata
    hits = {name: Counter() for name in ("project", "trafilatura")}
    meta_body = {"project": [0, 0, 0], "trafilatura": [0, 0, 0]}
    misses: list[str] = []
    for i, gold in meta.items():
        got, base = ours[i], theirs[i] or {}
        checks = {"title": same_title(gold["title"], got.get("title")),
                  "authors": same_authors(gold["authors"], project_authors(got)),
                  "date": same_minute(gold["publishing_date"], got.get("published_local"))}
        hits["project"].update(k for k, ok in checks.items() if ok)
        hits["project"]["day"] += same_day(gold["publishing_date"], got.get("published_local"))
        hits["trafilatura"]["title"] += same_title(gold["title"], base.get("title"))
        hits["trafilatura"]["authors"] += same_authors(gold["authors"], base.get("authors") or [])
        hits["trafilatura"]["day"] += same_day(gold["publishing_date"], base.get("date"))
        for name, text in (("project", got.get("body")), ("trafilatura", base.get("body"))):
            page = counts(gold["body"], text)
            meta_body[name] = [a + b for a, b in zip(meta_body[name], page, strict=True)]
        expected = {"title": gold["title"], "authors": gold["authors"], "date": gold["publishing_date"]}
        found = {"title": got.get("title"), "authors": got.get("author"), "date": got.get("published_local")}
        misses += [f"  {i:<32} {k:<8} want {expected[k]!r:.90} got {found[k]!r:.90}"
                   for k, ok in checks.items() if not ok]
    # publication-dates
    days = Counter()
    for i, gold in dated.items():
        want = gold["date"]
        got_day = (ours[i].get("published_local") or "")[:10] or None
        days["project"] += got_day == want
        days["htmldate"] += dates_htmldate[i] == want
        days["htmldate extensive"] += dates_extensive[i] == want
        if got_day != want:
            method = (ours[i].get("extraction") or {}).get("published_at")
            misses.append(f"  {i:<32} day      want {want} got {got_day} ({method}) {gold['url'][:60]}")

    n_meta, n_dated = len(meta), len(dated)
    medians = {name: statistics.median(s) * 1000 for name, s in seconds.items()}
    ratio = medians["project"] / medians["trafilatura"]
    project_meta = {k: hits["project"][k] / n_meta for k in ("title", "authors", "date")}
    project_meta["body"] = f1(meta_body["project"])
    traf_meta = {"title": hits["trafilatura"]["title"] / n_meta,
                 "authors": hits["trafilatura"]["authors"] / n_meta,
                 "date": hits["trafilatura"]["day"] / n_meta, "body": f1(meta_body["trafilatura"])}
    day_scores = {name: days[name] / n_dated for name in ("project", "htmldate", "htmldate extensive")}

    print(f"\nproject figures from: {scored}" + (f"; half: {args.half}" if args.half else "")
          + ("; --quick: 12 pages a set, the goals are set on the whole sets" if args.quick else ""))
    print(f"\narticle-extraction ({len(articles)} pages), body F1: project {f1(body_totals['project']):.4f}, "
          f"trafilatura {f1(body_totals['trafilatura']):.4f}")
    print(f"\nnews-metadata ({n_meta} pages){'':<8}{'title':>8}{'authors':>9}{'date':>8}{'body F1':>9}")
    print(f"  project{'':<21}{project_meta['title']:>8.3f}{project_meta['authors']:>9.3f}"
          f"{project_meta['date']:>8.3f}{project_meta['body']:>9.4f}   (date by the day: "
          f"{hits['project']['day'] / n_meta:.3f})")
    print(f"  trafilatura (date: day){'':<5}{traf_meta['title']:>8.3f}{traf_meta['authors']:>9.3f}"
          f"{traf_meta['date']:>8.3f}{traf_meta['body']:>9.4f}")
    print(f"\npublication-dates ({n_dated} pages), days right: "
          + ", ".join(f"{name} {score:.3f}" for name, score in day_scores.items()))
    print(f"\nmedian ms per page ({len(seconds['project'])} pages of the first two sets): project "
          f"{medians['project']:.1f}, trafilatura {medians['trafilatura']:.1f} ({ratio:.2f}x)")
    if args.misses:
        print("\nthe project's misses:\n" + "\n".join(misses))

    goals: list[tuple[str, str, bool]] = [
        (f"article-extraction body F1 >= {ARTICLE_F1_GOAL}", f"{f1(body_totals['project']):.4f}",
         f1(body_totals["project"]) >= ARTICLE_F1_GOAL),
        ("article-extraction body F1 above trafilatura",
         f"{f1(body_totals['project']):.4f} vs {f1(body_totals['trafilatura']):.4f}",
         f1(body_totals["project"]) > f1(body_totals["trafilatura"]))]
    for field, goal in META_GOALS.items():
        mine, base = project_meta[field], traf_meta[field]
        goals.append((f"news-metadata {field} >= {goal}, above trafilatura", f"{mine:.4f} vs {base:.4f}",
                      mine >= goal and mine > base))
    goals.append((f"publication-dates days >= {DAYS_GOAL}, above htmldate extensive",
                  f"{day_scores['project']:.4f} vs {day_scores['htmldate extensive']:.4f}",
                  day_scores["project"] >= DAYS_GOAL
                  and day_scores["project"] > day_scores["htmldate extensive"]))
    goals.append((f"median time/page <= {SPEED_GOAL}x trafilatura's",
                  f"{ratio:.2f}x ({medians['project']:.1f} / {medians['trafilatura']:.1f} ms)",
                  ratio <= SPEED_GOAL))
    width = max(len(goal) for goal, _, _ in goals)
    print(f"\n{'goal (issues 6, 20)':<{width}}  {'measured':<28}result")
    for goal, measured, met in goals:
        print(f"{goal:<{width}}  {measured:<28}{'PASS' if met else 'FAIL'}")
    return 0 if all(met for _, _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
