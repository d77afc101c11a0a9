"""Offline replica of tengrinews.kz for tests, benchmarks and the demo (see README.md)."""

from news_etl.replica.server import FAULTS, SITE_DIR, ReplicaServer, serve

__all__ = ["FAULTS", "SITE_DIR", "ReplicaServer", "serve"]
