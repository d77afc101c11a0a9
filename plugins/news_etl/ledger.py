"""The run ledger: every URL discovered in a run ends in exactly one outcome.

``run_urls`` holds one row per (run, URL): written with no outcome when the
URL is discovered, given its outcome later (the primary key makes "exactly
one" a database rule). ``finish_run`` checks "discovered = sum of outcomes"
and fails the run loudly when a URL was left without one. None of these
functions commits, except ``finish_run`` on a violation (the failed status
must survive the exception); the caller's transaction decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from psycopg2.extras import Json

from news_etl.pgcopy import array_literal, copy_rows, temp_table

OUTCOMES = ("new", "updated", "unchanged", "duplicate_exact", "duplicate_near", "rejected", "failed")


class LedgerError(RuntimeError):
    """The run's books do not balance: some discovered URL has no outcome."""


class RunSummary(dict):
    """What ``finish_run`` found: run_id, status, discovered, outcome_counts, stage_seconds.

    A dict (so it serialises as JSON for Airflow's XCom and prints plainly),
    with attribute access for the common fields.
    """

    @property
    def run_id(self) -> int:
        return self["run_id"]

    @property
    def discovered(self) -> int:
        return self["discovered"]

    @property
    def outcome_counts(self) -> dict[str, int]:
        return self["outcome_counts"]

    @property
    def stage_seconds(self) -> dict[str, float]:
        return self["stage_seconds"]


def start_run(conn, *, source_key: str | None, kind: str = "cli", window_start: date | None = None,
              window_end: date | None = None, params: dict[str, Any] | None = None) -> int:
    """Open a run (status ``running``) and return its id."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ingest_runs (source_key, kind, window_start, window_end, params)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING run_id",
            (source_key, kind, window_start, window_end, Json(params or {})),
        )
        return cur.fetchone()[0]


def set_airflow_run(conn, run_id: int, *, dag_id: str, dag_run_id: str | None = None,
                    logical_date: datetime | None = None) -> None:
    """Record the Airflow DAG run behind ingest run ``run_id`` (what the operator looks up)."""
    with conn.cursor() as cur:
        cur.execute("UPDATE ingest_runs SET airflow_dag_id = %s, airflow_run_id = %s,"
                    " airflow_logical_date = %s WHERE run_id = %s",
                    (dag_id, dag_run_id, logical_date, run_id))


def get_run(conn, run_id: int) -> dict[str, Any] | None:
    """The run row as a dict, or None."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT run_id, source_key, kind, window_start, window_end, params, status, discovered,"
            " outcome_counts, stage_seconds, error, started_at, finished_at"
            " FROM ingest_runs WHERE run_id = %s", (run_id,))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d.name for d in cur.description], row, strict=True))


def record_discovered(conn, run_id: int, urls: Iterable[str]) -> int:
    """Record URLs found in the run (a URL found twice counts once); returns how many were new."""
    urls = list(dict.fromkeys(urls))
    if not urls:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO run_urls (run_id, url) SELECT %s, u FROM unnest(%s::text[]) AS u"
            " ON CONFLICT (run_id, url) DO NOTHING", (run_id, urls))
        return cur.rowcount


def record_outcome(conn, run_id: int, url: str, outcome: str, *, article_id: int | None = None,
                   stage: str | None = None, reason: str | None = None, detail: str | None = None) -> None:
    """Give one URL its outcome (the last word counts); ``rejected`` also goes to ``rejects``."""
    record_outcomes(conn, run_id, [(url, outcome, article_id, stage, reason, detail)])


def record_outcomes(conn_or_cursor, run_id: int,
                    rows: Sequence[tuple[str, str, int | None, str | None, str | None, str | None]]) -> None:
    """Set-based ``record_outcome``: rows of (url, outcome, article_id, stage, reason, detail).

    A URL given twice keeps its last row. A URL that was not recorded as
    discovered is recorded now, so the ledger stays complete whoever calls the loader.
    """
    rows = list({row[0]: row for row in rows}.values())
    if not rows:
        return
    for row in rows:
        if row[1] not in OUTCOMES:
            raise ValueError(f"unknown outcome {row[1]!r} for {row[0]}")
    cur = conn_or_cursor.cursor() if hasattr(conn_or_cursor, "cursor") else conn_or_cursor
    try:
        temp_table(cur, "ledger_rows", "url text, outcome text, article_id bigint, stage text, reason text,"
                   " detail text")
        copy_rows(cur, "ledger_rows", ("url", "outcome", "article_id", "stage", "reason", "detail"), rows)
        cur.execute(_WRITE_OUTCOMES, {"run_id": run_id})
    finally:
        if cur is not conn_or_cursor:
            cur.close()


