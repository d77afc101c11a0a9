"""The run ledger: every URL discovered in a run ends in exactly one outcome.

``run_urls`` holds one row per (run, URL): written with no outcome when the
URL is discovered, given its outcome later (the primary key makes "exactly
one" a database rule). ``finish_run`` checks "discovered = sum of outcomes"
and fails the run loudly when a URL was left without one. None of these
functions commits, except ``finish_run`` on a violation (the failed status
must survive the exception); the caller's transaction decides.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import psycopg2.errors
from psycopg2.extensions import encodings
from psycopg2.extras import Json

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


def copy_rows(cur, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows into ``table`` (None as NULL; str, bytes, datetime, dict values)."""
    copy_lines(cur, table, columns, (copy_line(row) for row in rows))


class _LineStream:
    """A file for ``copy_expert`` that builds COPY lines as the server asks for them.

    The server inserts each chunk while the next one is being built, so the
    Python work of making the lines overlaps the server's work instead of
    preceding it (the machine has two cores).
    """

    def __init__(self, lines: Iterable[str], encoding: str) -> None:
        self._lines = iter(lines)
        self._encoding = encoding

    def read(self, size: int = -1) -> bytes:
        parts: list[str] = []
        length = 0
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        return "".join(parts).encode(self._encoding)


# Characters per chunk handed to the server: big enough that round trips do not
# count, small enough that the server starts inserting early.
_COPY_CHUNK = 1 << 16


def copy_lines(cur, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY lines of COPY's text format (each ending in a newline) into ``table``, streamed."""
    # Encoded in the connection's encoding, as psycopg2 would encode a str.
    stream = _LineStream(lines, encodings[cur.connection.encoding])
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", stream, size=_COPY_CHUNK)


def copy_line(row: Sequence[Any]) -> str:
    """One row as a line of COPY's text format."""
    # Strings, ids and NULLs are most values: done inline, the type dispatch only for the rest.
    return "\t".join([escape_copy(v) if type(v) is str else "\\N" if v is None else str(v) if type(v) is int
                      else copy_value(v) for v in row]) + "\n"


def escape_copy(value: str) -> str:
    """A string escaped for COPY's text format."""
    # str.replace is a fast C scan; str.translate is slow on Cyrillic text.
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def copy_value(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return escape_copy(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _json_text(value)
    return str(value)


_JSON_TEXTS: dict[tuple, str] = {}


def _json_text(value: dict | list) -> str:
    """``value`` as escaped JSON text; flat dicts of strings (an article's extraction
    notes, the same few for a whole source) are remembered instead of encoded per row."""
    # Only str keys and values: with others, equal keys could stand for different JSON (1 and true).
    strings = type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())
    key = tuple(value.items()) if strings else None
    text = _JSON_TEXTS.get(key) if key is not None else None
    if text is None:
        text = escape_copy(json.dumps(value, ensure_ascii=False))
        if key is not None and len(_JSON_TEXTS) < 1024:
            _JSON_TEXTS[key] = text
    return text


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

    A URL that was not recorded as discovered is recorded now, so the ledger
    stays complete whoever calls the loader.
    """
    if not rows:
        return
    for row in rows:
        if row[1] not in OUTCOMES:
            raise ValueError(f"unknown outcome {row[1]!r} for {row[0]}")
    cur = conn_or_cursor.cursor() if hasattr(conn_or_cursor, "cursor") else conn_or_cursor
    try:
        if len(rows) < 50:
            _upsert_outcomes_values(cur, run_id, rows)
            return
        if not _copy_outcomes(cur, run_id, rows):
            _upsert_outcomes_copy(cur, run_id, rows)
        rejected = [(run_id, url, stage or "unknown", reason or "unspecified", detail)
                    for url, outcome, _a, stage, reason, detail in rows if outcome == "rejected"]
        if rejected:
            copy_rows(cur, "rejects", ("run_id", "url", "stage", "reason", "detail"), rejected)
    finally:
        if cur is not conn_or_cursor:
            cur.close()


_RUN_URL_COLUMNS = ("run_id", "url", "outcome", "article_id", "stage", "reason", "detail")
# An INSERT into run_urls ends with this: the last word for a URL counts (a column
# the INSERT does not name is set to its default, NULL, as EXCLUDED has it).
OUTCOME_CONFLICT = (" ON CONFLICT (run_id, url) DO UPDATE SET outcome = EXCLUDED.outcome,"
                    " article_id = EXCLUDED.article_id, stage = EXCLUDED.stage, reason = EXCLUDED.reason,"
                    " detail = EXCLUDED.detail, updated_at = now()")


_T = TypeVar("_T")


def unless_duplicate(cur, attempt: Callable[[], _T]) -> tuple[bool, _T | None]:
    """``attempt()`` under a savepoint: (True, its result), or (False, None) with nothing of it
    kept when a unique constraint refused it. Any other error goes up as it is."""
    cur.execute("SAVEPOINT unless_duplicate")
    try:
        result = attempt()
    except psycopg2.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT unless_duplicate")
        cur.execute("RELEASE SAVEPOINT unless_duplicate")
        return False, None
    cur.execute("RELEASE SAVEPOINT unless_duplicate")
    return True, result


def holds_url(cur, run_id: int, url: str) -> bool:
    """Whether the run's ledger has a row for ``url`` (recorded at discovery or loaded before)."""
    cur.execute(f"SELECT {HOLDS_URL_SQL}", (run_id, url))
    return cur.fetchone()[0]


# holds_url's question as an SQL expression (parameters: run id, URL), to ask along with others.
HOLDS_URL_SQL = "EXISTS (SELECT 1 FROM run_urls WHERE run_id = %s AND url = %s)"


def _copy_outcomes(cur, run_id: int, rows) -> bool:
    """COPY outcomes of URLs the run has no row for yet straight into run_urls; False if it has.

    The loader called without a discovery step (seed loads, benchmarks, tests)
    takes this path: one write per URL instead of a staging table and a merge.
    Whether the run already holds rows is judged by the first URL (a run records
    all its URLs at discovery or none); a wrong guess only costs the fallback.
    """
    if holds_url(cur, run_id, rows[0][0]):
        return False
    copied, _ = unless_duplicate(
        cur, lambda: copy_rows(cur, "run_urls", _RUN_URL_COLUMNS, ((run_id, *row) for row in rows)))
    return copied


def empty_temp_table(cur, name: str, columns_sql: str) -> None:
    """An empty temporary table of the session, emptied at every commit too."""
    cur.execute(empty_temp_table_sql(name, columns_sql))


def empty_temp_table_sql(name: str, columns_sql: str) -> str:
    """The statements of :func:`empty_temp_table`, for a caller sending them with others."""
    # Usually empty already (commit empties it): DELETE then costs nothing, while TRUNCATE
    # would give the table new files every batch.
    return f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns_sql}) ON COMMIT DELETE ROWS; DELETE FROM {name}"


