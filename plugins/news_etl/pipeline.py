"""The ingestion job, stage by stage: what the Airflow tasks and ``news-etl run`` call.

Every function takes the database URL and a run id, so each can run in its own
process (an Airflow task) and only small values travel between them. A run's
options (window, mirror, reparse, dry run) are kept in ``ingest_runs.params``.

    start_run → discover → fetch_and_parse (per batch) → load → check
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from news_etl import db, ledger, rawpages
from news_etl.discover import discover_day, discover_latest
from news_etl.errors import Rejected, RetryableFailure
from news_etl.fetch import Fetcher, StoredPages
from news_etl.load import (
    clear_staged,
    ensure_source,
    load_articles,
    load_batches,
    stage_articles,
    staged_batches,
)
from news_etl.parse import parse_article
from news_etl.sources import Source, get_source

log = logging.getLogger(__name__)

# Articles per load transaction: each batch pays a dozen round trips and a commit (a WAL
# flush), shared by more articles the larger it is, while the memory it holds and the work a
# rollback loses grow with it (bench/load_bench.py).
LOAD_BATCH_SIZE = 2000


class CheckFailed(RuntimeError):
    """A finished run that must not pass silently (ledger identity, article floor)."""


@contextmanager
def _timed(conn, run_id: int, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        ledger.add_stage_seconds(conn, run_id, stage, time.perf_counter() - started)


def _run_options(conn, run_id: int) -> dict[str, Any]:
    run = ledger.get_run(conn, run_id)
    if run is None:
        raise ValueError(f"no ingest run {run_id}")
    return run


def local_days(date_from: date, date_to: date | None) -> list[date]:
    """The local days from ``date_from`` to ``date_to`` inclusive."""
    date_to = date_to or date_from
    if date_to < date_from:
        raise ValueError(f"date range ends ({date_to}) before it starts ({date_from})")
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def start_run(db_url: str, source_key: str, date_from: date | None = None, date_to: date | None = None,
              *, latest: bool = False, kind: str = "cli", base_url: str | None = None,
              reparse: bool = False, dry_run: bool = False) -> int:
    """Record a new run of ``source_key`` over local days ``date_from``..``date_to``."""
    source = get_source(source_key)
    if not latest and date_from is None:
        raise ValueError("a run needs a date (or latest=True)")
    days = [] if latest else local_days(date_from, date_to)
    with db.connection(db_url) as conn:
        db.migrate(conn)
        ensure_source(conn, source.key, source.name, source.base_url)
        run_id = ledger.start_run(
            conn, source_key=source.key, kind=kind,
            window_start=days[0] if days else None, window_end=days[-1] if days else None,
            params={"latest": latest, "base_url": base_url, "reparse": reparse, "dry_run": dry_run},
        )
        conn.commit()
    return run_id


def _page_source(conn, source: Source, options: dict[str, Any]):
    """Where pages come from: the site (or its mirror), or for a reparse the raw pages table."""
    params = options["params"]
    if params.get("reparse"):
        return StoredPages(conn, source)
    return Fetcher(source, base_url=params.get("base_url"))


def discover(db_url: str, run_id: int, *, batch_size: int = 50) -> list[list[str]]:
    """Find the run's article URLs, record them in the ledger; return them in batches."""
    with db.connection(db_url) as conn:
        options = _run_options(conn, run_id)
        source = get_source(options["source_key"])
        params = options["params"]
        urls: list[str] = []
        listing_problems: list[tuple[str, Rejected]] = []
        with _timed(conn, run_id, "discover"), _page_source(conn, source, options) as pages:
            if params.get("latest"):
                found = [discover_latest(pages, source)]
            else:
                found = [discover_day(pages, source, day)
                         for day in local_days(options["window_start"], options["window_end"])]
            for discovery in found:
                urls.extend(discovery.urls)
                listing_problems.extend((getattr(p, "url", "") or "", p) for p in discovery.problems)
                if not params.get("reparse") and not params.get("dry_run"):
                    for page in discovery.pages:
                        rawpages.save_page(conn, page, source_key=source.key, run_id=run_id)
        urls = list(dict.fromkeys(urls))
        ledger.record_discovered(conn, run_id, urls)
        # A listing page that could not be read is an outcome too, so it shows in reports.
        for n, (url, problem) in enumerate(listing_problems):
            listing_url = url or f"listing-problem-{n}"
            ledger.record_discovered(conn, run_id, [listing_url])
            ledger.record_outcome(conn, run_id, listing_url, "rejected", stage=problem.stage,
                                  reason=problem.reason, detail=problem.detail)
        conn.commit()
    log.info("run %s: discovered %d article URLs", run_id, len(urls))
    return [urls[i:i + batch_size] for i in range(0, len(urls), batch_size)]


