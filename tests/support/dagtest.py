"""``dag.test()`` in the test process: one local Airflow home per process, the ingest DAG from dags/.

Importing this module points Airflow at that home, so it must come before anything imports airflow.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from devtools import airflow_local as al

HOME = Path(tempfile.gettempdir()) / f"news-etl-airflow-{os.getpid()}"
al.configure_process(home=HOME)


def parse_ingest_dag():
    """``tengrinews_ingest`` as the DAG file defines it, in a migrated home with its pools."""
    env = al.airflow_env("", home=HOME)
    al.migrate(env)
    al.ensure_pools(env)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(al.DAGS_DIR))
    assert bag.import_errors == {}
    return bag.dags["tengrinews_ingest"]
