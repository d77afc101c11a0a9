"""Integrity of the DAG folder, the scheduling rules and the docker compose deployment.

Parses dags/ with Airflow's own DagBag (no metadata database, no scheduler) and
checks what the scheduler and the operators rely on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest
import yaml
from news_etl import schedule
from news_etl.sources import load_sources

from devtools import airflow_local as al

# Airflow reads its configuration on first import: point it at a scratch home first.
al.configure_process(home=Path(tempfile.gettempdir()) / f"news-etl-airflow-{os.getpid()}")

REPO = al.REPO_ROOT
ALMATY = "Asia/Almaty"
EXPECTED_DAG_IDS = {"tengrinews_ingest", "steppeinfo_ingest", "caspianwire_ingest", "news_reporting"}
INGEST_TASKS = {"start_run", "discover", "fetch_and_parse", "load", "check", "publish"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(al.DAGS_DIR))


def test_dag_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAG found"


def test_dag_ids_are_stable(dagbag):
    # One ingestion DAG per configured source, named <key>_ingest, plus the reporting DAG.
    expected = {f"{key}_ingest" for key in load_sources()} | {"news_reporting"}
    assert set(dagbag.dag_ids) == expected
    assert expected >= EXPECTED_DAG_IDS


def test_every_task_retries_with_exponential_backoff(dagbag):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            assert t.retries >= 2, f"{dag.dag_id}.{t.task_id} retries={t.retries}"
            assert t.retry_exponential_backoff and t.retry_exponential_backoff > 1, t.task_id
            assert t.max_retry_delay is not None, t.task_id
            assert t.owner == "news-etl", t.task_id


def test_every_dag_has_tags_owner_and_documentation(dagbag):
    for dag in dagbag.dags.values():
        assert "news-etl" in dag.tags, dag.dag_id
        assert dag.owner == "news-etl"
        assert dag.doc_md and len(dag.doc_md) > 200, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        assert 1 <= dag.max_active_runs <= 5, dag.dag_id


def test_ingest_dag_shape(dagbag):
    for key, source in load_sources().items():
        dag = dagbag.dags[f"{key}_ingest"]
        assert {t.task_id for t in dag.tasks} == INGEST_TASKS
        assert "backfill" in dag.doc_md.lower()
        # The chain the issue asks for.
        order = ["start_run", "discover", "fetch_and_parse", "load", "check", "publish"]
        for upstream, downstream in zip(order, order[1:], strict=False):
            assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
        fetch = dag.get_task("fetch_and_parse")
        # Mapped over URL batches, in the pool of the source's host.
        assert fetch.is_mapped
        assert fetch.pool == schedule.fetch_pool(source.host) == "fetch_" + source.host.replace(".", "_")
        # A day with no URL maps zero batches; load and check must still run.
        assert dag.get_task("load").trigger_rule == "none_failed"
        # The asset that schedules the reporting DAG.
        outlets = dag.get_task("publish").outlets
        assert [o.name for o in outlets] == [schedule.ARTICLES_ASSET_NAME]
        assert dag.tags and key in dag.tags


def test_ingest_schedule_is_daily_after_local_midnight(dagbag):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    core = coerce_to_core_timetable(dagbag.dags["tengrinews_ingest"].timetable)
    assert core.summary == "30 0 * * *"
    assert core._timezone.name == ALMATY
    # The interval of the run the scheduler starts at 00:30 local is the local day that just ended.
    start = datetime(2024, 2, 28, 18, 30, tzinfo=UTC)  # 2024-02-29 00:30, Almaty was UTC+6
    info = core.next_dagrun_info(
        last_automated_data_interval=DataInterval(start - timedelta(days=1), start),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True))
    local_start = info.data_interval.start.astimezone(ZoneInfo(ALMATY))
    local_end = info.data_interval.end.astimezone(ZoneInfo(ALMATY))
    # One local day, even across Kazakhstan's switch from UTC+6 to UTC+5 on 2024-03-01.
    assert local_start.date() == date(2024, 2, 29)
    assert local_end.date() - local_start.date() == timedelta(days=1)
    assert info.data_interval.end - info.data_interval.start == timedelta(hours=25)
    assert (local_start.hour, local_start.minute) == (0, 30)
    # The run becomes due at the end of its interval: 00:30 the next local day.
    assert info.run_after == info.data_interval.end
    assert schedule.interval_day(info.data_interval.start, ALMATY) == local_start.date()


def test_manual_runs_take_the_last_complete_local_day(dagbag):
    from airflow.serialization.encoders import coerce_to_core_timetable

    core = coerce_to_core_timetable(dagbag.dags["tengrinews_ingest"].timetable)
    day = date(2026, 4, 27)
    interval = core.infer_manual_data_interval(run_after=schedule.manual_logical_date(day, ALMATY))
    assert schedule.interval_day(interval.start, ALMATY) == day
    # Triggered at 10:00 local on the 28th: the 27th, never the unfinished 28th.
    at_ten = datetime(2026, 4, 28, 10, 0, tzinfo=ZoneInfo(ALMATY))
    interval = core.infer_manual_data_interval(run_after=at_ten)
    assert schedule.interval_day(interval.start, ALMATY) == day


def test_backfill_bounds_cover_exactly_the_days(dagbag):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    core = coerce_to_core_timetable(dagbag.dags["tengrinews_ingest"].timetable)
    first, last = date(2026, 4, 26), date(2026, 4, 28)
    lo, hi = schedule.backfill_bounds(first, last, ALMATY)
    infos, info = [], None
    restriction = TimeRestriction(earliest=lo, latest=hi, catchup=True)
    while (info := core.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)):
        infos.append(info)
    days = [schedule.interval_day(i.data_interval.start, ALMATY) for i in infos]
    assert days == [date(2026, 4, 26), date(2026, 4, 27), date(2026, 4, 28)]


def test_run_window_rules():
    after = datetime(2026, 4, 28, 3, 0, tzinfo=UTC)  # 08:00 in Almaty
    assert schedule.run_window(ALMATY, run_after=after) == (date(2026, 4, 27), date(2026, 4, 27))
    # The data interval wins over run_after; its start is converted to the local date.
    start = datetime(2026, 4, 26, 19, 30, tzinfo=UTC)  # 2026-04-27 00:30+05:00
    assert schedule.run_window(ALMATY, data_interval_start=start, run_after=after) == (date(2026, 4, 27),) * 2
    # Explicit dates (the trigger form) win over both.
    assert schedule.run_window(ALMATY, date_from="2026-04-20", date_to="2026-04-22",
                         data_interval_start=start) == (date(2026, 4, 20), date(2026, 4, 22))
    assert schedule.run_window(ALMATY, date_from="2026-04-20") == (date(2026, 4, 20),) * 2
    with pytest.raises(ValueError, match="before"):
        schedule.run_window(ALMATY, date_from="2026-04-22", date_to="2026-04-20")
    with pytest.raises(ValueError):
        schedule.run_window(ALMATY, date_to="2026-04-22")
    with pytest.raises(ValueError):
        schedule.interval_day(datetime(2026, 4, 27), ALMATY)


def test_trigger_form_params_validate(dagbag):
    import copy

    from airflow.sdk.exceptions import ParamValidationError

    def resolve(conf: dict) -> dict:
        params = copy.deepcopy(dagbag.dags["tengrinews_ingest"].params)
        params.update(conf)  # what a trigger with this conf does
        return params.validate()

    assert {"date_from", "date_to", "reparse", "dry_run", "base_url", "min_articles"} <= set(
        dagbag.dags["tengrinews_ingest"].params)
    resolved = resolve({"date_from": "2026-04-27", "reparse": True, "base_url": "http://127.0.0.1:8765"})
    assert resolved["date_from"] == "2026-04-27" and resolved["reparse"] is True
    assert resolved["dry_run"] is False and resolved["date_to"] is None
    for bad in ({"date_from": "27.04.2026"}, {"reparse": "yes"}, {"base_url": "ftp://x"},
                {"min_articles": -1}):
        with pytest.raises(ParamValidationError):
            resolve(bad)


_IMPORT_PROBE = r"""
import json, socket, sys, time
import airflow.sdk  # Airflow's own import cost is not the DAG file's
import psycopg2
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args)[:200])
    raise OSError("network access at DAG import time")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