def _upsert_outcomes_copy(cur, run_id: int, rows) -> None:
    """Outcomes of URLs that may have rows already (discovered): staging table and one merge."""
    empty_temp_table(cur, "_ledger_rows", "url text, outcome text, article_id bigint, stage text,"
                     " reason text, detail text")
    copy_rows(cur, "_ledger_rows", _RUN_URL_COLUMNS[1:], rows)
    cur.execute(
        "INSERT INTO run_urls (run_id, url, outcome, article_id, stage, reason, detail)"
        " SELECT %s, url, outcome, article_id, stage, reason, detail FROM _ledger_rows"
        + OUTCOME_CONFLICT, (run_id,))


def _upsert_outcomes_values(cur, run_id: int, rows) -> None:
    values = [(run_id, url, outcome, article_id, stage, reason, detail)
              for url, outcome, article_id, stage, reason, detail in rows]
    args = ",".join(cur.mogrify("(%s,%s,%s,%s,%s,%s,%s)", v).decode() for v in values)
    cur.execute(
        "INSERT INTO run_urls (run_id, url, outcome, article_id, stage, reason, detail) VALUES " + args
        + OUTCOME_CONFLICT)
    rejected = [(run_id, url, stage or "unknown", reason or "unspecified", detail)
                for url, outcome, _a, stage, reason, detail in rows if outcome == "rejected"]
    for value in rejected:
        cur.execute("INSERT INTO rejects (run_id, url, stage, reason, detail) VALUES (%s,%s,%s,%s,%s)", value)


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


def fail_run(conn, run_id: int, error: str) -> None:
    """Mark the run failed with ``error`` (counts as far as they go are kept)."""
    discovered, counts, _missing = outcome_counts(conn, run_id)
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ingest_runs SET status = 'failed', error = %s, finished_at = now(),"
            " discovered = %s, outcome_counts = %s WHERE run_id = %s",
            (error, discovered, Json(counts), run_id))
