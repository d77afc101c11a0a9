"""news_etl.report: the report read from the views, and its text, JSON and HTML forms.

Uses the hand-made history of test_views.py; expected values are worked out
from it by hand (see the comments there for local days and lags).
"""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser

import pytest
from news_etl.report import build_report, refresh_views, render_html, render_json, render_text
from test_views import ARTICLES, SCRIPT_TITLE, load_fixture, ts

TODAY = date(2025, 3, 11)


@pytest.fixture
def history(conn):
    load_fixture(conn)
    refresh_views(conn)
    return conn


def test_build_report_one_day_window(history):
    report = build_report(history, days=1, today=TODAY)
    assert (report["days"], report["today"], report["since"], report["until"]) == (
        1, "2025-03-11", "2025-03-11", "2025-03-12")
    sections = report["sections"]
    assert sections["articles_per_day"]["rows"] == [
        {"day": "2025-03-11", "source_key": "tengrinews", "articles": 2, "with_author": 2},
    ]
    assert sections["articles_per_section"]["rows"] == [
        {"source_key": "tengrinews", "section": "world_news", "articles": 2},
    ]
    assert [(r["day"], r["source_key"], r["lag_p50_s"]) for r in sections["lag"]["rows"]] == [
        ("2025-03-11", "tengrinews", 2100.0),
    ]
    # Runs started from 03-11 00:00 UTC on; run 1 started on 03-10.
    assert [(r["run_id"], r["status"], r["new"], r["pending"]) for r in sections["runs"]["rows"]] == [
        (2, "succeeded", 2, 0), (3, "running", 2, 1), (4, "failed", 0, 0),
    ]
    # 03-11 and 03-12: tengrinews no_title (19:05Z is 03-11 in Almaty) + the seed file's no_title.
    assert sections["rejects"]["rows"] == [
        {"stage": "parse", "reason": "no_title", "rejects": 2, "last_at": "2025-03-11T23:30:00+00:00"},
        {"stage": "load", "reason": "bad_utf8", "rejects": 1, "last_at": "2025-03-11T09:00:00+00:00"},
        {"stage": "normalize", "reason": "no_body", "rejects": 1, "last_at": "2025-03-11T08:00:10+00:00"},
    ]
    assert [(r["day"], r["source_key"], r["revisions"]) for r in sections["revisions"]["rows"]] == [
        ("2025-03-11", "steppe", 1), ("2025-03-11", "tengrinews", 3), ("2025-03-12", "tengrinews", 1),
    ]
    # Newest first by publication; 5 and 3 share 19:30Z, the higher id first.
    assert [r["title"] for r in sections["newest_articles"]["rows"]] == [
        SCRIPT_TITLE, ARTICLES[5][3], ARTICLES[4][3],
    ]
    assert sections["newest_articles"]["rows"][0] == {
        "published_at": "2025-03-11T06:00:00+00:00", "source_key": "tengrinews", "title": SCRIPT_TITLE,
        "url": "https://tengrinews.kz/world_news/sammit-100004/",
    }


def test_build_report_all_time_sections_and_limits(history):
    report = build_report(history, days=2, today=TODAY, authors=1, newest=1)
    sections = report["sections"]
    assert sections["articles_per_section"]["rows"] == [
        {"source_key": "tengrinews", "section": "kazakhstan_news", "articles": 2},
        {"source_key": "tengrinews", "section": "world_news", "articles": 2},
        {"source_key": "steppe", "section": "economy", "articles": 1},
    ]
    assert [(r["source_key"], r["rank"], r["author"], r["articles"])
            for r in sections["top_authors"]["rows"]] == [
        ("steppe", 1, "Ержан Токаев", 1), ("tengrinews", 1, "Айгуль Сатпаева", 2),
    ]
    assert [(r["source_key"], r["original_source_key"], r["kind"], r["duplicates"])
            for r in sections["duplicates"]["rows"]] == [
        ("steppe", "tengrinews", "near", 2), ("tengrinews", "tengrinews", "exact", 1),
        ("tengrinews", "tengrinews", "near", 1),
    ]
    assert [r["run_id"] for r in sections["runs"]["rows"]] == [1, 2, 3, 4]
    assert len(sections["newest_articles"]["rows"]) == 1


def test_build_report_defaults_to_the_database_today(history):
    report = build_report(history)
    assert report["days"] == 7
    assert report["sections"]["articles_per_day"]["rows"] == []  # the fixture is from 2025
    assert len(report["sections"]["newest_articles"]["rows"]) == 3


def test_build_report_refuses_an_empty_window(conn):
    with pytest.raises(ValueError, match="at least 1"):
        build_report(conn, days=0)


def test_render_json_is_the_report(history):
    report = build_report(history, days=2, today=TODAY)
    assert json.loads(render_json(report)) == report
    assert "Акимат ответил на <script>" in render_json(report)  # ensure_ascii off: Cyrillic readable


