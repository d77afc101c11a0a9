"""The ingestion job, stage by stage: what the Airflow tasks and ``news-etl run`` call.

Every function takes the database URL and a run id, so each can run in its own
process (an Airflow task) and only small values travel between them. A run's
options (window, mirror, reparse, dry run) are kept in ``ingest_runs.params``.

    start_run → discover (find_urls) → fetch_and_parse (per batch) → load → check
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import psycopg2

from news_etl import db, ledger, rawpages, settings
from news_etl.canonical import check_mirror_url, redacted_url
from news_etl.discover import Problem, discover_day, discover_latest
from news_etl.errors import Rejected, RetryableFailure, SiteUnreachable
from news_etl.fetch import Fetcher
from news_etl.load import (
    clear_staged,
    ensure_source,
    load_articles,
    stage_articles,
    staged_batches,
)
from news_etl.parse import parse_article
from news_etl.politeness import HostSchedule
from news_etl.runs import (
    RunEnded,
    budget_cut,
    budget_deadline,
    end_failed,
    lease_seconds,
    outlasting_outages,
    pending_urls,
    run_mirror,
    run_options,
    worker_id,
    working,
)
from news_etl.sources import Source, get_source

log = logging.getLogger(__name__)


class CheckFailed(RuntimeError):
    """A finished run that must not pass silently (ledger identity, article floor)."""


@contextmanager
def _timed(conn, run_id: int, stage: str, counts: dict[str, int]) -> Iterator[None]:
    """Time ``stage`` into the run's ledger, and log one line with its counts and time."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        seconds = time.perf_counter() - started
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
        # info, not warning: the caller reports the failure itself (the CLI in one line)
        log.info("run %s %s: failed after %.2f s (%s so far): %s", run_id, stage, seconds, shown, exc)
        raise
    # Timing only on success: after an error the transaction is aborted, and its work is lost anyway.
    seconds = time.perf_counter() - started
    ledger.add_stage_seconds(conn, run_id, stage, seconds)
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
    log.info("run %s %s: %s in %.2f s", run_id, stage, shown, seconds)


def local_days(date_from: date, date_to: date | None) -> list[date]:
    """The local days from ``date_from`` to ``date_to`` inclusive."""
    date_to = date_to or date_from
    if date_to < date_from:
        raise ValueError(f"date range ends ({date_to}) before it starts ({date_from})")
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def start_run(db_url: str, source_key: str, date_from: date | None = None, date_to: date | None = None,
              *, latest: bool = False, kind: str = "cli", base_url: str | None = None,
              reparse: bool = False, dry_run: bool = False, airflow: dict[str, Any] | None = None,
              budget_seconds: float | None = None) -> int:
    """Record a new run of ``source_key`` over local days ``date_from``..``date_to``.

    ``budget_seconds``: the run's time budget (None: ``settings.run_budget_seconds()``).

    ``airflow``: the DAG run behind it (``dag_id``, ``run_id``, ``logical_date``), kept on the run.
    """
    source = get_source(source_key)
    if not latest and date_from is None:
        raise ValueError("a run needs a date (or latest=True)")
    days = [] if latest else local_days(date_from, date_to)
    if base_url is not None:
        base_url = check_mirror_url(base_url)
    with db.connection(db_url, retry_seconds=settings.db_retry_seconds()) as conn:
        db.ensure_schema(conn)
        ensure_source(conn, source.key, source.name, source.base_url)
        # Runs of this source whose process died are ended first, so none stays 'running'.
        for stale in ledger.abandon_stale_runs(conn, source.key):
            log.warning("run %s of %s: marked abandoned (its lease expired)", stale, source.key)
        run_id = ledger.start_run(
            conn, source_key=source.key, kind=kind,
            window_start=days[0] if days else None, window_end=days[-1] if days else None,
            params={"latest": latest, "base_url": base_url and redacted_url(base_url), "reparse": reparse,
                    "dry_run": dry_run, "budget_seconds": budget_seconds},
        )
        if airflow:
            ledger.set_airflow_run(conn, run_id, dag_id=airflow["dag_id"], dag_run_id=airflow.get("run_id"),
                                   logical_date=airflow.get("logical_date"))
        ledger.renew_lease(conn, run_id, lease_seconds(kind), worker_id())
        conn.commit()
    return run_id


