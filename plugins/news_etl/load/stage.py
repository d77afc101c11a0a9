"""Parsed articles kept between Airflow tasks: the fetch tasks stage them, the load task reads them.

``staged_articles.payload`` is JSON text (``Article.to_dict()``), not jsonb, so
that a record with a lone surrogate still reaches the loader and is rejected
there with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from news_etl.load.batch import printable
from news_etl.record import Article


def stage_articles(conn, run_id: int, articles: Iterable[Article]) -> int:
    """Keep parsed articles of a run for its load task (a retried task replaces, never doubles).

    No commit: the caller commits with the rest of its task's work.
    """
    rows = [(printable(a.url), json.dumps(a.to_dict(), ensure_ascii=True)) for a in articles]
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO staged_articles (run_id, url, payload)"
            " SELECT %s, u, p FROM unnest(%s::text[], %s::text[]) AS q(u, p)"
            " ON CONFLICT (run_id, url) DO UPDATE SET payload = EXCLUDED.payload, staged_at = now()",
            (run_id, [url for url, _ in rows], [payload for _, payload in rows]))
    return len(rows)


def staged_batches(conn, run_id: int, size: int) -> Iterator[list[Article]]:
    """The run's staged articles in the order they were staged, ``size`` at a time.

    Read through a server-side cursor, so the load task holds one batch at a
    time however many were staged. Commits first: the cursor is declared WITH
    HOLD and committed, so it outlives the loader's commits and rollbacks.
    """
    with conn.cursor(name=f"staged_articles_{run_id}", withhold=True) as cur:
        cur.execute("SELECT payload FROM staged_articles WHERE run_id = %s ORDER BY seq", (run_id,))
        conn.commit()
        while rows := cur.fetchmany(size):
            yield [Article.from_dict(json.loads(payload)) for (payload,) in rows]


def clear_staged(conn, run_id: int) -> int:
    """Drop the run's staged articles (after a successful load); returns how many. No commit."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM staged_articles WHERE run_id = %s", (run_id,))
        return cur.rowcount
