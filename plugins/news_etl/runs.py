"""A run's hold on its row: the lease a working process renews, and how a run always ends.

A run that is ``running`` has a process renewing its lease (``ingest_runs.lease_until``);
a run whose lease expired is marked ``abandoned`` by the next run of its source or by
``news-etl runs``. A stage that loses the database is run again once it is back, for
at most ``db_retry_seconds``; whatever ends a run records why, so none stays
``running`` (tests/db/test_run_lifecycle.py).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2

from news_etl import db, ledger, settings
from news_etl.canonical import redacted_url

log = logging.getLogger(__name__)


class RunEnded(RuntimeError):
    """The run is no longer running (it failed, or was marked abandoned): this process must stop."""


def run_options(conn, run_id: int) -> dict[str, Any]:
    """The row of a run that is still running (status, kind, window, params).

    ValueError when there is no such run; RunEnded when it has ended: no stage works on it then.
    """
    run = ledger.get_run(conn, run_id)
    if run is None:
        raise ValueError(f"no ingest run {run_id}")
    if run["status"] != "running":
        raise RunEnded(f"run {run_id} is {run['status']}, not running")
    return run


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_seconds(kind: str) -> float:
    """How long a run may go without a heartbeat before it counts as dead (and is marked abandoned).

    A CLI run is one process: when it dies, so does its run, found within one lease. An
    Airflow run is Airflow's to continue: a task that fails (a database restart, a site
    down) or whose worker is killed is retried after a delay growing to MAX_RETRY_DELAY, and
    the next task may wait for a pool slot. The run must outlive those waits, so its lease
    spans RUN_TIMEOUT, after which Airflow has failed the DAG run (and the failure callback
    the ingest run). The soak (devtools/soak.py) restarts the database under such runs.
    """
    if kind == "airflow":
        return max(settings.RUN_TIMEOUT.total_seconds(), settings.run_lease_seconds())
    return settings.run_lease_seconds()


class Heartbeat(threading.Thread):
    """Renews the run's lease while a stage works, on a connection of its own.

    ``lost`` turns True when the run was ended by someone else (marked abandoned
    while this process was stalled): the stage then stops instead of writing on.
    """

    def __init__(self, db_url: str, run_id: int, lease: float) -> None:
        super().__init__(name=f"heartbeat-run-{run_id}", daemon=True)
        self.db_url, self.run_id, self.lease = db_url, run_id, lease
        # Beats at the CLI's pace whatever the lease, so a run ended elsewhere is noticed soon.
        self.every = min(lease, settings.run_lease_seconds()) / 4
        self.lost = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            try:
                with db.connection(self.db_url) as conn:
                    self.lost = not ledger.renew_lease(conn, self.run_id, self.lease, worker_id())
                    conn.commit()
            except Exception as exc:  # a database outage: the stage itself will meet it
                log.warning("run %s: heartbeat failed: %s", self.run_id, exc)

    def check(self) -> None:
        if self.lost:
            raise RunEnded(f"run {self.run_id} was ended by another process (its lease had expired)")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


@contextmanager
def working(db_url: str, run_id: int) -> Iterator[tuple[Any, dict[str, Any], Heartbeat]]:
    """A stage's hold on its run: (connection, run row, heartbeat).

    Refuses a run that has ended; renews the run's lease (``lease_seconds``) as the stage
    starts, while it works, and once more when it is done.
    """
    with db.connection(db_url, retry_seconds=settings.db_retry_seconds()) as conn:
        options = run_options(conn, run_id)
        lease = lease_seconds(options["kind"])
        ledger.renew_lease(conn, run_id, lease, worker_id())
        conn.commit()
        heartbeat = Heartbeat(db_url, run_id, lease)
        heartbeat.start()
        try:
            yield conn, options, heartbeat
        finally:
            heartbeat.stop()
        if not conn.closed:
            ledger.renew_lease(conn, run_id, lease)
            conn.commit()


def budget_deadline(conn, run_id: int, options: dict[str, Any]) -> tuple[float, float]:
    """(the run's time budget in seconds, when it is spent as a ``time.monotonic()`` value).

    Counted from the run's start on the database's clock, so every task of the run, on any
    worker, spends the same budget.
    """
    budget = float(options["params"].get("budget_seconds") or settings.run_budget_seconds())
    with conn.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM clock_timestamp() - started_at) FROM ingest_runs"
                    " WHERE run_id = %s", (run_id,))
        spent = float(cur.fetchone()[0])
    return budget, time.monotonic() + budget - spent


def budget_cut(conn, run_id: int, options: dict[str, Any]) -> tuple[float, int] | None:
    """(the run's budget, its URLs failed for want of time), or None when the budget held."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM run_urls WHERE run_id = %s AND reason = 'budget'", (run_id,))
        (cut,) = cur.fetchone()
    if not cut:
        return None
    return budget_deadline(conn, run_id, options)[0], cut


def run_mirror(run_id: int, params: dict[str, Any], mirror_url: str | None) -> str | None:
    """The mirror a run fetches from: as recorded, or ``mirror_url`` (given again by the caller)
    when the recorded one had its credentials redacted."""
    recorded = params.get("base_url")
    if recorded and mirror_url and redacted_url(mirror_url) == recorded:
        return mirror_url
    if recorded and "***@" in recorded:
        raise ValueError(f"run {run_id} fetches from {recorded}, whose credentials are not stored: "
                         "give its mirror URL again")
    return recorded


def pending_urls(db_url: str, run_id: int, after: str, size: int) -> list[str]:
    """The next ``size`` URLs of the run without an outcome, in URL order after ``after``.

    The run's list of work is its ledger: discovery writes it, the fetch loop reads it back
    a batch at a time (a keyset on the ledger's key), so no process holds a whole run's URLs.
    """
    with db.connection(db_url, retry_seconds=settings.db_retry_seconds()) as conn, conn.cursor() as cur:
        cur.execute("SELECT url FROM run_urls WHERE run_id = %s AND outcome IS NULL AND url > %s"
                    " ORDER BY url LIMIT %s", (run_id, after, size))
        return [url for (url,) in cur.fetchall()]


def lost_connection(exc: BaseException) -> bool:
    """A database error that says the server went away, not that the statement was wrong."""
    if isinstance(exc, db.DatabaseError) and isinstance(exc.__cause__, psycopg2.OperationalError):
        return True  # could not reconnect
    if not isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return False
    code = getattr(exc, "pgcode", None)
    return code is None or code.startswith(("08", "57P"))  # connection exception, shutdown


def outlasting_outages(stage, db_url: str, run_id: int, *args, **kwargs):
    """Run a stage; when the database goes away under it, run it again once the database is
    back, for at most ``db_retry_seconds``. Every stage is safe to repeat (as an Airflow retry)."""
    waits = db.backoff_waits(time.monotonic() + settings.db_retry_seconds())
    while True:
        try:
            return stage(db_url, run_id, *args, **kwargs)
        except Exception as exc:
            wait = next(waits, None) if lost_connection(exc) else None
            if wait is None:
                raise
            log.warning("run %s: database connection lost in %s (%s); trying again",
                        run_id, stage.__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
        time.sleep(wait)


def end_failed(db_url: str, run_id: int, exc: BaseException) -> None:
    """Record why the run ended; if the database stays away, the run's lease expires and
    the next run of the source (or ``news-etl runs``) marks it abandoned instead."""
    if isinstance(exc, KeyboardInterrupt):
        reason, message = "interrupted", f"interrupted ({exc or 'SIGINT'})"
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        reason, message = "run_failed", f"{type(exc).__name__}: {first}"
    try:
        with db.connection(db_url, retry_seconds=settings.db_retry_seconds()) as conn:
            ledger.fail_run(conn, run_id, message, reason=reason)
            conn.commit()
    except Exception as cleanup:
        log.error("run %s could not be marked failed (%s); it will be marked abandoned when its lease "
                  "expires", run_id, cleanup)
