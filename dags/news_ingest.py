"""Airflow DAGs of news-etl: one ``<source>_ingest`` per configured source, and ``news_reporting``.

The DAGs are thin: every task calls one function of ``news_etl.pipeline`` (the
same functions ``news-etl run`` calls) with the news database URL and a run id.
Only the source list (a small YAML file) and the scheduling rules are read at
parse time; the pipeline, the Postgres hook and any database or network access
are imported or opened inside the tasks.
"""

from __future__ import annotations

from airflow.sdk import Asset, BaseNotifier, CronDataIntervalTimetable, Param, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from news_etl import schedule, settings
from news_etl.sources import Source, load_sources

OWNER = "news-etl"
ARTICLES = Asset(name=schedule.ARTICLES_ASSET_NAME, uri=schedule.articles_asset_uri(), group="news-etl")

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": settings.TASK_RETRIES,
    "retry_delay": settings.RETRY_DELAY,
    "retry_exponential_backoff": settings.RETRY_BACKOFF,
    "max_retry_delay": settings.MAX_RETRY_DELAY,
    "execution_timeout": settings.TASK_TIMEOUT,
}


def news_db_url() -> str:
    """The news database: the Airflow connection ``news_db``, else ``NEWS_ETL_DATABASE_URL``.

    Called inside tasks only (a connection lookup at parse time would hit the
    metadata database on every parse).
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        hook = PostgresHook(postgres_conn_id=schedule.NEWS_DB_CONN_ID)
        conn = hook.connection
    except AirflowNotFoundException:
        from news_etl import db

        return db.database_url()
    return _libpq_url(conn, ignored=hook.ignored_extra_options)


def _libpq_url(conn, *, ignored=frozenset()) -> str:
    """A libpq URL from an Airflow connection; libpq extras (socket host, sslmode...) kept."""
    from urllib.parse import quote, urlencode

    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    netloc = auth + (conn.host or "") + (f":{conn.port}" if conn.port else "")
    extras = {k: v for k, v in conn.extra_dejson.items() if k not in ignored}
    query = f"?{urlencode(extras)}" if extras else ""
    return f"postgresql://{netloc}/{quote(conn.schema or '', safe='')}{query}"


def _mark_run_failed(context) -> None:
    """A task failed for good: record it on the ingest run so it is not left 'running'."""
    from news_etl import db, ledger

    run_id = context["ti"].xcom_pull(task_ids="start_run")
    if run_id is None:
        return
    with db.connection(news_db_url()) as conn:
        ledger.fail_run(conn, int(run_id), f"{context['ti'].task_id}: {context.get('exception')}")
        conn.commit()


class RunFailureNotifier(BaseNotifier):
    """A failed DAG run, told to the team: a JSON POST to ``NEWS_ETL_NOTIFY_WEBHOOK_URL`` and/or a
    mail to ``NEWS_ETL_NOTIFY_EMAIL`` through the SMTP provider (see news_etl.settings)."""

    def render_template_fields(self, context, jinja_env=None) -> None:
        """Nothing is templated here (and a callback's context may hold a serialized DAG, which cannot
        give a template environment)."""

    def notify(self, context) -> None:
        from news_etl import settings

        dag_run = context.get("dag_run")
        # The callback's context is that of the task instance whose failure ended the run.
        failed = [context["ti"].task_id] if getattr(context.get("ti"), "task_id", None) else []
        event = {
            "event": "dag_run_failed",
            "dag_id": getattr(context.get("dag"), "dag_id", None) or getattr(dag_run, "dag_id", None),
            "run_id": context.get("run_id") or getattr(dag_run, "run_id", None),
            "logical_date": str(getattr(dag_run, "logical_date", None) or ""),
            "reason": context.get("reason"),
            "failed_tasks": failed,
        }
        text = (f"news-etl: {event['dag_id']} run {event['run_id']} failed ({event['reason']}); "
                f"failed tasks: {', '.join(failed) or 'unknown'}. See `news-etl report` or the Airflow UI.")
        url = settings.notify_webhook_url()
        if url:
            import requests

            requests.post(url, json={**event, "text": text}, timeout=10).raise_for_status()
        emails = settings.notify_email()
        if emails:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            SmtpNotifier(to=emails, smtp_conn_id=settings.notify_smtp_conn_id(),
                         subject=f"news-etl: {event['dag_id']} failed", html_content=text).notify(context)


def _failure_notifiers() -> list[BaseNotifier] | None:
    """The DAG-level failure callback, when the environment configures a notification (off by default)."""
    if settings.notify_webhook_url() or settings.notify_email():
        return [RunFailureNotifier()]
    return None


def _small(summary) -> dict:
    """The JSON-safe, small part of a run summary (what goes to XCom)."""
    import json

    data = summary if isinstance(summary, dict) else getattr(summary, "__dict__", {"summary": str(summary)})
    return json.loads(json.dumps(data, default=str))


# The form's text for date_from/date_to: a backfill passes its form to every run it creates.
_OVERRIDE = ("{}. When set, EVERY run of this trigger or backfill ingests these days instead of its "
             "own data interval: leave both empty in a backfill, and whenever a run's own day is wanted.")


def _doc(source: Source) -> str:
    pool = schedule.fetch_pool(source.host)
    return f"""
