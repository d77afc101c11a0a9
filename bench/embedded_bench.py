"""Embedded PostgreSQL start-up: first start (initdb), restart of stopped data, warm reuse.

Each is a fresh Python process doing what every `news-etl` command does first,
so interpreter start-up is included, as a user would feel it.
Usage: python bench/embedded_bench.py [--quick]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

from news_etl import db  # noqa: E402

CODE = "from pathlib import Path; from news_etl import db; db.connect(db.embedded_url(Path({!r}))).close()"


def timed_start(data: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CODE.format(str(data))], check=True,
                   env={"PYTHONPATH": str(REPO / "plugins"), "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - started


def main() -> None:
    rounds = 1 if "--quick" in sys.argv else 3
    data = Path(tempfile.mkdtemp(prefix="nebench", dir="/tmp")) / "pg"
    try:
        first = timed_start(data)
        restarts, warms = [], []
        for _ in range(rounds):
            db.stop_embedded(data)
            restarts.append(timed_start(data))
            warms.append(timed_start(data))
        empty = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        python_only = time.perf_counter() - empty
    finally:
        db.stop_embedded(data)
        shutil.rmtree(data.parent, ignore_errors=True)
    warm = min(warms)
    print("embedded PostgreSQL start-up (seconds, whole command incl. Python start-up)")
    print(f"  first start (initdb)        {first:6.2f}")
    print(f"  restart of stopped data     {min(restarts):6.2f}")
    print(f"  warm (already running)      {warm:6.2f}   goal <= 3 s: {'met' if warm <= 3 else 'NOT met'}")
    print(f"  bare python start-up        {python_only:6.2f}   (baseline, same run)")


if __name__ == "__main__":
    main()
