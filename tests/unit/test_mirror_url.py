"""A mirror URL (``--base-url``, the DAG's ``base_url``): checked, its credentials kept out of storage."""

from __future__ import annotations

import pytest
from news_etl.canonical import check_mirror_url, redacted_url, without_credentials
from news_etl.routing import Routing
from news_etl.runs import run_mirror
from news_etl.sources import get_source


def test_credentials_are_split_off_and_redacted() -> None:
    url = check_mirror_url(" https://bob:p%40ss@mirror.example:8443 ")
    assert url == "https://bob:p%40ss@mirror.example:8443"
    assert redacted_url(url) == "https://***@mirror.example:8443"
    assert without_credentials(url) == ("https://mirror.example:8443", (b"bob", b"p@ss"))
    # Any password goes out as given: UTF-8, or bytes that are no text at all.
    assert without_credentials("http://bob:p%E2%82%ACss@m")[1] == (b"bob", "p€ss".encode())
    assert without_credentials("http://bob:%FF@m")[1] == (b"bob", b"\xff")
    assert without_credentials("http://127.0.0.1:8765") == ("http://127.0.0.1:8765", None)


def test_a_run_gets_its_credentials_only_from_the_caller() -> None:
    params = {"base_url": "https://***@mirror.example"}
    assert run_mirror(7, params, "https://bob:pw@mirror.example") == "https://bob:pw@mirror.example"
    with pytest.raises(ValueError, match="run 7 fetches from https://\\*\\*\\*@mirror.example, whose"):
        run_mirror(7, params, None)
    with pytest.raises(ValueError, match="credentials are not stored"):
        run_mirror(7, params, "https://bob:pw@other.example")
    assert run_mirror(7, {"base_url": "http://127.0.0.1:8765"}, None) == "http://127.0.0.1:8765"
    assert run_mirror(7, {"base_url": None}, "http://ignored.example") is None


def test_credentials_go_to_the_mirror_only_and_never_over_a_downgraded_scheme() -> None:
    routing = Routing(get_source("tengrinews"), "https://bob:pw@mirror.example:8443/")
    assert routing.mirror == "https://mirror.example:8443"
    assert routing.auth_for("https://mirror.example:8443/news/") == (b"bob", b"pw")
    assert routing.auth_for("http://mirror.example:8443/news/") is None
    assert routing.auth_for("https://other.example:8443/news/") is None
    assert routing.auth_for("https://tengrinews.kz/news/") is None
    # A page fetched from the mirror is known by its URL on the source, without credentials.
    assert routing.source_url("https://mirror.example:8443/news/a-1/") == "https://tengrinews.kz/news/a-1/"
