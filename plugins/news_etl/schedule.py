"""The scheduling rules the DAGs share: which local days a run ingests, pools, the asset.

Pure functions and names, no Airflow import: the DAG file reads this module at
parse time, and the rules are tested without a scheduler. The cron line and the
pool size are tunables and live in :mod:`news_etl.settings`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from news_etl import settings

# The connection id the DAG tasks read the news database from.
NEWS_DB_CONN_ID = "news_db"
# The names of the pools and of the asset are part of the deployment's interface.
ARTICLES_ASSET_NAME = "news_etl_articles"


def articles_asset_uri() -> str:
    """The articles table as an asset URI in the form providers-postgres knows:
    ``postgres://host:port/database/public/articles``, the news database as
    ``NEWS_ETL_ASSET_DATABASE`` names it (default: compose's ``news-db:5432/news``).

    A setting of its own, not the connection: the DAG file is parsed by several
    processes, which must all give the asset the same URI, and parsing opens no connection.
    """
    return f"postgres://{settings.asset_database()}/public/articles"

def fetch_pool(host: str) -> str:
    """The Airflow pool that caps concurrent fetch tasks against ``host``."""
    return "fetch_" + "".join(c if c.isalnum() else "_" for c in host.lower())


def interval_day(data_interval_start: datetime, tz: str) -> date:
    """The local day a scheduled run processes: the local date its interval starts on."""
    if data_interval_start.tzinfo is None:
        raise ValueError("data_interval_start must be timezone-aware")
    return data_interval_start.astimezone(ZoneInfo(tz)).date()


def run_window(tz: str, *, date_from: str | date | None = None, date_to: str | date | None = None,
               data_interval_start: datetime | None = None,
               run_after: datetime | None = None) -> tuple[date, date]:
    """The local days a DAG run ingests, inclusive.

    Explicit ``date_from``/``date_to`` (the trigger form) win; else the run's
    data interval; a manual run without a logical date has no interval and
    takes the last local day completed before it was triggered -- never "now".
    """
    if date_from:
        first = date.fromisoformat(str(date_from))
        last = date.fromisoformat(str(date_to)) if date_to else first
    elif date_to:
        raise ValueError("date_to given without date_from")
    elif data_interval_start is not None:
        first = last = interval_day(data_interval_start, tz)
    elif run_after is not None:
        first = last = run_after.astimezone(ZoneInfo(tz)).date() - timedelta(days=1)
    else:
        raise ValueError("a run needs date_from, a data interval or run_after")
    if last < first:
        raise ValueError(f"date_to ({last}) is before date_from ({first})")
    return first, last


def scheduled_logical_date(day: date, tz: str) -> datetime:
    """The logical date (= data interval start) of the scheduled run that ingests ``day``."""
    minute, hour = settings.DAILY_CRON.split()[:2]
    return datetime.combine(day, dtime(int(hour), int(minute)), ZoneInfo(tz))


def manual_logical_date(day: date, tz: str) -> datetime:
    """A logical date for ``airflow dags test`` / a manual run whose inferred interval is ``day``.

    Airflow infers a manual run's interval as the last complete one before the
    logical date, so this is the moment the scheduled run of ``day`` would start.
    """
    return scheduled_logical_date(day + timedelta(days=1), tz)


def backfill_bounds(day_from: date, day_to: date, tz: str) -> tuple[datetime, datetime]:
    """``--from-date``/``--to-date`` that make ``airflow backfill create`` cover exactly these days."""
    zone = ZoneInfo(tz)
    return (datetime.combine(day_from, dtime(0, 0), zone),
            datetime.combine(day_to, dtime(23, 59, 59), zone))


def pools(sources: Iterable | None = None) -> dict[str, int]:
    """The fetch pool of every configured source host, with its slots."""
    if sources is None:
        from news_etl.sources import load_sources

        sources = load_sources().values()
    return {fetch_pool(s.host): settings.FETCH_POOL_SLOTS for s in sources}


def pools_json() -> str:
    """The fetch pools as a file for ``airflow pools import`` (the deployment's init step uses it)."""
    return json.dumps({name: {"slots": slots, "description": "news-etl fetch tasks per source host",
                              "include_deferred": False}
                       for name, slots in pools().items()}, indent=2)