def test_render_text_aligns_columns(history):
    text = render_text(build_report(history, days=2, today=TODAY))
    lines = text.splitlines()
    start = lines.index("Articles per local day and source")
    assert lines[start + 1:start + 6] == [
        "day         source_key  articles  with_author",
        "----------  ----------  --------  -----------",
        "2025-03-10  steppe             2            1",
        "2025-03-10  tengrinews         2            2",
        "2025-03-11  tengrinews         2            2",
    ]
    start = lines.index("Top authors (all time)")
    assert lines[start + 1:start + 4] == [
        "source_key  rank  author           articles  last_published_at",
        "----------  ----  ---------------  --------  -----------------",
        "steppe         1  Ержан Токаев            1  2025-03-10 19:30Z",
    ]
    start = lines.index("Ingestion lag, published to first seen, per day")
    assert lines[start + 5] == "2025-03-11  tengrinews         2    35m 00s    55m 00s    59m 30s     1h 00m"


def test_render_text_keeps_control_characters_out_of_the_terminal(conn):
    load_fixture(conn)
    with conn.cursor() as cur:
        cur.execute("UPDATE articles SET title = E'Red \\x1b[31malert\\x1b[0m\\nnext line'"
                    " WHERE article_id = 4")
    conn.commit()
    text = render_text(build_report(conn, days=1, today=TODAY))
    assert "\x1b" not in text
    assert "Red ?[31malert?[0m?next line" in text


def test_render_text_of_an_empty_database(conn):
    refresh_views(conn)  # the views still hold the previous test's rows (truncate spares them)
    text = render_text(build_report(conn, days=3, today=TODAY))
    assert text.count("(no rows)") == 9


class _Page(HTMLParser):
    """Collects tags, attributes and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse_page(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_render_html_is_self_contained_and_escapes_database_values(history):
    with history.cursor() as cur:
        # Markup where the database is the only author: a reason, a source key, a section.
        cur.execute("INSERT INTO rejects (run_id, url, stage, reason, created_at)"
                    " VALUES (1, 'u', 'parse', '<img src=x onerror=alert(1)>', %s)",
                    (ts("2025-03-11 10:00:00"),))
        cur.execute("INSERT INTO sources (source_key, name, base_url) VALUES"
                    " ('<b>evil</b>', 'E', 'https://evil.example')")
        cur.execute("INSERT INTO articles (source_key, canonical_url, title, published_at, body,"
                    " content_hash, author) VALUES ('<b>evil</b>', 'https://evil.example/<i>sec</i>/x/',"
                    " 'Заголовок', %s, 'Текст.', 'h', '<svg onload=alert(2)>')", (ts("2025-03-11 10:00:00"),))
    history.commit()
    refresh_views(history)
    page = render_html(build_report(history, days=2, today=TODAY))
    parsed = parse_page(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags and "link" not in tags
    assert "b" not in tags and "i" not in tags
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("src", "href", "xlink:href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)  # in-page references only
    assert "@import" not in page and "url(http" not in page
    # One inline SVG per chart, top-level <svg> inside each chart figure.
    charts = [attrs["id"] for tag, attrs in parsed.tags if tag == "figure"]
    assert charts == ["chart-articles", "chart-lag", "chart-runs", "chart-rejects"]
    assert tags.count("svg") == 4
    # Titles (and all other values) are text, not markup.
    text = "".join(parsed.text)
    assert SCRIPT_TITLE in text
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;evil&lt;/b&gt;" in page
    assert "&lt;i&gt;sec&lt;/i&gt;" in page
    assert "&lt;svg onload=alert(2)&gt;" in page
    # Three newest titles listed.
    assert page.count('<span class=title>') == 3
    # The CSP forbids scripts and fetches as a second line of defence.
    assert "default-src 'none'" in page


def test_render_html_ids_are_unique_across_charts(history):
    page = render_html(build_report(history, days=2, today=TODAY))
    ids = [attrs["id"] for _, attrs in parse_page(page).tags if "id" in attrs]
    assert len(ids) == len(set(ids))


def test_render_html_of_an_empty_database(conn):
    refresh_views(conn)
    page = render_html(build_report(conn, days=3, today=TODAY))
    parsed = parse_page(page)
    assert [tag for tag, _ in parsed.tags].count("svg") == 4
    assert "(no articles)" in page


@pytest.mark.parametrize(("days", "label"), [
    ([date(2026, 4, 20), date(2026, 4, 27)], "04-27"),
    ([date(2019, 11, 5), date(2026, 4, 27)], "2026-04-27"),  # years apart: the year is shown
])
def test_chart_date_labels_name_the_year_when_the_window_spans_years(days, label):
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from news_etl.report import _date_axis

    ax = Figure().add_subplot()
    ax.plot(days, [1, 2])
    _date_axis(ax, days)
    assert ax.xaxis.get_major_formatter()(mdates.date2num(days[-1])) == label


def test_chart_lines_do_not_bridge_days_without_data():
    import math

    from news_etl.report import _broken_at_gaps

    days = [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 9)]
    out_days, values = _broken_at_gaps(days, [3, 4, 5])
    assert out_days == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 9)]
    assert values[:2] == [3, 4] and math.isnan(values[2]) and values[3] == 5
