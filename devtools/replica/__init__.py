"""Offline replica sites for tests, benchmarks and the demo (see README.md).

Tengrinews.kz by default; the fictional sources of ``sites/`` by key (``serve(site="steppeinfo")``).
``SOURCES_FILE`` configures every replica site as a source (``NEWS_ETL_SOURCES_FILE``).
"""

from devtools.replica.server import (
    FAULTS,
    SITE_DIR,
    SITES_DIR,
    SOURCES_FILE,
    ReplicaServer,
    available_sites,
    serve,
)

__all__ = ["FAULTS", "SITES_DIR", "SITE_DIR", "SOURCES_FILE", "ReplicaServer", "available_sites", "serve"]
