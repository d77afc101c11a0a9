"""The sources file: validated entries, clear errors, broken entries skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from news_etl import settings
from news_etl.sources import SourceConfigError, get_source, load_sources, read_sources

from devtools.replica import SOURCES_FILE as REPLICA_SOURCES

GOOD = """
  - key: steppe
    name: Steppe Daily
    base_url: https://steppe.example.kz
    timezone: Asia/Almaty
    language: en
    discovery: {feeds: [/rss.xml], sitemaps: [/sitemap.xml]}
"""


def _write(tmp_path: Path, entries: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n" + entries, encoding="utf-8")
    return path


def _entries(path: Path) -> dict[str, dict]:
    return {e["key"]: e for e in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]}


def test_production_sources_file_sits_beside_sql_and_holds_only_real_sites(monkeypatch) -> None:
    monkeypatch.delenv("NEWS_ETL_SOURCES_FILE", raising=False)
    monkeypatch.delenv("NEWS_ETL_SQL_DIR", raising=False)
    path = settings.sources_file()
    # One rule for both: the project directory, where the repository keeps them.
    assert path == Path(__file__).resolve().parents[2] / "sources.yaml"
    assert path.parent == settings.sql_dir().parent and (settings.sql_dir() / "migrations").is_dir()
    config = read_sources(path)
    assert config.problems == ()
    assert list(config.sources) == ["tengrinews"]
    # Reserved test domains (RFC 2606) are the replica's fictional sites, never deployed.
    for source in config.sources.values():
        for host in source.allowed_hosts:
            assert not host.endswith((".example", ".test", ".invalid", ".localhost")), host
    monkeypatch.setenv("NEWS_ETL_SOURCES_FILE", str(REPLICA_SOURCES))
    assert settings.sources_file() == REPLICA_SOURCES


def test_replica_sources_are_production_tengrinews_and_the_fictional_sites() -> None:
    production = _entries(Path(__file__).resolve().parents[2] / "sources.yaml")
    replica = _entries(REPLICA_SOURCES)
    assert list(replica) == ["tengrinews", "steppeinfo", "caspianwire"]
    # The same Tengrinews as deployed: an edit of one copy must be made to the other.
    assert replica["tengrinews"] == production["tengrinews"]
    assert read_sources(REPLICA_SOURCES).problems == ()


def test_session_sources_are_valid() -> None:
    config = read_sources()
    assert config.problems == ()
    tengri = get_source("tengrinews")
    assert tengri.name == "Tengrinews.kz"
    assert tengri.timezone == "Asia/Almaty"
    assert tengri.article_id("https://tengrinews.kz/world_news/some-slug-383322/?utm_source=x") == "383322"
    assert tengri.article_id("https://tengrisport.kz/football/other-383322/") is None
    assert tengri.owns_url("https://m.tengrinews.kz/a/") and not tengri.owns_url("https://tengriauto.kz/")


def test_broken_entry_is_reported_and_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + """
  - key: Bad Key
    name: ""
    base_url: ftp://nowhere
    rate_limit_per_second: 0
  - key: zoned
    name: Zoned
    base_url: https://zoned.example.kz
    timezone: Asia/Atlantis
  - key: steppe
    name: Again
    base_url: https://again.example.kz
""")
    config = read_sources(path)
    assert list(config.sources) == ["steppe"]
    assert config.sources["steppe"].feeds == ("/rss.xml",)
    assert len(config.problems) == 3
    bad, zoned, again = config.problems
    assert "entry 2" in bad and "key" in bad and "name" in bad and "base_url" in bad
    assert "rate_limit_per_second" in bad
    assert "entry 3" in zoned and "unknown time zone 'Asia/Atlantis'" in zoned
    assert "entry 4" in again and "duplicate source key 'steppe'" in again
    assert load_sources(path) == config.sources


def test_unknown_field_and_unreadable_file_are_clear(tmp_path: Path) -> None:
    config = read_sources(_write(tmp_path, GOOD.replace("language: en", "langauge: en")))
    assert config.sources == {}
    assert "Additional properties are not allowed ('langauge' was unexpected)" in config.problems[0]
    with pytest.raises(SourceConfigError, match="cannot read sources file"):
        read_sources(tmp_path / "missing.yaml")
    with pytest.raises(SourceConfigError, match="top-level 'sources:' list"):
        read_sources(_write(tmp_path, "").with_name("sources.yaml"))


def test_unknown_source_key_names_the_configured_ones() -> None:
    with pytest.raises(SourceConfigError, match="unknown source 'nope'; configured: .*tengrinews"):
        get_source("nope")
