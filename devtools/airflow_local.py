"""Run the real Airflow locally, as subprocesses: the demo's, the tests' and the benchmarks' harness.

The local Airflow keeps its metadata in SQLite under ``.data/airflow``, reads
the DAGs from ``dags/`` and finds the news database through the connection
``news_db``, given as ``AIRFLOW_CONN_NEWS_DB``. ``make demo`` and the tests
call :func:`migrate`, :func:`ensure_pools`, :func:`dags_test` and
:func:`backfill_create`; :class:`LocalAirflow` starts a scheduler,
dag-processor and api-server on loopback ports. The scheduling rules the DAGs
use are the library's (:mod:`news_etl.schedule`); nothing here imports Airflow.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from news_etl import schedule, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGS_DIR = REPO_ROOT / "dags"
API_USER = "admin"


def default_home() -> Path:
    """The local Airflow's home: ``airflow/`` under the data directory (``.data/`` by default)."""
    return settings.data_dir() / "airflow"


# --- environment --------------------------------------------------------------------------------

def airflow_bin() -> str:
    """The ``airflow`` script of the running interpreter's environment."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_env(database_url: str, *, home: Path | None = None, api_port: int = 8080,
                base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None,
                metadata_url: str | None = None) -> dict[str, str]:
    """The environment for every ``airflow`` command of one local installation.

    Airflow's own metadata goes to SQLite in ``home`` unless ``metadata_url``
    names a PostgreSQL database: with a scheduler running beside other
    commands, SQLite's single writer can refuse a write at once ("database is
    locked", whatever the busy timeout), so long-running installations use one.
    """
    home = Path(home or default_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    (home / "plugins").mkdir(exist_ok=True)
    env = {k: v for k, v in (base if base is not None else os.environ).items()
           if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        # SQLite takes one writer at a time: a writer waits up to 60 s for the lock (5 s by default).
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url or f"sqlite:///{home / 'airflow.db'}?timeout=60",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        # The library is installed in the venv; Airflow's plugin scan must not import it module by module.
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": _persistent_secret(home / "fernet.key", fernet=True),
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        # Every process must sign and check the same task and API tokens.
        "AIRFLOW__API_AUTH__JWT_SECRET": _persistent_secret(home / "jwt.secret"),
        "AIRFLOW__API__SECRET_KEY": _persistent_secret(home / "api.secret"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        f"AIRFLOW_CONN_{schedule.NEWS_DB_CONN_ID.upper()}": airflow_conn_uri(database_url),
        "NEWS_ETL_DATABASE_URL": database_url,
        # The library must import in every Airflow process, installed in the venv or not.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT / "plugins"), env.get("PYTHONPATH")])),
        "NO_PROXY": "127.0.0.1,localhost",
    })
    if extra:
        env.update(extra)
    _ensure_password(home / "passwords.json")
    return env


def airflow_conn_uri(database_url: str) -> str:
    """``database_url`` as an Airflow connection URI (extras such as a socket ``host`` kept)."""
    # Airflow reads postgres:// and postgresql:// alike; the query part becomes the extras.
    return database_url


def api_password(home: Path | None = None) -> str:
    """The local API user's password (created on first use, kept under the Airflow home)."""
    path = Path(home or default_home()).resolve() / "passwords.json"
    _ensure_password(path)
    return json.loads(path.read_text())[API_USER]


def _ensure_password(path: Path) -> None:
    if not path.exists():
        path.write_text(json.dumps({API_USER: secrets.token_urlsafe(16)}) + "\n")
        path.chmod(0o600)


def _persistent_secret(path: Path, *, fernet: bool = False) -> str:
    if not path.exists():
        import base64

        value = (base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() if fernet
                 else secrets.token_urlsafe(32))
        path.write_text(value)
        path.chmod(0o600)
    return path.read_text().strip()


# --- commands -------------------------------------------------------------------------------------

class AirflowCommandError(RuntimeError):
    """An ``airflow`` command exited with an error."""

    def __init__(self, args: Sequence[str], returncode: int, output: str):
        tail = "\n".join(output.strip().splitlines()[-25:])
        super().__init__(f"`airflow {' '.join(args)}` exited with {returncode}:\n{tail}")
        self.returncode = returncode
        self.output = output