# The rows of ledger_rows into the run's ledger (the last word for a URL counts) and,
# for rejected URLs, into rejects.
_WRITE_OUTCOMES = """
INSERT INTO run_urls (run_id, url, outcome, article_id, stage, reason, detail)
SELECT %(run_id)s, url, outcome, article_id, stage, reason, detail FROM ledger_rows
ON CONFLICT (run_id, url) DO UPDATE SET outcome = EXCLUDED.outcome, article_id = EXCLUDED.article_id,
    stage = EXCLUDED.stage, reason = EXCLUDED.reason, detail = EXCLUDED.detail, updated_at = now();
INSERT INTO rejects (run_id, url, stage, reason, detail)
SELECT %(run_id)s, url, coalesce(stage, 'unknown'), coalesce(reason, 'unspecified'), detail
FROM ledger_rows WHERE outcome = 'rejected'
"""


def record_keyed_outcomes(cur, run_id: int, keys_table: str,
                          rows: Sequence[tuple[int, str, int | None]]) -> None:
    """``record_outcomes`` for URLs already on the server: rows of (key, outcome, article_id).

    Each key is an ``i`` of ``keys_table``, a temporary table of the session with
    columns ``i`` (unique) and ``url``, one row per URL. The loader has sent each
    URL of its batch there once; taking them from there spares a second COPY
    (bench/load_bench.py, the rerun). No reason or detail: a rejected URL goes
    through ``record_outcomes``.
    """
    if not rows:
        return
    keys, outcomes, article_ids = zip(*rows, strict=True)
    unknown = set(outcomes).difference(OUTCOMES) | ({"rejected"} & set(outcomes))
    if unknown:
        raise ValueError(f"outcomes {sorted(unknown)} cannot be recorded by key")
    cur.execute(_WRITE_KEYED_OUTCOMES.format(keys_table=keys_table),
                {"run_id": run_id, "keys": array_literal(keys), "outcomes": array_literal(outcomes),
                 "article_ids": array_literal(article_ids)})
    if cur.rowcount != len(rows):  # a key missing from keys_table would leave its URL without an outcome
        raise LedgerError(f"{len(rows) - cur.rowcount} of {len(rows)} keys are not in {keys_table}")


_WRITE_KEYED_OUTCOMES = """
INSERT INTO run_urls (run_id, url, outcome, article_id)
SELECT %(run_id)s, k.url, q.outcome, q.article_id
FROM unnest(%(keys)s::int[], %(outcomes)s::text[], %(article_ids)s::bigint[]) AS q(i, outcome, article_id)
JOIN {keys_table} k ON k.i = q.i
ON CONFLICT (run_id, url) DO UPDATE SET outcome = EXCLUDED.outcome, article_id = EXCLUDED.article_id,
    stage = NULL, reason = NULL, detail = NULL, updated_at = now()
"""


