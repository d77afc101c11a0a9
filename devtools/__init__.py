"""Development tools, outside the installed library: the offline replica sites, the local Airflow
harness and the demo runner. Run from the repository root (``python -m devtools.demo``); the
test suite puts the root on its path.
"""