@contextmanager
def _page_source(conn, db_url: str, source: Source, options: dict[str, Any], run_id: int,
                 mirror_url: str | None):
    """Where pages come from: the site (or its mirror), or for a reparse the raw pages table.

    A mirror's credentials are not stored with the run: ``mirror_url`` brings them
    (the ``--base-url`` or DAG param again), and must be the mirror the run recorded.

    The fetcher takes its request slots from the news database, so the host's rate holds
    across every task, run and worker, not only in this process. The time it waited for
    them goes to the run's ``stage_seconds`` as ``politeness_wait``.
    """
    params = options["params"]
    if params.get("reparse"):
        with rawpages.StoredPages(conn, source) as stored:
            yield stored
        return
    shared = HostSchedule(lambda: db.connect(db_url))
    with Fetcher(source, base_url=run_mirror(run_id, params, mirror_url), host_schedule=shared) as fetcher:
        yield fetcher
        ledger.add_stage_seconds(conn, run_id, "politeness_wait", fetcher.polite_seconds)


def find_urls(db_url: str, run_id: int, *, mirror_url: str | None = None) -> int:
    """Find the run's article URLs and record them in the ledger, a day at a time; returns how many.

    Listing pages are saved as they are read and each day's URLs recorded once found, so
    the run holds one day's URL list at most, never its pages (tests/db/test_memory.py).
    """
    with working(db_url, run_id) as (conn, options, _heartbeat):
        source = get_source(options["source_key"])
        params = options["params"]
        if params.get("reparse") or params.get("dry_run"):
            def keep_page(page) -> None:
                pass
        else:
            def keep_page(page) -> None:
                rawpages.save_page(conn, page, source_key=source.key, run_id=run_id)
        found = 0
        listing_problems: list[Problem] = []
        counts: dict[str, int] = {}
        with (_timed(conn, run_id, "discover", counts),
              _page_source(conn, db_url, source, options, run_id, mirror_url) as pages):
            for day in [None] if params.get("latest") else local_days(options["window_start"],
                                                                      options["window_end"]):
                discovery = (discover_latest(pages, source, keep_page) if day is None
                             else discover_day(pages, source, day, keep_page))
                found += ledger.record_discovered(conn, run_id, discovery.urls)
                listing_problems.extend(discovery.problems)
            counts.update(urls=found, listing_problems=len(listing_problems))
        transient = [p for p in listing_problems if p.outcome == "failed"]
        if not found and transient:
            # Nothing found because listings could not be fetched: the run failed, worth a retry.
            conn.rollback()
            first = transient[0]
            raise RetryableFailure("discover", "listings_unavailable",
                                   f"no article URL found: {len(transient)} listing(s) could not be fetched, "
                                   f"e.g. {first.reason}: {first.detail}")
        # A listing page that could not be read is an outcome too, so it shows in reports.
        for problem in listing_problems:
            ledger.record_discovered(conn, run_id, [problem.url])
            ledger.record_outcome(conn, run_id, problem.url, problem.outcome, stage=problem.stage,
                                  reason=problem.reason, detail=problem.detail)
        conn.commit()
    return found


def discover(db_url: str, run_id: int, *, batch_size: int = settings.URLS_PER_FETCH_TASK,
             mirror_url: str | None = None) -> list[list[str]]:
    """``find_urls``, then the URLs in batches: what the DAG maps its fetch tasks over (a day's)."""
    find_urls(db_url, run_id, mirror_url=mirror_url)
    batches: list[list[str]] = []
    while batch := pending_urls(db_url, run_id, batches[-1][-1] if batches else "", batch_size):
        batches.append(batch)
    return batches


