"""Every run ends in a final state: kill -9, SIGTERM, SIGINT of `news-etl run`, then the next run.

Real processes against the loopback replica: a run is stopped while it fetches
(after its third article request), or killed with SIGKILL after it staged its
articles; afterwards no run is left 'running', every ended run's ledger adds up
(each discovered URL has exactly one outcome), nothing stays staged, and the next
run stores exactly the day's articles.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket as _socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from devtools.replica import SITE_DIR, serve

REPO = Path(__file__).resolve().parents[2]
DAY = "2019-11-05"
MANIFEST = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
EXPECTED = set(MANIFEST["days"][DAY]["expected_loaded"])
ARTICLE_PATHS = {url.removeprefix("https://tengrinews.kz") for url in EXPECTED}
LEASE = 2  # seconds: a dead run is found stale quickly


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "plugins"), "NEWS_ETL_DATABASE_URL": db_url,
            "NEWS_ETL_RUN_LEASE_SECONDS": str(LEASE)}


def _news_etl(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "news_etl", *args], capture_output=True, text=True,
                          env=_env(db_url), timeout=120)


def _start_run(env: dict[str, str], replica, day: str = DAY) -> subprocess.Popen:
    """``news-etl run`` of one day from the replica, in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "news_etl", "run", "tengrinews", "--date", day,
         "--base-url", replica.base_url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _query(db_url: str, sql: str, params=()) -> list[tuple]:
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.close()
    return rows