### Ingest {source.name} ({source.base_url})

Every day at 00:30 {source.timezone} this DAG ingests the local day that has just ended:
`start_run` records an ingest run for the day (the Almaty date of the run's data interval
start), `discover` finds the day's article URLs, `fetch_and_parse` fetches and parses them
in mapped batches of {settings.URLS_PER_FETCH_TASK} URLs (pool `{pool}` caps concurrent fetches
against {source.host}), `load` deduplicates and merges the staged articles into `articles`, `check`
verifies the ledger identity (every discovered URL has exactly one outcome) and fails the
run when fewer than `min_articles` articles a day were seen, and `publish` emits the
`{schedule.ARTICLES_ASSET_NAME}` asset, which triggers `news_reporting`.
Pages are kept in the raw pages table; only run ids, URL batches and counts go through XCom.

**Backfill** (each run is a pure function of its interval; one run per local day whose
00:30 start falls in the range): choose the time zone {source.timezone} in the UI's user menu
(the forms read dates in it), then *Trigger* → *Backfill*, From = first day, To = last day,
times left empty, `date_from`/`date_to` left empty (set, they would give every run the same
days). Or, where `default_timezone` is {source.timezone} (docker compose):

    airflow backfill create --dag-id {source.key}_ingest --from-date 2026-11-01 --to-date 2026-11-03T23:59

