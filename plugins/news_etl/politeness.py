"""The per-host request schedule shared by every fetcher of every process: ``host_schedule``.

A rate limit kept in one process holds only there: two fetch tasks, two DAG runs or
two Celery workers would each send a host its full rate. So a fetcher with a
database takes each request slot from the host's row in the news database:

    UPDATE host_schedule SET next_at = greatest(next_at, now) + interval RETURNING ...

The row lock makes the update atomic; the returned slot is ``interval`` before the
new ``next_at``, and the caller sleeps until it. Slots are handed out in the order
the updates commit, each at least ``interval`` after the one before, whichever
process asks. Times are the database server's clock (``clock_timestamp()``), and
the wait is computed there too, so the workers' clocks never have to agree.

The connection is its own, in autocommit: a slot taken inside a run's transaction
would hold the row lock, and every other worker with it, until that commits.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg2

# The slot is taken and the wait computed in one statement on the server's clock.
_TAKE_SLOT = """
INSERT INTO host_schedule AS h (host, next_at)
VALUES (%(host)s, clock_timestamp() + make_interval(secs => %(interval)s))
ON CONFLICT (host) DO UPDATE
    SET next_at = greatest(h.next_at, clock_timestamp()) + make_interval(secs => %(interval)s)
RETURNING greatest(0, extract(epoch FROM h.next_at - make_interval(secs => %(interval)s) - clock_timestamp()))
"""


class HostSchedule:
    """Request slots per host from the news database (see the module's text).

    ``connect`` opens a connection to it (the caller owns the database settings).
    """

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._conn = None

    def _connection(self):
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.autocommit = True
        return self._conn

    def reserve(self, host: str, interval: float) -> float:
        """Take ``host``'s next request slot; return the seconds to wait until it starts."""
        with self._connection().cursor() as cur:
            cur.execute(_TAKE_SLOT, {"host": host, "interval": float(interval)})
            return float(cur.fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg2.Error):
                self._conn.close()
            self._conn = None


class LocalSchedule:
    """The same slots kept in this process only: for a fetcher without a database (tools, tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_at: dict[str, float] = {}

    def reserve(self, host: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next_at.get(host, 0.0), now)
            self._next_at[host] = slot + interval
        return slot - now

    def close(self) -> None:
        pass
