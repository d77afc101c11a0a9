"""Bulk rows into PostgreSQL with COPY (text format), through a session's temporary tables.

The loader and the run ledger ship one row per article of a batch. COPY costs
a few microseconds per row, where binding the same values as arrays of an
``INSERT ... SELECT FROM unnest(...)`` costs several times that: the rerun
floor of bench/load_bench.py depends on it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any


def escape(text: str) -> str:
    """``text`` escaped for COPY's text format."""
    # str.replace scans in C; str.translate is ~30x slower on Cyrillic text.
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def copy_value(value: Any) -> str:
    """One value in COPY's text format (None is NULL)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return escape(json.dumps(value, ensure_ascii=False))
    return str(value)


def copy_rows(cur, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``."""
    data = "".join("\t".join(map(copy_value, row)) + "\n" for row in rows)
    if data:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(data))


def temp_table(cur, name: str, columns_sql: str) -> None:
    """An empty temporary table of the session (created once, emptied now and at every commit)."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns_sql}) ON COMMIT DELETE ROWS;"
                f" DELETE FROM {name}")
