"""Bulk rows into PostgreSQL with COPY (text format), through a session's temporary tables.

The loader and the run ledger ship one row per article of a batch. COPY costs
a few microseconds per row, where binding the same values as arrays of an
``INSERT ... SELECT FROM unnest(...)`` costs several times that: the floors
of bench/load_bench.py depend on it. The hot tables format their lines
themselves with :func:`escape` and :data:`NULL` (:func:`copy_lines`); the
others go through :func:`copy_value` (:func:`copy_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

NULL = "\\N"  # NULL in COPY's text format


def escape(text: str) -> str:
    """``text`` escaped for COPY's text format."""
    # Chained str.replace, not str.translate: each replace is one C scan, while translate maps
    # character by character, which costs far more on Cyrillic text (bench/load_bench.py).
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def bytea(value: bytes) -> str:
    """A bytea value in COPY's text format (hex, its backslash escaped)."""
    return "\\\\x" + value.hex()


def copy_value(value: Any) -> str:
    """One value of any supported type in COPY's text format (None is NULL)."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytea(bytes(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return escape(json.dumps(value, ensure_ascii=False))
    return str(value)


def copy_rows(cur, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``, each value through :func:`copy_value`."""
    copy_lines(cur, table, columns, ("\t".join(map(copy_value, row)) + "\n" for row in rows))


def copy_lines(cur, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY ``lines`` (each a row in COPY's text format, ending in a newline) into ``table``."""
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", _Lines(lines), size=_CHUNK)


def array_literal(values: Iterable[int | str | None]) -> str:
    """``values`` as one PostgreSQL array literal, e.g. ``{1,NULL,3}``, to bind with a cast (``%s::int[]``).

    For numbers and plain words only (nothing to quote). psycopg2 adapts a list
    value by value, about a microsecond each; one string is bound at once.
    """
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


# Characters handed to the server at a time: large enough that round trips do not count, small
# enough that the server stores one chunk while the next is formatted (the two cores work at once).
_CHUNK = 1 << 16


class _Lines:
    """A file for ``copy_expert`` whose ``read`` hands over the next lines."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)

    def read(self, size: int = -1) -> str:
        parts: list[str] = []
        length = 0
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if 0 < size <= length:
                break
        return "".join(parts)


def temp_table(cur, name: str, columns_sql: str) -> None:
    """An empty temporary table of the session (created once, emptied now and at every commit)."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns_sql}) ON COMMIT DELETE ROWS;"
                f" DELETE FROM {name}")