def fetch_and_parse(db_url: str, run_id: int, urls: list[str]) -> dict[str, int]:
    """Fetch (or read back) and parse one batch; stage the articles for ``load``."""
    counts: Counter[str] = Counter()
    with db.connection(db_url) as conn:
        options = _run_options(conn, run_id)
        source = get_source(options["source_key"])
        params = options["params"]
        articles = []
        with _timed(conn, run_id, "fetch_parse"), _page_source(conn, source, options) as pages:
            for url in urls:
                try:
                    page = pages.fetch(url, kind="article")
                    if not params.get("reparse") and not params.get("dry_run"):
                        rawpages.save_page(conn, page, source_key=source.key, run_id=run_id)
                    articles.append(parse_article(page.text, url=page.url, source=source,
                                                  fetched_at=page.fetched_at))
                    counts["parsed"] += 1
                except Rejected as problem:
                    ledger.record_outcome(conn, run_id, url, "rejected", stage=problem.stage,
                                          reason=problem.reason, detail=problem.detail)
                    counts["rejected"] += 1
                except RetryableFailure as problem:
                    ledger.record_outcome(conn, run_id, url, "failed", stage=problem.stage,
                                          reason=problem.reason, detail=problem.detail)
                    counts["failed"] += 1
                except Exception as exc:  # a parser bug must cost one URL, not the run
                    log.exception("run %s: unexpected error on %s", run_id, url)
                    ledger.record_outcome(conn, run_id, url, "failed", stage="parse",
                                          reason="internal_error", detail=f"{type(exc).__name__}: {exc}")
                    counts["failed"] += 1
            stage_articles(conn, run_id, articles)
        conn.commit()
    return dict(counts)


def load(db_url: str, run_id: int) -> dict[str, int]:
    """Deduplicate and merge the run's staged articles; a dry run reports and writes nothing."""
    counts: Counter[str] = Counter()
    with db.connection(db_url) as conn:
        options = _run_options(conn, run_id)
        dry_run = bool(options["params"].get("dry_run"))
        batches = staged_batches(conn, run_id, LOAD_BATCH_SIZE)  # one batch in memory at a time
        with _timed(conn, run_id, "load"):
            if dry_run:
                loaded = (_would_load(conn, run_id, batch) for batch in batches)
            else:
                loaded = load_batches(conn, batches, run_id=run_id)
            for outcomes in loaded:
                counts.update(outcome for _url, outcome, _id in outcomes)
        clear_staged(conn, run_id)
        conn.commit()
    return dict(counts)


def _would_load(conn, run_id: int, batch) -> list[tuple[str, str, int | None]]:
    """Run the real loader, then roll it back: the outcomes are what a real run would do."""
    conn.commit()
    outcomes = load_articles(conn, batch, run_id=run_id, commit=False)
    conn.rollback()
    for url, outcome, _article_id in outcomes:
        ledger.record_outcome(conn, run_id, url, outcome, detail="dry run: not written")
    conn.commit()
    return outcomes


def check(db_url: str, run_id: int, *, min_articles: int = 0) -> dict[str, Any]:
    """Finish the run: every URL accounted for, and at least ``min_articles`` per day."""
    with db.connection(db_url) as conn:
        options = _run_options(conn, run_id)
        summary = ledger.finish_run(conn, run_id)
        days = 1
        if options["window_start"] and options["window_end"]:
            days = (options["window_end"] - options["window_start"]).days + 1
        counts = summary["outcome_counts"]
        articles = sum(counts.get(k, 0) for k in
                       ("new", "updated", "unchanged", "duplicate_exact", "duplicate_near"))
        if articles < min_articles * days:
            message = (f"run {run_id}: only {articles} article(s) for {days} day(s), expected at least "
                       f"{min_articles} a day: has the site changed its markup?")
            ledger.fail_run(conn, run_id, message)
            conn.commit()
            raise CheckFailed(message)
        conn.commit()
    return summary


def run(db_url: str, source_key: str, date_from: date | None = None, date_to: date | None = None, *,
        latest: bool = False, kind: str = "cli", base_url: str | None = None, reparse: bool = False,
        dry_run: bool = False, min_articles: int = 0, progress=None) -> dict[str, Any]:
    """The whole job in one process: what ``news-etl run`` does."""
    run_id = start_run(db_url, source_key, date_from, date_to, latest=latest, kind=kind,
                       base_url=base_url, reparse=reparse, dry_run=dry_run)
    try:
        batches = discover(db_url, run_id)
        if progress:
            progress.start(sum(map(len, batches)))
        for batch in batches:
            fetch_and_parse(db_url, run_id, batch)
            if progress:
                progress.advance(len(batch))
        load(db_url, run_id)
        return check(db_url, run_id, min_articles=min_articles)
    except CheckFailed:
        raise
    except Exception as exc:
        with db.connection(db_url) as conn:
            ledger.fail_run(conn, run_id, f"{type(exc).__name__}: {exc}")
            conn.commit()
        raise
