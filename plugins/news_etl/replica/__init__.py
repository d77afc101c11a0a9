"""Offline replica sites for tests, benchmarks and the demo (see README.md).

Tengrinews.kz by default; the fictional sources of ``sites/`` by key (``serve(site="steppeinfo")``).
"""

from news_etl.replica.server import FAULTS, SITE_DIR, SITES_DIR, ReplicaServer, available_sites, serve

__all__ = ["FAULTS", "SITES_DIR", "SITE_DIR", "ReplicaServer", "available_sites", "serve"]
