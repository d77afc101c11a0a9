"""The installed package is the product only: no replica pages, no development module.

Builds the wheel as ``pip install .`` would (setuptools, from a copy of the project
files the build reads, so the checkout gets no build/ or egg-info), installs it into a
fresh virtual environment that sees the project's dependencies but neither the
checkout nor ``devtools/``, and imports every module of ``news_etl`` there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")

pytestmark = pytest.mark.skipif(not UV.exists(), reason="uv (from requirements.lock) builds the wheel")

# Imports every module of the installed news_etl and reports what else got imported.
_PROBE = r"""
import importlib, importlib.util, json, pkgutil, sys
import news_etl
names = sorted(m.name for m in pkgutil.walk_packages(news_etl.__path__, "news_etl.")
               if m.name != "news_etl.__main__")  # __main__ runs the command line
for name in names:
    importlib.import_module(name)
print(json.dumps({
    "package": news_etl.__path__[0],
    "modules": names,
    "devtools_findable": importlib.util.find_spec("devtools") is not None,
    "development": sorted(m for m in sys.modules
                          if m.split(".")[0] in {"devtools", "tests", "conftest", "pytest", "_pytest"}
                          or m.startswith("news_etl.replica")),
    "files": sorted({m.__file__ for n, m in list(sys.modules.items())
                     if n.split(".")[0] == "news_etl" and getattr(m, "__file__", None)}),
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    shutil.copy2(REPO / "pyproject.toml", src)
    shutil.copytree(REPO / "plugins", src / "plugins",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run([str(UV), "build", "--wheel", "--quiet", "-o", str(out), str(src)],
                           capture_output=True, text=True, timeout=240)
    assert build.returncode == 0, build.stderr[-3000:]
    [built] = out.glob("news_etl-*.whl")
    return built


def test_wheel_holds_the_library_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    library = [n for n in names if not n.startswith("news_etl-")]
    assert "news_etl/settings.py" in library and "news_etl/schedule.py" in library
    assert all(n.startswith("news_etl/") for n in library), library
    development = ("replica", "devtools", "demo", "airflow_local")
    assert [n for n in names if any(part in n for part in development)] == []
    assert [n for n in library if not n.endswith(".py")] == []


def test_installed_package_imports_no_development_module(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(UV), "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)],
                   check=True, capture_output=True, timeout=120)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    installed = Path(subprocess.run([str(python), "-c", purelib], check=True, capture_output=True,
                                    text=True).stdout.strip())
    # The dependencies come from the project's environment, added by path: its .pth files
    # (the editable install of plugins/ among them) are not read from there.
    (installed / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    probe = subprocess.run([str(python), "-c", _PROBE], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=240)
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(found["package"]) == installed / "news_etl"
    assert {"news_etl.cli", "news_etl.pipeline", "news_etl.schedule"} <= set(found["modules"])
    assert found["devtools_findable"] is False
    assert found["development"] == []
    assert all(Path(f).is_relative_to(installed / "news_etl") for f in found["files"]), found["files"]