def fetch_and_parse(db_url: str, run_id: int, urls: list[str], *,
                    mirror_url: str | None = None) -> dict[str, int]:
    """Fetch (or read back) and parse one batch; stage the articles for ``load``."""
    counts: Counter[str] = Counter()
    with working(db_url, run_id) as (conn, options, heartbeat):
        source = get_source(options["source_key"])
        params = options["params"]
        articles = []
        budget, spent_at = budget_deadline(conn, run_id, options)
        with (_timed(conn, run_id, "fetch_parse", counts),
              _page_source(conn, db_url, source, options, run_id, mirror_url) as pages):
            for url in urls:
                heartbeat.check()
                try:
                    if time.monotonic() >= spent_at:
                        raise RetryableFailure("fetch", "budget", f"the run's time budget of {budget:g} s "
                                               f"was spent before {url} was fetched")
                    page = pages.fetch(url, kind="article", deadline=spent_at)
                    if not params.get("reparse") and not params.get("dry_run"):
                        rawpages.save_page(conn, page, source_key=source.key, run_id=run_id)
                    articles.append(parse_article(page.text, url=page.url, source=source,
                                                  fetched_at=page.fetched_at))
                    counts["parsed"] += 1
                except Rejected as problem:
                    ledger.record_outcome(conn, run_id, url, "rejected", stage=problem.stage,
                                          reason=problem.reason, detail=problem.detail)
                    counts["rejected"] += 1
                except SiteUnreachable:
                    raise  # the site is down, not this page: the task fails and is retried
                except RetryableFailure as problem:
                    cut = problem.reason == "deadline" and time.monotonic() >= spent_at  # by the budget
                    ledger.record_outcome(conn, run_id, url, "failed", stage=problem.stage,
                                          reason="budget" if cut else problem.reason, detail=problem.detail)
                    counts["failed"] += 1
                except psycopg2.Error:
                    raise  # the database, not the page: the stage fails (or is tried again) as a whole
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
    with working(db_url, run_id) as (conn, options, heartbeat):
        dry_run = bool(options["params"].get("dry_run"))
        batches = staged_batches(conn, run_id, settings.LOAD_BATCH_SIZE)  # one batch in memory at a time
        with _timed(conn, run_id, "load", counts):
            for batch in batches:
                heartbeat.check()
                outcomes = (_would_load(conn, run_id, batch) if dry_run
                            else _load_batch(conn, run_id, batch))
                counts.update(outcome for _url, outcome, _id in outcomes)
        clear_staged(conn, run_id)
        conn.commit()
    return dict(counts)


def _load_batch(conn, run_id: int, batch) -> list[tuple[str, str, int | None]]:
    """Load one batch and unstage it in the same transaction: a load that is retried or
    interrupted later never loads a batch twice (its outcomes stay 'new', not 'unchanged')."""
    outcomes = load_articles(conn, batch, run_id=run_id, commit=False)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM staged_articles WHERE run_id = %s AND url = ANY(%s)",
                    (run_id, [url for url, _outcome, _id in outcomes]))
    conn.commit()
    return outcomes


def _would_load(conn, run_id: int, batch) -> list[tuple[str, str, int | None]]:
    """Run the real loader, then roll it back: the outcomes are what a real run would do."""
    conn.commit()
    outcomes = load_articles(conn, batch, run_id=run_id, commit=False)
    conn.rollback()
    for url, outcome, _article_id in outcomes:
        ledger.record_outcome(conn, run_id, url, outcome, detail="dry run: not written")
    conn.commit()
    return outcomes


# Outcomes that mean the URL is a stored article (new, changed or already there).
_ARTICLE_OUTCOMES = ("new", "updated", "unchanged", "duplicate_exact", "duplicate_near")


def check(db_url: str, run_id: int, *, min_articles: int | None = None) -> dict[str, Any]:
    """Finish the run: every URL accounted for, and at least ``min_articles`` articles per day.

    ``min_articles`` None is the source's ``min_articles_per_day`` (sources.yaml). A day
    below it is a check failure that names what was missing: no URL found on the
    listings, or the reasons the pages were rejected (``parse: no_body``...).
    """
    with db.connection(db_url, retry_seconds=settings.db_retry_seconds()) as conn:
        started = time.perf_counter()
        options = run_options(conn, run_id)
        if min_articles is None:
            min_articles = get_source(options["source_key"]).min_articles_per_day
        summary = ledger.finish_run(conn, run_id)
        days = 1
        if options["window_start"] and options["window_end"]:
            days = (options["window_end"] - options["window_start"]).days + 1
        counts = summary["outcome_counts"]
        articles = sum(counts.get(k, 0) for k in _ARTICLE_OUTCOMES)
        log.info("run %s check: articles %d for %d day(s) (floor %d a day), %s in %.2f s", run_id, articles,
                 days, min_articles, summary["status"], time.perf_counter() - started)
        cut = counts.get("failed", 0) and budget_cut(conn, run_id, options)
        if cut:
            message = (f"run {run_id}: time budget of {cut[0]:g} s spent, {cut[1]} URL(s) not fetched "
                       f"(failed: budget); {articles} article(s) stored")
            ledger.fail_run(conn, run_id, message, reason="budget")
            conn.commit()
            raise CheckFailed(message)
        if articles < min_articles * days:
            message = (f"run {run_id}: {articles} article(s) for {days} day(s), below the floor of "
                       f"{min_articles} a day of {options['source_key']}: {_missing(conn, run_id)}")
            ledger.fail_run(conn, run_id, message)
            conn.commit()
            raise CheckFailed(message)
        conn.commit()
    return summary