def add_stage_seconds(conn, run_id: int, stage: str, seconds: float) -> None:
    """Add time spent in ``stage`` to the run (stages run in several tasks add up)."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ingest_runs SET stage_seconds = jsonb_set(stage_seconds, ARRAY[%s],"
            " to_jsonb(round((coalesce((stage_seconds->>%s)::numeric, 0) + %s)::numeric, 3)))"
            " WHERE run_id = %s", (stage, stage, seconds, run_id))


def outcome_counts(conn, run_id: int) -> tuple[int, dict[str, int], list[str]]:
    """(discovered, counts per outcome, a few URLs still without an outcome)."""
    with conn.cursor() as cur:
        cur.execute("SELECT outcome, count(*) FROM run_urls WHERE run_id = %s GROUP BY outcome", (run_id,))
        counts = dict(cur.fetchall())
        cur.execute("SELECT url FROM run_urls WHERE run_id = %s AND outcome IS NULL ORDER BY url LIMIT 5",
                    (run_id,))
        missing = [u for (u,) in cur.fetchall()]
    discovered = sum(counts.values())
    counts.pop(None, None)
    return discovered, {k: counts[k] for k in OUTCOMES if k in counts}, missing


def finish_run(conn, run_id: int, *, stage_seconds: dict[str, float] | None = None) -> RunSummary:
    """Close the run: store counts and timings, check discovered == sum of outcomes.

    On a violation the run is marked ``failed`` (committed) and LedgerError raised.
    """
    discovered, counts, missing = outcome_counts(conn, run_id)
    with conn.cursor() as cur:
        for stage, seconds in (stage_seconds or {}).items():
            add_stage_seconds(conn, run_id, stage, seconds)
        cur.execute("SELECT stage_seconds FROM ingest_runs WHERE run_id = %s", (run_id,))
        row = cur.fetchone()
        if row is None:
            raise LedgerError(f"run {run_id} does not exist")
        total = sum(counts.values())
        ok = total == discovered and not missing
        error = None
        if not ok:
            error = (f"ledger violation in run {run_id}: {discovered} URL(s) discovered but {total} "
                     f"outcome(s) recorded; without an outcome: {', '.join(missing)}")
        cur.execute(
            "UPDATE ingest_runs SET discovered = %s, outcome_counts = %s, finished_at = now(),"
            " status = %s, error = coalesce(%s, error) WHERE run_id = %s RETURNING stage_seconds",
            (discovered, Json(counts), "succeeded" if ok else "failed", error, run_id))
        timings = cur.fetchone()[0]
    if not ok:
        conn.commit()
        raise LedgerError(error)
    return RunSummary(run_id=run_id, status="succeeded", discovered=discovered,
                      outcome_counts=counts, stage_seconds=timings)


def fail_run(conn, run_id: int, error: str, *, reason: str = "run_failed") -> None:
    """Mark the run failed with ``error`` and close its books (no commit).

    What was done stays as recorded; a URL still without an outcome gets
    ``failed`` with ``reason`` (e.g. ``interrupted``), and the run's staged articles,
    which no load will read now, are removed.
    """
    _end_run(conn, run_id, "failed", error, reason)


def _end_run(conn, run_id: int, status: str, error: str, reason: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE run_urls SET outcome = 'failed', stage = 'run', reason = %s, detail = %s,"
            " updated_at = now() WHERE run_id = %s AND outcome IS NULL", (reason, error[:500], run_id))
        cur.execute("DELETE FROM staged_articles WHERE run_id = %s", (run_id,))
    discovered, counts, _missing = outcome_counts(conn, run_id)
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ingest_runs SET status = %s, error = %s, finished_at = now(),"
            " discovered = %s, outcome_counts = %s WHERE run_id = %s",
            (status, error, discovered, Json(counts), run_id))


def renew_lease(conn, run_id: int, seconds: float, worker: str | None = None) -> bool:
    """Keep the run's lease ``seconds`` more; False when the run is no longer running (no commit)."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ingest_runs SET heartbeat_at = now(), lease_until = now() + make_interval(secs => %s),"
            " worker = coalesce(%s, worker) WHERE run_id = %s AND status = 'running'",
            (seconds, worker, run_id))
        return cur.rowcount == 1


def abandon_stale_runs(conn, source_key: str | None = None) -> list[int]:
    """Mark ``abandoned`` every running run (of ``source_key``) whose lease has expired; no commit.

    Its process is gone (killed, or its machine lost): its URLs without an outcome
    become ``failed`` (reason ``abandoned``) and its staged articles are removed.
    SKIP LOCKED: a run another session is ending right now is left to it.
    """
    with conn.cursor() as cur:
        cur.execute(
            "SELECT run_id, heartbeat_at FROM ingest_runs WHERE status = 'running' AND lease_until < now()"
            " AND (%s::text IS NULL OR source_key = %s) ORDER BY run_id FOR UPDATE SKIP LOCKED",
            (source_key, source_key))
        stale = cur.fetchall()
    for run_id, heartbeat_at in stale:
        _end_run(conn, run_id, "abandoned",
                 f"abandoned: its process stopped (last heartbeat {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC)",
                 "abandoned")
    return [run_id for run_id, _ in stale]


def recent_runs(conn, limit: int = 20) -> list[dict[str, Any]]:
    """The last ``limit`` runs, newest first, with their state and counts."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT r.run_id, r.source_key, r.kind, r.status, r.window_start, r.window_end, r.started_at,"
            " r.finished_at, r.heartbeat_at, r.lease_until, r.worker, r.error,"
            " (SELECT count(*) FROM run_urls u WHERE u.run_id = r.run_id) AS discovered,"
            " (SELECT count(*) FROM run_urls u WHERE u.run_id = r.run_id AND u.outcome IS NULL) AS pending"
            " FROM ingest_runs r ORDER BY r.run_id DESC LIMIT %s", (limit,))
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
