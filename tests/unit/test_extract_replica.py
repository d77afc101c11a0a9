"""Generic extraction alone (no Tengrinews selectors) on every article page of the replica.

It is the parser's fallback when the site's markup changes overnight, so it must already get
the real source right without knowing it: the records it is checked against were written by
hand for the replica (tests/replica_expected.py), not produced by running any extractor.
Paragraphs are compared exactly, no-break spaces included. The lead above the text
(.content_main_desc) is not always taken, hence a bar for first paragraphs below 100%. The zone is the
source's (``zone_is_known``): the real site declares constant offsets, the tz database decides.
As in the pipeline, the publication is not credited as the author (the record names its source).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from news_etl.extract import extract_generic
from news_etl.saved_pages import read_html
from news_etl.sources import get_source
from support.replica_expected import EXPECTED

from devtools.replica import SITE_DIR

SOURCE = get_source("tengrinews")


def _same(a: str, b: str) -> bool:
    return a == b


@pytest.fixture(scope="module")
def results():
    out = []
    for expected in EXPECTED:
        html = read_html(SITE_DIR / expected.path.strip("/") / "index.html")  # cp1251 pages detected
        got = extract_generic(html, url=expected.url, tz=SOURCE.timezone, language=SOURCE.language,
                              fetched_at=datetime.fromisoformat(expected.fetched_at), zone_is_known=True,
                              credit_publication=False)
        out.append((expected, got))
    return out


def test_every_title_date_and_author(results):
    assert len(results) >= 30
    for expected, got in results:
        assert got.title == expected.title, expected.article_id
        assert got.published_at == expected.published, expected.article_id
        assert (got.author or "") == expected.author, expected.article_id


def test_bodies_end_where_the_article_ends(results):
    last = [e.article_id for e, got in results if not _same((got.body or "").split("\n")[-1], e.last)]
    assert len(last) <= len(results) // 20, last


def test_bodies_start_where_the_article_starts(results):
    first = [e.article_id for e, got in results if not _same((got.body or "").split("\n")[0], e.first)]
    assert len(first) <= len(results) * 15 // 100, first


def test_no_site_furniture_in_any_body(results):
    for expected, got in results:
        for noise in ("Читайте также", "Фото:", "Видео:", "Telegram", "WhatsApp", "Реклама"):
            assert noise not in (got.body or ""), (expected.article_id, noise)