psycopg2.connect = refuse
before = set(sys.modules)
import runpy
started = time.perf_counter()
runpy.run_path(sys.argv[1])
elapsed = time.perf_counter() - started
print(json.dumps({"new": sorted(set(sys.modules) - before), "attempts": attempts, "seconds": elapsed}))
"""

HEAVY = ("news_etl.pipeline", "news_etl.fetch", "news_etl.parse", "news_etl.load", "news_etl.db",
         "news_etl.report", "psycopg2", "requests", "bs4", "lxml", "trafilatura", "dateparser",
         "datasketch", "pgserver", "airflow.providers.postgres.hooks", "matplotlib")


def test_dag_file_top_level_is_light_and_offline():
    """Parsing the DAG file opens no connection and imports nothing heavy."""
    env = al.airflow_env("", home=Path(os.environ["AIRFLOW_HOME"]))
    env.pop("AIRFLOW_CONN_NEWS_DB", None)
    for dag_file in sorted(al.DAGS_DIR.glob("*.py")):
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, str(dag_file)], env=env, text=True,
                             capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert report["attempts"] == [], report["attempts"]
        loaded = [m for m in report["new"] if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}
                  and any(m == h or m.startswith(h + ".") for h in HEAVY)]
        assert loaded == [], f"{dag_file.name} imports {loaded} at parse time"


# --- docker compose -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


AIRFLOW_SERVICES = {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                    "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer"}


def test_compose_services_and_images(compose):
    services = compose["services"]
    assert set(AIRFLOW_SERVICES) | {"airflow-metadata-db", "news-db", "airflow-init"} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        service = services[name]
        assert service["command"] == command
        assert "FROM apache/airflow:3.3." in service["build"]["dockerfile_inline"]
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert services["news-db"]["image"] == "postgres:16"
    assert services["airflow-metadata-db"]["image"].startswith("postgres:")
    # Airflow's metadata lives in its own PostgreSQL, not in the news database.
    metadata_url = services["airflow-scheduler"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@airflow-metadata-db:" in metadata_url and "news-db" not in metadata_url
    # Published ports stay on loopback.
    for service in services.values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_compose_mounts_project_directories(compose):
    for name in AIRFLOW_SERVICES:
        volumes = compose["services"][name]["volumes"]
        mounts = {v.split(":")[0]: v.split(":")[1] for v in volumes}
        assert {"./dags", "./plugins", "./sql", "./sources.yaml"} <= set(mounts)
        env = compose["services"][name]["environment"]
        assert mounts["./dags"] == env["AIRFLOW__CORE__DAGS_FOLDER"]
        assert mounts["./plugins"] in env["PYTHONPATH"].split(":")
        # The library finds sql/ and sources.yaml beside plugins/ (news_etl.settings): mounted so.
        project = PurePosixPath(mounts["./plugins"]).parent
        assert PurePosixPath(mounts["./sql"]) == project / "sql"
        assert PurePosixPath(mounts["./sources.yaml"]) == project / "sources.yaml"
        assert not {"NEWS_ETL_SQL_DIR", "NEWS_ETL_SOURCES_FILE"} & set(env)


def test_compose_news_db_connection_and_secrets(compose):
    services = compose["services"]
    news_env = services["news-db"]["environment"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        conn = env["AIRFLOW_CONN_NEWS_DB"]
        assert conn.startswith("postgresql://")
        assert f"{news_env['POSTGRES_USER']}:" in conn
        assert conn.endswith(f"@news-db:5432/{news_env['POSTGRES_DB']}")
    # Secrets come from .env: interpolated, never written in the file.
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    declared = {line.split("=", 1)[0] for line in example.splitlines()
                if "=" in line and not line.startswith("#")}
    for secret in ("AIRFLOW_DB_PASSWORD", "NEWS_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
                   "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD"):
        assert "${" + secret + ":?" in text, secret
        assert secret in declared, secret
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO).returncode == 0
    assert ignored, ".env must be ignored by git"
    # The init step creates the same pools the DAGs use.
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "pools import" in init and "news_etl db migrate" in init
