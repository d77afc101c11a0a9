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

    assert {"date_from", "date_to", "reparse", "dry_run", "base_url", "budget_seconds",
            "min_articles"} <= set(
        dagbag.dags["tengrinews_ingest"].params)
    resolved = resolve({"date_from": "2026-04-27", "reparse": True, "base_url": "http://127.0.0.1:8765"})
    assert resolved["date_from"] == "2026-04-27" and resolved["reparse"] is True
    assert resolved["dry_run"] is False and resolved["date_to"] is None
    for bad in ({"date_from": "27.04.2026"}, {"reparse": "yes"}, {"base_url": "ftp://x"},
                {"min_articles": -1}, {"budget_seconds": 0}):
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
        assert service["command"] == command or service["command"][-1].endswith(f"exec airflow {command}\n")
        assert service["build"] == "."  # the Dockerfile beside the compose file
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        # LocalExecutor unless .env asks for Celery (the `celery` profile).
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
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
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "news_etl db migrate" in init


def _env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_compose_uses_fab_with_the_admin_from_env(compose):
    import importlib

    services = compose["services"]
    for name in AIRFLOW_SERVICES:
        manager = services[name]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"]
        module, _, cls = manager.rpartition(".")
        assert cls == "FabAuthManager"
        assert getattr(importlib.import_module(module), cls)  # the provider is in the locks
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert "SimpleAuthManager" not in text and "SIMPLE_AUTH_MANAGER" not in text
    init = services["airflow-init"]
    env = init["environment"]
    assert env["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert env["AIRFLOW_ADMIN_USER"].startswith("${AIRFLOW_ADMIN_USER")
    script = init["command"][-1]
    # Created when missing, and its password set to .env's at every start.
    assert "airflow users create --role Admin" in script
    reset = 'users reset-password --username "$$AIRFLOW_ADMIN_USER" --password "$$AIRFLOW_ADMIN_PASSWORD"'
    assert reset in script
    assert {"AIRFLOW_ADMIN_USER", "AIRFLOW_ADMIN_PASSWORD"} <= set(_env_example())


def test_compose_init_runs_as_root_and_gives_the_files_to_airflow_uid(compose):
    services = compose["services"]
    init = services["airflow-init"]
    assert init["user"] == "0:0"
    script = init["command"][-1]
    chown = 'chown -R "${AIRFLOW_UID:-50000}:0" /opt/airflow/logs'
    assert chown in script
    # After every command that may write files as root.
    assert script.rindex(chown) > max(script.rindex("airflow db migrate"), script.rindex("reset-password"))
    for name in (*AIRFLOW_SERVICES, "airflow-worker", "airflow-cli"):
        assert services[name]["user"] == "${AIRFLOW_UID:-50000}:0", name
    assert "AIRFLOW_UID" in _env_example()


def test_compose_default_timezone_is_the_sources(compose):
    # The real sites' zone (the fictional replica sources, *.example, are not deployed).
    zones = {s.timezone for s in load_sources().values() if not s.host.endswith(".example")}
    for name in (*AIRFLOW_SERVICES, "airflow-init", "airflow-worker", "airflow-cli"):
        zone = compose["services"][name]["environment"]["AIRFLOW__CORE__DEFAULT_TIMEZONE"]
        assert {zone} == zones == {ALMATY}, name


def test_compose_creates_the_fetch_pools_at_every_scheduler_start(compose):
    scheduler = compose["services"]["airflow-scheduler"]
    script = scheduler["command"][-1]
    lines = [line.strip() for line in script.strip().splitlines()]
    assert lines[-1] == "exec airflow scheduler"
    assert any(line.startswith("airflow pools import ") for line in lines[:-1])
    assert "pools import" not in "\n".join(compose["services"]["airflow-init"]["command"])
    # The command that writes the pools file runs here, against the sources file, as it is.
    [writer] = [line for line in lines if line.startswith("python -c")]
    code = writer.split("'")[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO / "plugins")})
    assert out.returncode == 0, out.stderr
    pools = json.loads(out.stdout)
    assert {name: p["slots"] for name, p in pools.items()} == schedule.pools()
    assert {schedule.fetch_pool(s.host) for s in load_sources().values()} == set(pools)


def test_compose_celery_profile_scales_workers(compose):
    services = compose["services"]
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("@airflow-metadata-db:5432/airflow")
    assert "celery" in services["redis"]["profiles"]
    assert services["redis"]["image"].startswith("redis:")
    worker = services["airflow-worker"]
    assert worker["profiles"] == ["celery"] and worker["command"] == "celery worker"
    # `--scale airflow-worker=N` needs no fixed name and no published port.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["flower"]["profiles"] == ["flower"] and services["flower"]["command"] == "celery flower"
    # One place switches it on: the profile and the executor, side by side in .env.example.
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert "COMPOSE_PROFILES=celery" in example and "AIRFLOW_EXECUTOR=CeleryExecutor" in example
    # The executor the profile selects imports with the locked celery and provider.
    from airflow.providers.celery.executors.celery_executor import CeleryExecutor

    assert CeleryExecutor.__name__ == "CeleryExecutor"


def test_compose_airflow_cli_profile(compose):
    cli = compose["services"]["airflow-cli"]
    assert cli["profiles"] == ["airflow-cli"]
    assert cli["command"] == ["bash", "-c", "airflow"]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


DEV_ONLY = {"pytest", "pytest-timeout", "hypothesis", "ruff", "uv", "pgserver", "matplotlib",
            "readability-lxml"}