def _wait_for_article_requests(replica, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fetched = [path for _method, path, _t in list(replica.requests) if path in ARTICLE_PATHS]
        if len(fetched) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never reached its article pages")


def _assert_every_run_ended_and_balanced(db_url: str) -> None:
    assert _query(db_url, "SELECT run_id FROM ingest_runs WHERE status = 'running'") == []
    # The ledger identity, per run: discovered = outcomes, and the stored counts agree.
    rows = _query(db_url, "SELECT r.run_id, r.discovered, r.outcome_counts, count(u.url),"
                          " count(u.outcome) FROM ingest_runs r LEFT JOIN run_urls u USING (run_id)"
                          " GROUP BY r.run_id ORDER BY r.run_id")
    for run_id, discovered, counts, urls, with_outcome in rows:
        assert urls == with_outcome == discovered == sum(counts.values()), run_id
    assert _query(db_url, "SELECT count(*) FROM staged_articles") == [(0,)]


def _assert_exact_articles(db_url: str) -> None:
    stored = _query(db_url, "SELECT canonical_url FROM articles")
    assert sorted(url for (url,) in stored) == sorted(EXPECTED)


def _last_run(db_url: str) -> tuple:
    return _query(db_url, "SELECT run_id, status, error, outcome_counts FROM ingest_runs"
                          " ORDER BY run_id DESC LIMIT 1")[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_run_as_failed_and_the_next_run_is_exact(db_url: str, signum: int) -> None:
    with serve() as replica:
        process = _start_run(_env(db_url), replica)
        _wait_for_article_requests(replica, 3, process)
        process.send_signal(signum)
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 1
        name = signal.Signals(signum).name
        assert err.strip() == f"news-etl: error: interrupted ({name})" or \
            err.strip().endswith(f"news-etl: interrupted ({name})"), err
        run_id, status, error, _counts = _last_run(db_url)
        assert (status, error) == ("failed", f"interrupted ({name})")
        # The URLs it had not finished are failed with the reason, not left open.
        reasons = _query(db_url, "SELECT DISTINCT reason FROM run_urls WHERE run_id = %s", (run_id,))
        assert reasons == [("interrupted",)]
        _assert_every_run_ended_and_balanced(db_url)

        again = _news_etl(db_url, "run", "tengrinews", "--date", DAY, "--base-url", replica.base_url)
    assert again.returncode == 0, again.stderr
    _run_id, status, _error, counts = _last_run(db_url)
    assert (status, counts) == ("succeeded", {"new": len(EXPECTED)})
    _assert_every_run_ended_and_balanced(db_url)
    _assert_exact_articles(db_url)


def test_kill_9_while_fetching_is_marked_abandoned_by_news_etl_runs(db_url: str) -> None:
    with serve() as replica:
        process = _start_run(_env(db_url), replica)
        _wait_for_article_requests(replica, 3, process)
        process.kill()
        process.communicate(timeout=30)
        run_id, status, _error, _counts = _last_run(db_url)
        assert status == "running"  # nobody could say otherwise: the process is gone

        # Within its lease it is alive as far as anyone knows; after it, `runs` ends it.
        listed = _news_etl(db_url, "runs")
        assert listed.returncode == 0, listed.stderr
        assert "abandoned" not in listed.stdout and f"{run_id:>6}  running" in listed.stdout
        time.sleep(LEASE + 0.5)
        listed = _news_etl(db_url, "runs")
        assert listed.returncode == 0, listed.stderr
        assert f"marked 1 run(s) abandoned (their process stopped): {run_id}" in listed.stdout
        assert f"{run_id:>6}  abandoned" in listed.stdout
        _assert_every_run_ended_and_balanced(db_url)
        assert _query(db_url, "SELECT DISTINCT outcome, reason FROM run_urls WHERE run_id = %s",
                      (run_id,)) == [("failed", "abandoned")]

        again = _news_etl(db_url, "run", "tengrinews", "--date", DAY, "--base-url", replica.base_url)
    assert again.returncode == 0, again.stderr
    assert _last_run(db_url)[1:] == ("succeeded", None, {"new": len(EXPECTED)})
    _assert_every_run_ended_and_balanced(db_url)
    _assert_exact_articles(db_url)


# A run that staged its articles, then its process was killed (SIGKILL) before loading them.
_KILLED_AFTER_STAGING = """
import os, signal, sys
from datetime import date
from news_etl import pipeline
url = os.environ["NEWS_ETL_DATABASE_URL"]
run_id = pipeline.start_run(url, "tengrinews", date.fromisoformat(sys.argv[1]), base_url=sys.argv[2])
for batch in pipeline.discover(url, run_id):
    pipeline.fetch_and_parse(url, run_id, batch)
print(run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_kill_9_after_staging_is_abandoned_by_the_next_run_and_its_staging_removed(db_url: str) -> None:
    with serve() as replica:
        killed = subprocess.run([sys.executable, "-c", _KILLED_AFTER_STAGING, DAY, replica.base_url],
                                env=_env(db_url), capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        dead_run = int(killed.stdout)
        assert _query(db_url, "SELECT count(*) FROM staged_articles WHERE run_id = %s",
                      (dead_run,)) == [(len(EXPECTED),)]
        time.sleep(LEASE + 0.5)
        again = _news_etl(db_url, "run", "tengrinews", "--date", DAY, "--base-url", replica.base_url)
    assert again.returncode == 0, again.stderr
    status, error = _query(db_url, "SELECT status, error FROM ingest_runs WHERE run_id = %s", (dead_run,))[0]
    assert status == "abandoned" and error.startswith("abandoned: its process stopped"), error
    assert _last_run(db_url)[1:] == ("succeeded", None, {"new": len(EXPECTED)})
    _assert_every_run_ended_and_balanced(db_url)
    _assert_exact_articles(db_url)


def test_an_airflow_run_whose_task_failed_outlives_the_retry_delay_and_is_continued(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A task that meets a database restart fails; Airflow retries it minutes later. Meanwhile
    # the next run of the source must not take the run for dead, or every retry is refused.
    from datetime import date

    from news_etl import pipeline, runs

    monkeypatch.setenv("NEWS_ETL_RUN_LEASE_SECONDS", str(LEASE))
    with serve() as replica:
        run_id = pipeline.start_run(db_url, "tengrinews", date.fromisoformat(DAY), kind="airflow",
                                    base_url=replica.base_url)
        with pytest.raises(psycopg2.OperationalError), runs.working(db_url, run_id):
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        time.sleep(LEASE + 0.5)
        pipeline.start_run(db_url, "tengrinews", date(2024, 3, 1), kind="airflow", base_url=replica.base_url)
        assert _query(db_url, "SELECT status FROM ingest_runs WHERE run_id = %s", (run_id,)) == [("running",)]
        # The retries go on where the run stood.
        for batch in pipeline.discover(db_url, run_id):
            pipeline.fetch_and_parse(db_url, run_id, batch)
        pipeline.load(db_url, run_id)
        assert pipeline.check(db_url, run_id)["status"] == "succeeded"
    _assert_exact_articles(db_url)


def test_a_live_run_is_not_abandoned_while_its_heartbeat_renews_the_lease(db_url: str) -> None:
    """A run slower than its lease (a slow page) keeps it: the heartbeat renews it as it works."""
    with serve() as replica:
        replica.slow_seconds = LEASE * 3
        process = _start_run(_env(db_url), replica, "2026-04-28")
        deadline = time.monotonic() + 60
        while not any("596201" in path for _m, path, _t in list(replica.requests)):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        time.sleep(LEASE * 1.5)  # inside the slow page, past one lease
        listed = _news_etl(db_url, "runs")
        assert "abandoned" not in listed.stdout, listed.stdout
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert _last_run(db_url)[1] == "succeeded"


class _Proxy:
    """A TCP proxy on loopback in front of the test PostgreSQL that can be cut and restored:
    an outage as the run sees it (connections dropped, new ones refused)."""

    def __init__(self, host: str, port: int) -> None:
        import socket
        import threading

        self._socket, self._threading = socket, threading
        self.target = (host, port)
        self.port = 0
        self._sockets: list = []
        self._listener = None
        self._cut = False
        self.restore()

    def restore(self) -> None:
        listener = self._socket.socket()
        listener.setsockopt(self._socket.SOL_SOCKET, self._socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._cut = False
        self._threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = self._socket.create_connection(self.target)
            except OSError:
                return
            self._sockets += [client, upstream]
            if self._cut:  # accepted while being cut: it must not outlive the outage
                for sock in (client, upstream):
                    sock.close()
                return
            for a, b in ((client, upstream), (upstream, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):  # shutdown, not only close: the other pipe may be blocked reading it
                with contextlib.suppress(OSError):
                    s.shutdown(_socket.SHUT_RDWR)
                s.close()

    def cut(self) -> None:
        self._cut = True
        self._listener.close()
        for s in self._sockets:
            try:
                s.shutdown(self._socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self._sockets.clear()


def _through(proxy: _Proxy, db_url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(db_url)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{proxy.port}"))


def _tcp_server(db_url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(db_url)
    if not parts.hostname:
        pytest.skip("the outage test needs a TCP PostgreSQL (NEWS_ETL_TEST_DATABASE_URL)")
    return parts.hostname, parts.port or 5432


def test_a_short_database_outage_is_outlasted_and_the_run_is_exact(db_url: str) -> None:
    proxy = _Proxy(*_tcp_server(db_url))
    env = {**_env(_through(proxy, db_url)), "NEWS_ETL_DB_RETRY_SECONDS": "30"}
    with serve() as replica:
        process = _start_run(env, replica)
        _wait_for_article_requests(replica, 2, process)
        proxy.cut()
        time.sleep(3)
        proxy.restore()
        out, err = process.communicate(timeout=120)
    proxy.cut()
    assert process.returncode == 0, err
    assert "trying again" in err  # the outage was met, not missed
    assert _last_run(db_url)[1:] == ("succeeded", None, {"new": len(EXPECTED)})
    _assert_every_run_ended_and_balanced(db_url)
    _assert_exact_articles(db_url)


def test_a_long_database_outage_fails_with_the_real_cause_and_the_run_is_ended_later(db_url: str) -> None:
    proxy = _Proxy(*_tcp_server(db_url))
    env = {**_env(_through(proxy, db_url)), "NEWS_ETL_DB_RETRY_SECONDS": "2"}
    with serve() as replica:
        process = _start_run(env, replica)
        _wait_for_article_requests(replica, 2, process)
        proxy.cut()
        _out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    last_line = err.strip().splitlines()[-1]
    # The real cause, whichever the run met last: the connection it lost or the one it could not open.
    assert last_line.startswith(("news-etl: error: server closed the connection unexpectedly",
                                 "news-etl: error: cannot connect to the news database: connection to")), err
    # It could not say so itself: its lease runs out, and the next look ends it.
    time.sleep(LEASE + 0.5)
    listed = _news_etl(db_url, "runs")
    assert "marked 1 run(s) abandoned" in listed.stdout, listed.stdout
    _assert_every_run_ended_and_balanced(db_url)
