"""news_etl.parse on every article page of the offline replica, against records written by hand.

The expected records (tests/replica_expected.py) come from writing the articles, never from
running the parser. The one real article must come out as exactly its seed file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from news_etl.sources import get_source
from support.replica_expected import BY_ID, EXPECTED, SAMPLE_ID, SAMPLE_SEED, SHOWN, Expected

from devtools.replica import SITE_DIR

parse = pytest.importorskip("news_etl.parse")  # written in parallel by the source engineer

REPO = Path(__file__).resolve().parents[2]
# Pages stored in windows-1251 (the charset faults); the fetcher decodes them, here we do.
CP1251 = {596204, 596205, 596206}


def page_html(expected: Expected) -> str:
    raw = (SITE_DIR / expected.path.strip("/") / "index.html").read_bytes()
    return raw.decode("cp1251" if expected.article_id in CP1251 else "utf-8")


def parsed(expected: Expected):
    return parse.parse_article(page_html(expected), url=expected.url, source=get_source("tengrinews"),
                               fetched_at=datetime.fromisoformat(expected.fetched_at))


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: str(e.article_id))
def test_replica_page_parses_to_the_hand_written_record(expected):
    article = parsed(expected)
    paragraphs = article.body.split("\n")
    assert article.title == expected.title
    assert article.published_at == expected.published
    assert article.published_at.utcoffset().total_seconds() == 0
    assert article.author == expected.author
    assert article.url == expected.url
    assert article.source_name == "Tengrinews.kz"
    assert article.source_article_id == expected.source_article_id
    assert paragraphs[0] == expected.first
    assert paragraphs[-1] == expected.last
    assert len(paragraphs) == expected.paragraphs, paragraphs


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: str(e.article_id))
def test_every_line_the_page_shows_and_no_noise(expected):
    """Every body line as the builder rendered it, in order (NBSP kept), none of the noise lines."""
    shown = SHOWN[expected.url]
    lines = parsed(expected).body.split("\n")
    assert lines == shown["body_lines"]
    assert not set(lines) & set(shown["noise_lines"])


def test_no_boilerplate_survives_in_any_body():
    for expected in EXPECTED:
        body = parsed(expected).body
        for junk in ("Фото:", "Видео:", "Читайте также", "WhatsApp", "Telegram", "Реклама", "Поделиться",
                     "Комментарии", "Рекомендуем", "Обсуждаемое сейчас", "Похожие новости"):
            assert junk not in body, (expected.article_id, junk)


def test_sample_article_reproduces_its_seed_file_exactly():
    seedfile = pytest.importorskip("news_etl.seedfile")
    article = parsed(BY_ID[SAMPLE_ID])
    seed = (REPO / "seeds" / SAMPLE_SEED).read_bytes()
    assert seedfile.format_seed(article).encode("utf-8") == seed