def test_dockerfile_installs_the_runtime_lock_only():
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    runtime, full = _pins(REPO / "requirements-runtime.lock"), _pins(REPO / "requirements.lock")
    # The image is the official one of the locked Airflow, on the project's Python.
    assert f"FROM apache/airflow:{full['apache-airflow']}-python3.11\n" in dockerfile
    assert runtime["apache-airflow"] == full["apache-airflow"]
    instructions = "\n".join(line for line in dockerfile.splitlines() if not line.startswith("#"))
    assert "pip install --no-cache-dir -r /opt/news_etl/requirements-runtime.lock" in instructions
    assert " requirements.lock" not in instructions and "/requirements.lock" not in instructions
    # No test, lint or development tool, and no version other than the tests ran.
    assert not DEV_ONLY & set(runtime), DEV_ONLY & set(runtime)
    assert {name: full.get(name) for name in runtime} == runtime
    assert {"apache-airflow-providers-fab", "apache-airflow-providers-celery",
            "apache-airflow-providers-postgres", "redis", "celery"} <= set(runtime)
    # Every runtime requirement is in the runtime lock (it was re-locked after the last edit).
    wanted = {line.split("==")[0].split("<")[0].strip().lower()
              for line in (REPO / "requirements-runtime.in").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")}
    assert wanted <= set(runtime), wanted - set(runtime)
    # The build context lets through only what the image needs.
    ignore = [line for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#")]
    assert ignore[0] == "*"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "requirements-runtime.lock" in allowed and {"plugins", "dags", "sql"} <= allowed
    assert not allowed & {".venv", ".data", ".git", ".env", "tests", "bench", "requirements.lock"}
    assert "docker compose up -d --build" in (REPO / "Makefile").read_text(encoding="utf-8")


def test_docker_compose_config_accepts_the_file():
    import shutil

    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on this machine")
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker CLI has no compose plugin (`docker compose` is absent)")
    for profiles in ([], ["--profile", "celery", "--profile", "flower", "--profile", "airflow-cli"]):
        out = subprocess.run(["docker", "compose", "--env-file", ".env.example", *profiles, "config",
                              "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr


# --- backfill of local days ----------------------------------------------------------------------

def _days(dagbag, lo: datetime, hi: datetime) -> list[date]:
    """The local days of the runs a backfill from ``lo`` to ``hi`` creates (as Airflow's backfill does)."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    core = coerce_to_core_timetable(dagbag.dags["tengrinews_ingest"].timetable)
    infos, info = [], None
    restriction = TimeRestriction(earliest=lo, latest=hi, catchup=True)
    while (info := core.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)):
        infos.append(info)
    return [schedule.interval_day(i.data_interval.start, ALMATY) for i in infos]


@pytest.mark.parametrize("first,last", [(date(2026, 11, 1), date(2026, 11, 3)),
                                        # Across Kazakhstan's switch from UTC+6 to UTC+5.
                                        (date(2024, 2, 28), date(2024, 3, 1))])
def test_ui_backfill_form_gives_exactly_the_local_days(dagbag, first, last):
    # The UI's backfill form reads a date without a time in the time zone chosen in the user
    # menu: From is the start of its day, To the end of its day (23:59:59.999).
    zone = ZoneInfo(ALMATY)
    lo = datetime.combine(first, datetime.min.time(), zone)
    hi = datetime.combine(last, datetime.max.time().replace(microsecond=999000), zone)
    assert _days(dagbag, lo, hi) == [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_readme_cli_backfill_gives_the_days_it_names(dagbag, compose):
    """The README's `airflow backfill create` line, read as the deployment reads it, covers its days."""
    import re
    import shlex

    from airflow._shared.timezones.timezone import parse

    zone = compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__CORE__DEFAULT_TIMEZONE"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"`(?:docker compose run --rm airflow-cli )?(backfill create [^`]+)`", readme)
    args = shlex.split(command)
    # Naive dates: the CLI reads them in default_timezone, as it does in the containers.
    lo = parse(args[args.index("--from-date") + 1], timezone=zone)
    hi = parse(args[args.index("--to-date") + 1], timezone=zone)
    assert _days(dagbag, lo, hi) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert "2026-11-01" in command and "2026-11-03" in command


def test_date_params_say_they_override_every_runs_interval(dagbag):
    params = dagbag.dags["tengrinews_ingest"].params
    for name in ("date_from", "date_to"):
        text = params.get_param(name).description.lower()
        assert "every run" in text and "interval" in text and "backfill" in text, text


def test_articles_asset_is_a_postgres_uri_the_provider_recognizes(dagbag):
    from urllib.parse import urlsplit

    from airflow.providers.postgres.assets.postgres import sanitize_uri

    [asset] = dagbag.dags["tengrinews_ingest"].get_task("publish").outlets
    assert asset.uri == "postgres://news-db:5432/news/public/articles"
    # The provider's own check leaves it as it is: host, port, database, schema, table.
    assert sanitize_uri(urlsplit(asset.uri)).geturl() == asset.uri


def test_min_articles_defaults_to_the_sources_floor(dagbag):
    for key, source in load_sources().items():
        params = dagbag.dags[f"{key}_ingest"].params
        assert params["min_articles"] == source.min_articles_per_day, key


def test_failure_notification_is_off_unless_configured(dagbag, monkeypatch):
    if not (os.environ.get("NEWS_ETL_NOTIFY_WEBHOOK_URL") or os.environ.get("NEWS_ETL_NOTIFY_EMAIL")):
        for dag in dagbag.dags.values():
            assert dag.on_failure_callback is None, dag.dag_id
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseNotifier

    monkeypatch.setenv("NEWS_ETL_NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    configured = DagBag(dag_folder=str(al.DAGS_DIR))
    for dag in configured.dags.values():
        assert [type(c).__name__ for c in dag.on_failure_callback] == ["RunFailureNotifier"], dag.dag_id
        assert all(isinstance(c, BaseNotifier) for c in dag.on_failure_callback)