def _missing(conn, run_id: int) -> str:
    """What a run short of articles lacked, in words: the listings' links or the pages' fields."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE stage IS DISTINCT FROM 'discover') FROM run_urls"
                    " WHERE run_id = %s", (run_id,))
        article_urls = cur.fetchone()[0]
        cur.execute("SELECT stage || ': ' || reason, count(*) FROM run_urls"
                    " WHERE run_id = %s AND outcome IN ('rejected', 'failed')"
                    " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5", (run_id,))
        reasons = ", ".join(f"{reason} ({n})" for reason, n in cur.fetchall())
    if not article_urls:
        return ("the listings gave no article URL" + (f" ({reasons})" if reasons else "")
                + ": have the site's listings or feeds changed? (discovery in sources.yaml)")
    if not reasons:
        return f"{article_urls} article URL(s) found"
    return (f"{article_urls} article URL(s) found, not stored because of {reasons}: has the page markup "
            "changed? (selectors in sources.yaml)")


def run(db_url: str, source_key: str, date_from: date | None = None, date_to: date | None = None, *,
        latest: bool = False, kind: str = "cli", base_url: str | None = None, reparse: bool = False,
        dry_run: bool = False, min_articles: int | None = None, budget_seconds: float | None = None,
        progress=None) -> dict[str, Any]:
    """The whole job in one process: what ``news-etl run`` does.

    ``min_articles`` None is the source's floor. However the run ends, the reporting
    views are refreshed after it, so ``news-etl report`` shows it at once.
    """
    base_url = check_mirror_url(base_url) if base_url is not None else None
    run_id = start_run(db_url, source_key, date_from, date_to, latest=latest, kind=kind,
                       base_url=base_url, reparse=reparse, dry_run=dry_run, budget_seconds=budget_seconds)
    try:
        total = outlasting_outages(find_urls, db_url, run_id, mirror_url=base_url)
        if progress:
            progress.start(total)
        after = ""  # the URLs are read back from the ledger a batch at a time, never held all at once
        while batch := outlasting_outages(pending_urls, db_url, run_id, after, settings.URLS_PER_FETCH_TASK):
            outlasting_outages(fetch_and_parse, db_url, run_id, batch, mirror_url=base_url)
            after = batch[-1]
            if progress:
                progress.advance(len(batch))
        outlasting_outages(load, db_url, run_id)
        return check(db_url, run_id, min_articles=min_articles)
    except (CheckFailed, RunEnded):
        raise
    except BaseException as exc:  # an interruption too: the run must not stay 'running'
        end_failed(db_url, run_id, exc)
        raise
    finally:
        refresh_reporting(db_url)


def refresh_reporting(db_url: str) -> None:
    """Refresh the materialized reporting views after a run; a failure to do so only warns.

    Runs and rejects are plain views, current anyway; this brings the article aggregates
    up to date. A role that may not refresh them (not their owner) leaves that to the
    reporting DAG or the owner.
    """
    from news_etl import report

    try:
        with db.connection(db_url) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT coalesce(bool_and(pg_has_role(matviewowner, 'USAGE')), true)"
                            " FROM pg_matviews WHERE schemaname = 'reporting'")
                (may_refresh,) = cur.fetchone()
            if not may_refresh:  # a least-privilege writer: the reporting DAG or the owner refreshes
                log.info("reporting views not refreshed: this role does not own them")
                return
            report.refresh_views(conn)
    except Exception as exc:  # the run's own result stands whatever happens here
        log.warning("reporting views not refreshed: %s", (str(exc).strip().splitlines() or [repr(exc)])[0])
