"""The seed-file reader and writer: byte-for-byte round trips and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from news_etl.record import Article
from news_etl.seedfile import (
    SeedFormatError,
    format_seed,
    parse_seed,
    read_seed_file,
    seed_file_name,
    write_seed_file,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seeds" / "000_058bb5e5475679ac.txt"
SHARED_SAMPLE = REPO.parent / "shared" / "seeds" / "000_058bb5e5475679ac.txt"


def test_sample_round_trips_byte_for_byte(tmp_path: Path) -> None:
    article = read_seed_file(SAMPLE)
    assert article.title == "Алматы и Санкт-Петербург разработают дорожную карту сотрудничества"
    assert article.published_at == datetime(2019, 11, 5, 7, 15, tzinfo=UTC)
    assert article.author == ""
    assert article.source_name == "Tengrinews.kz"
    assert article.url.endswith("-383322/")
    out = tmp_path / "copy.txt"
    write_seed_file(out, article)
    assert out.read_bytes() == SAMPLE.read_bytes()


@pytest.mark.skipif(not SHARED_SAMPLE.exists(), reason="../shared/seeds is not beside this checkout")
def test_repository_sample_is_the_shared_sample() -> None:
    assert SAMPLE.read_bytes() == SHARED_SAMPLE.read_bytes()


# Single-line text: anything but line breaks (the format is line-based).
line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1
)
cyrillic_words = st.lists(
    st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗ \u00a0#*[]()«»—,.!?0123456789",
            min_size=1, max_size=40),
    min_size=1, max_size=6,
)
utc_times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    title=line_text,
    author=st.one_of(st.just(""), line_text),
    source_name=line_text,
    url=st.from_regex(r"https://[a-z]{1,10}\.kz/[a-z_]{1,12}/[a-z0-9-]{1,30}/", fullmatch=True),
    paragraphs=st.lists(line_text | st.builds(" ".join, cyrillic_words), min_size=1, max_size=8),
    published_at=utc_times,
)
def test_any_article_survives_write_then_read(title, author, source_name, url, paragraphs,
                                              published_at) -> None:
    article = Article(title=title, published_at=published_at, author=author,
                      source_name=source_name, url=url, body="\n".join(paragraphs))
    text = format_seed(article)
    back = parse_seed(text)
    assert (back.title, back.published_at, back.author, back.source_name, back.url, back.body) == (
        title, published_at, author, source_name, url, article.body)
    assert format_seed(back) == text


def test_awkward_titles_and_nbsp_survive() -> None:
    article = Article(
        title="# Цены [на] *бензин* (АИ-92) выросли]( снова",
        published_at=datetime(2024, 2, 29, 17, 30, tzinfo=UTC),
        author="",
        source_name="Tengrinews.kz",
        url="https://tengrinews.kz/kazakhstan_news/x-1/",
        body="Первый\u00a0абзац.\nВторой абзац с «кавычками».",
    )
    assert parse_seed(format_seed(article)) == article


def test_writer_refuses_what_it_could_not_read_back() -> None:
    base = dict(published_at=datetime(2020, 1, 1, tzinfo=UTC), author="",
                source_name="S", url="https://s.kz/a/", body="b")
    with pytest.raises(ValueError, match="single line"):
        format_seed(Article(title="two\nlines", **base))
    with pytest.raises(ValueError, match="timezone-aware"):
        format_seed(Article(title="t", **{**base, "published_at": datetime(2020, 1, 1)}))


def _sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("mutate", "line", "message"),
    [
        (lambda t: t[1:], 1, "expected a blank line"),                       # missing leading newline
        (lambda t: t.replace("\n# ", "\nTitle: ", 1), 2, "title line"),      # missing header line
        (lambda t: t.replace("2019-11-05T07:15:00+00:00", "5 ноября 2019"), 4, "bad date"),
        (lambda t: t.replace("07:15:00+00:00", "13:15:00+06:00"), 4, "must be in UTC"),
        (lambda t: t.replace("**\n\nAuthor", "**\nAuthor"), 5, "expected a blank line"),  # no blank line
        (lambda t: t.replace("Original: [", "Source: ["), 8, "'Original' line"),
        (lambda t: t.rstrip("\n"), 0, "does not end with a newline"),
    ],
)
def test_malformed_seed_names_file_and_line(mutate, line: int, message: str) -> None:
    text = mutate(_sample_text())
    with pytest.raises(SeedFormatError) as caught:
        parse_seed(text, "bad.txt")
    assert caught.value.name == "bad.txt"
    if line:
        assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith("bad.txt:")


def test_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.txt"
    path.write_bytes(_sample_text().encode("cp1251"))
    with pytest.raises(SeedFormatError) as caught:
        read_seed_file(path)
    assert caught.value.line == 2  # the title is the first non-ASCII line
    assert "not UTF-8" in str(caught.value)


def test_seed_file_name_is_stable_and_numbered() -> None:
    article = read_seed_file(SAMPLE)
    name = seed_file_name(7, article)
    assert name.startswith("007_") and name.endswith(".txt") and len(name) == len("007_") + 16 + 4
    assert seed_file_name(7, article) == name
    other = Article(**{**article.__dict__, "url": article.url + "x/"})
    assert seed_file_name(7, other) != name
