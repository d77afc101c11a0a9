"""Every setting of the library in one place: environment variables and tunables, with their defaults.

Environment variables are read when a function asks for them, never at import,
so a command, a test or an Airflow task that sets one first is obeyed. Files
the project ships beside the library (``sql/``, ``sources.yaml``) are found by
one rule: in the project directory, the checkout that holds ``plugins/news_etl``
(an editable install, ``PYTHONPATH=plugins``, the compose mount of
``/opt/news_etl``), unless a variable names them elsewhere.

The test suite's own server, ``NEWS_ETL_TEST_DATABASE_URL``, is read by
``tests/conftest.py``, not by the library.

This module imports nothing heavy: the DAG file reads it at parse time.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

# --- environment ---------------------------------------------------------------------------------

# plugins/news_etl/settings.py -> the checkout (or the deployment directory) two levels up.
PROJECT_DIR = Path(__file__).resolve().parents[2]


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def database_url() -> str | None:
    """``NEWS_ETL_DATABASE_URL``: the news PostgreSQL; unset, ``db`` starts an embedded one."""
    return _env("NEWS_ETL_DATABASE_URL")


def sql_dir() -> Path:
    """``NEWS_ETL_SQL_DIR``, else ``sql/`` of the project: migrations and reporting queries."""
    return Path(_env("NEWS_ETL_SQL_DIR") or PROJECT_DIR / "sql")


def sources_file() -> Path:
    """``NEWS_ETL_SOURCES_FILE``, else ``sources.yaml`` of the project: the sites to ingest."""
    return Path(_env("NEWS_ETL_SOURCES_FILE") or PROJECT_DIR / "sources.yaml")


def data_dir() -> Path:
    """``NEWS_ETL_DATA_DIR``, else ``.data/`` of the project: the embedded PostgreSQL's files (and
    the development tools' local Airflow and demo output); never needed with a configured server."""
    return Path(_env("NEWS_ETL_DATA_DIR") or PROJECT_DIR / ".data")


def asset_database() -> str:
    """``NEWS_ETL_ASSET_DATABASE`` (``host:port/database``, default ``news-db:5432/news``, compose's news
    database): where the articles asset says the table is, as lineage tools will look it up."""
    return _env("NEWS_ETL_ASSET_DATABASE") or "news-db:5432/news"


def reader_password() -> str | None:
    """``NEWS_ETL_READER_PASSWORD``: the password ``news-etl db grant-reader`` gives (else it asks)."""
    return os.environ.get("NEWS_ETL_READER_PASSWORD") or None


def notify_webhook_url() -> str | None:
    """``NEWS_ETL_NOTIFY_WEBHOOK_URL``: a failed DAG run is POSTed there as JSON (unset: no webhook)."""
    return _env("NEWS_ETL_NOTIFY_WEBHOOK_URL")


def notify_email() -> list[str]:
    """``NEWS_ETL_NOTIFY_EMAIL``: comma-separated addresses mailed about a failed DAG run (unset: none),
    through the Airflow SMTP connection ``NEWS_ETL_NOTIFY_SMTP_CONN_ID`` (default ``smtp_default``)."""
    return [a.strip() for a in (_env("NEWS_ETL_NOTIFY_EMAIL") or "").split(",") if a.strip()]


def notify_smtp_conn_id() -> str:
    return _env("NEWS_ETL_NOTIFY_SMTP_CONN_ID") or "smtp_default"


def run_lease_seconds() -> float:
    """``NEWS_ETL_RUN_LEASE_SECONDS`` (default 120): a running run whose process has not renewed its
    lease for this long is taken as dead (kill -9, lost machine) and marked abandoned. The
    heartbeat renews it four times per lease, so a busy but live process never loses it."""
    return float(_env("NEWS_ETL_RUN_LEASE_SECONDS") or 120)


def db_retry_seconds() -> float:
    """``NEWS_ETL_DB_RETRY_SECONDS`` (default 60): how long a run keeps trying to reach a database
    that has gone away (restart, failover) before it gives up with the real error."""
    return float(_env("NEWS_ETL_DB_RETRY_SECONDS") or 60)


def run_budget_seconds() -> float:
    """``NEWS_ETL_RUN_BUDGET_SECONDS`` (default ``RUN_BUDGET``): a run's whole time, from its start.
    Once spent, its URLs not yet fetched are ``failed`` (reason ``budget``) and the run fails saying
    so; ``news-etl run --budget`` sets it for one run."""
    return float(_env("NEWS_ETL_RUN_BUDGET_SECONDS") or RUN_BUDGET.total_seconds())


# --- database ---------------------------------------------------------------------------------------