**Manual run**: *Trigger* with the form: `date_from`/`date_to` (local days, override the
interval), `reparse` (parse the stored raw pages again, no requests), `dry_run` (write
nothing, record what would change), `base_url` (fetch from a mirror of the site; stored URLs
stay canonical; credentials in it go to the mirror only and are stored as `***` in the news database,
though Airflow keeps the run's form as typed), `budget_seconds`
(the run's time budget), `min_articles`.
"""


def make_ingest_dag(source: Source):
    """The daily ingestion DAG of ``source``."""
    pool = schedule.fetch_pool(source.host)

    @dag(
        dag_id=f"{source.key}_ingest",
        description=f"Daily ingestion of {source.name} into the articles table",
        schedule=CronDataIntervalTimetable(settings.DAILY_CRON, timezone=source.timezone),
        start_date=None,
        catchup=False,
        max_active_runs=settings.MAX_ACTIVE_RUNS,
        max_active_tasks=settings.MAX_ACTIVE_TASKS,
        dagrun_timeout=settings.RUN_TIMEOUT,
        default_args=DEFAULT_ARGS,
        on_failure_callback=_failure_notifiers(),
        tags=["news-etl", "ingest", source.key],
        doc_md=_doc(source),
        params={
            "date_from": Param(None, type=["null", "string"], format="date", title="From (local day)",
                               description=_OVERRIDE.format("First local day to ingest")),
            "date_to": Param(None, type=["null", "string"], format="date", title="To (local day)",
                             description=_OVERRIDE.format("Last local day, inclusive (empty: date_from)")),
            "reparse": Param(False, type="boolean", title="Re-parse stored pages",
                             description="Parse the raw pages already stored; make no request."),
            "dry_run": Param(False, type="boolean", title="Dry run",
                             description="Write no articles; record what would change."),
            "base_url": Param(None, type=["null", "string"], pattern=r"^https?://\S+$",
                              title="Mirror base URL",
                              description="Send requests to this mirror of the site (stored URLs "
                                          "stay canonical)."),
            "budget_seconds": Param(None, type=["null", "integer"], minimum=1,
                                    maximum=int(settings.RUN_TIMEOUT.total_seconds()),
                                    title="Time budget (seconds)",
                                    description="The run's whole time; URLs not fetched by then fail with "
                                                "reason 'budget' (empty: NEWS_ETL_RUN_BUDGET_SECONDS, "
                                                f"else {int(settings.RUN_BUDGET.total_seconds())})."),
            "min_articles": Param(source.min_articles_per_day, type="integer", minimum=0,
                                  title="Minimum articles per day",
                                  description="Fail the run below this many articles a day (default: "
                                              "min_articles_per_day of the source in sources.yaml)."),
        },
    )
    def ingest():
        @task
        def start_run(params=None, data_interval_start=None, dag_run=None, logical_date=None) -> int:
            from news_etl import pipeline

            first, last = schedule.run_window(
                source.timezone, date_from=params.get("date_from"), date_to=params.get("date_to"),
                data_interval_start=data_interval_start,
                run_after=getattr(dag_run, "run_after", None))
            return pipeline.start_run(
                news_db_url(), source.key, first, last, kind="airflow",
                base_url=params.get("base_url") or None, reparse=bool(params.get("reparse")),
                dry_run=bool(params.get("dry_run")), budget_seconds=params.get("budget_seconds"),
                airflow={"dag_id": getattr(dag_run, "dag_id", None) or f"{source.key}_ingest",
                         "run_id": getattr(dag_run, "run_id", None), "logical_date": logical_date})

        @task(on_failure_callback=_mark_run_failed)
        def discover(ingest_run: int, params=None) -> list[list[str]]:
            from news_etl import pipeline

            return pipeline.discover(news_db_url(), ingest_run, mirror_url=params.get("base_url") or None)

        @task(pool=pool, on_failure_callback=_mark_run_failed,
              max_active_tis_per_dagrun=settings.FETCH_TASKS_PER_RUN)
        def fetch_and_parse(urls: list[str], ingest_run: int, params=None) -> dict[str, int]:
            from news_etl import pipeline

            return pipeline.fetch_and_parse(news_db_url(), ingest_run, urls,
                                            mirror_url=params.get("base_url") or None)

        # none_failed: a day with no URL maps zero batches (skipped) and must still be checked.
        @task(trigger_rule="none_failed", on_failure_callback=_mark_run_failed)
        def load(ingest_run: int) -> dict[str, int]:
            from news_etl import pipeline

            return pipeline.load(news_db_url(), ingest_run)

        @task(on_failure_callback=_mark_run_failed)
        def check(ingest_run: int, params=None) -> dict:
            from news_etl import pipeline

            try:
                floor = params.get("min_articles")
                summary = pipeline.check(news_db_url(), ingest_run,
                                         min_articles=None if floor is None else int(floor))
            except pipeline.CheckFailed as exc:
                # Retrying cannot add articles: fail at once, loudly.
                raise AirflowFailException(str(exc)) from exc
            return _small(summary)

        @task(outlets=[ARTICLES])
        def publish(summary: dict, params=None, outlet_events=None) -> None:
            if params.get("dry_run"):
                raise AirflowSkipException("dry run: the articles table did not change")
            outlet_events[ARTICLES].extra = {
                "source": source.key,
                "run_id": summary.get("run_id"),
                "outcomes": summary.get("outcome_counts", {}),
            }

        run_id = start_run()
        batches = discover(run_id)
        fetched = fetch_and_parse.partial(ingest_run=run_id).expand(urls=batches)
        loaded = load(run_id)
        checked = check(run_id)
        fetched >> loaded >> checked
        publish(checked)

    return ingest()


@dag(
    dag_id="news_reporting",
    description="Refresh the reporting materialized views after new articles land",
    schedule=[ARTICLES],
    start_date=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=_failure_notifiers(),
    tags=["news-etl", "reporting"],
    doc_md=f"""
### Refresh the reporting views

Runs whenever an ingestion DAG emits the `{schedule.ARTICLES_ASSET_NAME}` asset (new or changed
articles) and refreshes the materialized views defined in `sql/reporting/` with
`REFRESH MATERIALIZED VIEW CONCURRENTLY`, so readers are never blocked. Trigger it by hand
to refresh at any time; it has no parameters.
""",
)
def news_reporting():
    @task
    def refresh_views() -> dict:
        from news_etl import db, report

        with db.connection(news_db_url()) as conn:
            result = report.refresh_views(conn)
            conn.commit()
        return _small(result if isinstance(result, dict) else {"views": result})

    refresh_views()


for _source in load_sources().values():
    globals()[f"{_source.key}_ingest"] = make_ingest_dag(_source)
news_reporting()
