"""The loader under concurrency and crashes, in real separate processes on real PostgreSQL.

- Two loaders given the same batch at the same moment (two Airflow workers)
  both finish, without a deadlock, and store each article once.
- A loader killed with SIGKILL in the middle of a batch leaves nothing of it
  visible; loading the batch again ends with exactly the expected rows.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
from news_etl import db as dbmod
from news_etl import ledger
from news_etl.load import ensure_source, load_articles
from support.texts import synthetic_article

SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: nothing shared but the database


def batch(sources: list[str], per_source: int, chars: int = 1500) -> list:
    # Distinct texts per source (the same text on two sources would be an exact duplicate).
    return [synthetic_article(n + 100_000 * int(key == "synth_b"), source_key=key, chars=chars)
            for key in sources for n in range(per_source)]


def _load_in_child(url: str, sources: list[str], per_source: int, chars: int, app: str,
                   start, results) -> None:
    """One loader process: wait for the start signal, load the batch, report its outcomes."""
    conn = dbmod.connect(url)
    with conn.cursor() as cur:
        cur.execute("SET application_name = %s", (app,))
    run_id = ledger.start_run(conn, source_key=None, kind="cli")
    conn.commit()
    articles = batch(sources, per_source, chars)
    start.wait(60)
    outcomes = load_articles(conn, articles, run_id=run_id)
    results.put((app, run_id, [outcome for _url, outcome, _id in outcomes]))
    conn.close()


def _count(url: str, sql: str, args=()) -> int:
    with dbmod.connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


@pytest.fixture
def sources(db_url):
    with dbmod.connection(db_url) as conn:
        for key in ("synth_a", "synth_b"):
            ensure_source(conn, key, key, f"https://{key}.example/")
        conn.commit()
    return db_url


def test_two_loaders_on_the_same_batch_store_each_article_once(sources):
    url, per_source = sources, 150
    start, results = SPAWN.Event(), SPAWN.Queue()
    # Opposite source order in the two batches: locks taken in input order could deadlock.
    loaders = [SPAWN.Process(target=_load_in_child, args=(url, order, per_source, 1500, name, start, results))
               for name, order in (("one", ["synth_a", "synth_b"]), ("two", ["synth_b", "synth_a"]))]
    for proc in loaders:
        proc.start()
    start.set()
    for proc in loaders:
        proc.join(180)
        assert proc.exitcode == 0, f"loader exited with {proc.exitcode} (deadlock or error)"
    reports = {app: (run_id, outcomes) for app, run_id, outcomes in (results.get(timeout=5) for _ in loaders)}

    total = 2 * per_source
    assert _count(url, "SELECT count(*) FROM articles") == total
    assert _count(url, "SELECT count(DISTINCT (source_key, source_article_id)) FROM articles") == total
    assert _count(url, "SELECT count(DISTINCT canonical_url) FROM articles") == total
    # Between them, every article is new exactly once and otherwise seen unchanged.
    outcomes = [o for _run, outs in reports.values() for o in outs]
    assert outcomes.count("new") == total
    assert outcomes.count("unchanged") == total
    for run_id, outs in reports.values():
        assert _count(url, "SELECT count(*) FROM run_urls WHERE run_id = %s", (run_id,)) == len(outs)


def _backend_in_transaction(url: str, app: str) -> bool:
    """True once the loader's session holds its advisory lock, i.e. is inside the batch's transaction."""
    return bool(_count(url, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                            " WHERE a.application_name = %s AND l.locktype = 'advisory' AND l.granted",
                       (app,)))


def test_loader_killed_mid_batch_leaves_nothing_and_the_rerun_is_exact(sources):
    url, per_source = sources, 1500
    start, results = SPAWN.Event(), SPAWN.Queue()
    victim = SPAWN.Process(target=_load_in_child,
                           args=(url, ["synth_a"], per_source, 3000, "victim", start, results))
    victim.start()
    start.set()
    deadline = time.monotonic() + 120
    while not _backend_in_transaction(url, "victim"):
        assert victim.is_alive(), "the loader finished before it could be killed"
        assert time.monotonic() < deadline, "the loader never started its batch"
        time.sleep(0.005)
    time.sleep(0.3)  # well inside the batch: rows are being written
    assert victim.is_alive(), "the loader finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    assert victim.exitcode == -signal.SIGKILL

    # Nothing of the batch is visible: no article, no URL, no fingerprint, no ledger outcome.
    assert _count(url, "SELECT count(*) FROM articles") == 0
    assert _count(url, "SELECT count(*) FROM article_urls") == 0
    assert _count(url, "SELECT count(*) FROM article_fingerprints") == 0
    assert _count(url, "SELECT count(*) FROM minhash_bands") == 0
    assert _count(url, "SELECT count(*) FROM run_urls") == 0

    # The rerun (it waits for the dead session's lock to go) loads exactly the batch.
    with dbmod.connection(url) as conn:
        run_id = ledger.start_run(conn, source_key=None, kind="cli")
        conn.commit()
        outcomes = load_articles(conn, batch(["synth_a"], per_source, 3000), run_id=run_id)
    assert [o for _u, o, _i in outcomes] == ["new"] * per_source
    assert _count(url, "SELECT count(*) FROM articles") == per_source
    assert _count(url, "SELECT count(DISTINCT source_article_id) FROM articles") == per_source
    assert _count(url, "SELECT count(*) FROM run_urls WHERE run_id = %s", (run_id,)) == per_source