# Waits for a lock end with an error instead of holding a run forever (a session that holds a
# lock for minutes is a fault to report). Longer than any load batch of a concurrent run.
LOCK_TIMEOUT = "2min"
# Migrating waits less: it should run alone, and a reader holding a lock must not stall it unseen.
MIGRATION_LOCK_TIMEOUT = "15s"
# Reconnecting after an outage: first wait, doubling up to the last.
DB_RETRY_FIRST_WAIT = 0.5
DB_RETRY_MAX_WAIT = 8.0

# --- input limits ------------------------------------------------------------------------------------

# Anything larger is refused with its reason, before it is read into memory: no real input comes
# near these, and without a cap one hostile file costs the whole process's memory.
MAX_SEED_FILE_BYTES = 2 * 1024 * 1024          # one article as a seed file
MAX_EXTRACT_INPUT_BYTES = 16 * 1024 * 1024     # a saved page for `extract`, after gunzip
MAX_SOURCES_FILE_BYTES = 1024 * 1024           # sources.yaml
MAX_REPORT_DAYS = 3660                         # `report --days`: ten years
MAX_MIN_ARTICLES_PER_DAY = 100_000             # `run --min-articles`

# --- sources ---------------------------------------------------------------------------------------

# Requests per second per host when a source does not say: polite to a news site's servers.
DEFAULT_RATE_LIMIT_PER_SECOND = 1.0

# --- discovery (discover/) --------------------------------------------------------------------------

# Listing pages read per day, and sitemap files (indexes included) per discovery: a day never has
# this many; the bounds stop a pagination or a sitemap index that never ends.
MAX_LISTING_PAGES = 200
MAX_SITEMAPS = 50

# --- fetching (fetch.py) ---------------------------------------------------------------------------

# Seconds to open a connection, and between two reads of a response: a live server answers in
# well under these; a dead one must not hold a fetch slot.
FETCH_CONNECT_TIMEOUT = 5.0
FETCH_READ_TIMEOUT = 20.0
# Seconds for a whole fetch (connect, every read, redirects, retries and their waits): a server
# trickling bytes cannot hold a run longer than this per URL.
FETCH_TOTAL_TIMEOUT = 60.0
# Largest body read (after decompression): news pages are well under a megabyte; this stops
# gzip bombs and endless responses.
FETCH_MAX_BYTES = 5 * 1024 * 1024
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five
# Retries of a failed request (5xx, 429, 408, connection errors) with exponential backoff
# (factor, ceiling and jitter in seconds); a Retry-After longer than RETRY_AFTER_MAX gives up.
FETCH_MAX_RETRIES = 3
FETCH_BACKOFF_FACTOR = 0.5
FETCH_BACKOFF_MAX = 30.0
FETCH_BACKOFF_JITTER = 0.5
FETCH_RETRY_AFTER_MAX = 60
FETCH_MAX_REDIRECTS = 5

# --- pipeline --------------------------------------------------------------------------------------

# Article URLs per fetch_and_parse task: small enough that a retry repeats little work, large
# enough that Airflow's per-task start-up cost stays small beside the fetching.
URLS_PER_FETCH_TASK = 50
# Articles per load transaction: each batch pays a few round trips and a commit, so larger batches
# share them among more articles, while the memory held and the work lost on a rollback grow
# with the batch (bench/load_bench.py measures the loader at this size). The batch is the largest
# thing a run holds: at this size a 10,000-article run peaks within 15% of a 150-article one
# (tests/db/test_memory.py).
LOAD_BATCH_SIZE = 1000

# --- scheduling (dags/news_ingest.py) -----------------------------------------------------------

# Daily runs start 30 minutes after local midnight: late articles of the day that has just
# ended have reached the day archive by then.
DAILY_CRON = "30 0 * * *"
# Concurrent fetch tasks per source host, across all runs and workers (an Airflow pool per host).
# The host's rate is held by its row in host_schedule, shared by every task (news_etl.politeness):
# more slots overlap parsing and loading with the waits, never add requests per second.
FETCH_POOL_SLOTS = 2
# Fetch tasks of one run in flight at once (the host's pool caps them further, across runs).
FETCH_TASKS_PER_RUN = 4
# Runs of one source at a time (backfills included), and their tasks in flight.
MAX_ACTIVE_RUNS = 3
MAX_ACTIVE_TASKS = 8
# Retries of a failed task, with exponential backoff: a site that is briefly down or slow
# is tried again minutes later rather than failing the day.
TASK_RETRIES = 3
RETRY_DELAY = timedelta(minutes=1)
RETRY_BACKOFF = 2.0
MAX_RETRY_DELAY = timedelta(minutes=30)
# A task that runs longer is stuck (a day is a few hundred pages at about 1 request/s).
TASK_TIMEOUT = timedelta(hours=2)
# A run that has not finished by then will not: Airflow marks it failed so it shows.
RUN_TIMEOUT = timedelta(hours=12)
# A run's own time budget (run_budget_seconds): below RUN_TIMEOUT, so the run ends itself, with the
# URLs it could not reach recorded, before Airflow gives up on it.
RUN_BUDGET = timedelta(hours=6)