def run_airflow(args: Sequence[str], env: Mapping[str, str], *, check: bool = True,
                timeout: float | None = 600, echo: bool = False) -> subprocess.CompletedProcess:
    """Run ``airflow ARGS`` to completion; output is captured (and echoed when asked)."""
    proc = subprocess.run([airflow_bin(), *args], env=dict(env), cwd=REPO_ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if echo:
        sys.stdout.write(proc.stdout)
    if check and proc.returncode != 0:
        raise AirflowCommandError(args, proc.returncode, proc.stdout)
    return proc


def migrate(env: Mapping[str, str]) -> None:
    """Create or upgrade the metadata database (``airflow db migrate``)."""
    run_airflow(["db", "migrate"], env)


def ensure_pools(env: Mapping[str, str]) -> dict[str, int]:
    """Create (or reset) the fetch pools in one ``airflow pools import``."""
    path = Path(env["AIRFLOW_HOME"]) / "pools.json"
    path.write_text(schedule.pools_json())
    run_airflow(["pools", "import", str(path)], env)
    return schedule.pools()


def prepare(database_url: str, *, home: Path | None = None, api_port: int = 8080,
            metadata_url: str | None = None) -> dict[str, str]:
    """Environment of a ready local Airflow: metadata migrated, pools created."""
    env = airflow_env(database_url, home=home, api_port=api_port, metadata_url=metadata_url)
    migrate(env)
    ensure_pools(env)
    return env


def dags_test(dag_id: str, day: date, env: Mapping[str, str], *, tz: str = "Asia/Almaty",
              conf: Mapping | None = None, echo: bool = False) -> subprocess.CompletedProcess:
    """``airflow dags test`` of the run that ingests local ``day`` (one process, no scheduler)."""
    args = ["dags", "test", dag_id, schedule.manual_logical_date(day, tz).isoformat()]
    if conf:
        args += ["--conf", json.dumps(dict(conf))]
    return run_airflow(args, env, echo=echo)


def backfill_create(dag_id: str, day_from: date, day_to: date, env: Mapping[str, str], *,
                    tz: str = "Asia/Almaty", max_active_runs: int | None = None,
                    conf: Mapping | None = None) -> subprocess.CompletedProcess:
    """``airflow backfill create`` for local days ``day_from``..``day_to``; a scheduler runs them."""
    start, end = schedule.backfill_bounds(day_from, day_to, tz)
    args = ["backfill", "create", "--dag-id", dag_id,
            "--from-date", start.isoformat(), "--to-date", end.isoformat()]
    if max_active_runs:
        args += ["--max-active-runs", str(max_active_runs)]
    if conf:
        args += ["--dag-run-conf", json.dumps(dict(conf))]
    return run_airflow(args, env)


# --- long-running components ----------------------------------------------------------------------

@dataclass
class LocalAirflow:
    """A scheduler, dag-processor and api-server on loopback, started and stopped together.

    ``with LocalAirflow(env) as airflow: ...`` -- every process is started in its
    own session and stopped by its own process group id on exit.
    """

    env: dict[str, str]
    components: tuple[str, ...] = ("api-server", "dag-processor", "scheduler")
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.env["AIRFLOW__API__BASE_URL"]

    @property
    def log_dir(self) -> Path:
        path = Path(self.env["AIRFLOW_HOME"]) / "process-logs"
        path.mkdir(exist_ok=True)
        return path

    def start(self, *, ready_timeout: float = 120) -> LocalAirflow:
        for name in self.components:
            with open(self.log_dir / f"{name}.log", "wb") as log:
                self.procs[name] = subprocess.Popen(
                    [airflow_bin(), name], env=self.env, cwd=REPO_ROOT, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise TimeoutError(f"the api-server did not answer within {timeout:.0f} s\n{self.log_tail()}")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {proc.returncode}\n{self.log_tail(name)}")

    def log_tail(self, name: str | None = None, lines: int = 30) -> str:
        names = [name] if name else list(self.procs)
        out = []
        for n in names:
            path = self.log_dir / f"{n}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            out.append(f"--- {n} ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out)

    def stop(self, timeout: float = 30) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(10)
            # Children (task runners, gunicorn/uvicorn workers) share the group.
            _signal_group(proc.pid, signal.SIGKILL)
        self.procs.clear()

    def __enter__(self) -> LocalAirflow:
        return self.start() if not self.procs else self

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def rest_url(base_url: str, path: str, **query) -> str:
    """A REST API v2 URL (``path`` relative to ``/api/v2/``)."""
    url = f"{base_url.rstrip('/')}/api/v2/{quote(path.lstrip('/'))}"
    return f"{url}?{urlencode(query)}" if query else url


def configure_process(database_url: str | None = None, *, home: Path | None = None) -> dict[str, str]:
    """Point Airflow imported later in THIS process at a local installation (tests, benchmarks).

    Must run before the first ``import airflow``: Airflow reads its configuration once.
    """
    env = airflow_env(database_url or "", home=home)
    for key, value in env.items():
        if key.startswith("AIRFLOW"):
            os.environ[key] = value
    if not database_url:
        os.environ.pop(f"AIRFLOW_CONN_{schedule.NEWS_DB_CONN_ID.upper()}", None)
    return env
