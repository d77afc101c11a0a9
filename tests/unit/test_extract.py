"""Generic extraction (news_etl.extract) on our own small pages, written for these tests."""

from __future__ import annotations

import gzip
import io
import json
import sys
from datetime import UTC, datetime

from news_etl.extract import extract_generic
from news_etl.metadata import clean_authors
from news_etl.saved_pages import extract_file, read_html

PARAGRAPHS = [
    "В Алматы в среду открылся новый участок метрополитена протяжённостью четыре километра, "
    "сообщили в пресс-службе городского акимата. Две станции приняли первых пассажиров в шесть утра.",
    "По словам строителей, работы на участке шли почти пять лет: тоннели прокладывали под руслом "
    "реки и под оживлённым проспектом, поэтому движение транспорта несколько раз меняли.",
    "Пассажиропоток на новых станциях в первый год оценивают в сорок тысяч человек в сутки. "
    "Стоимость проезда не изменится, оплатить его можно транспортной картой или телефоном.",
    "Жители соседних микрорайонов давно просили продлить линию: сейчас дорога до центра "
    "занимает у них больше часа в часы пик, а после открытия станций сократится вдвое.",
    "В акимате добавили, что следующий участок с тремя станциями планируют открыть через два "
    "года, проектная документация уже прошла государственную экспертизу.",
]

CHROME_TOP = """
<header><nav><a href="/">Главная</a> <a href="/news/">Новости</a> <a href="/sport/">Спорт</a>
<a href="/about/">О нас</a></nav></header>
"""
CHROME_BOTTOM = """
<aside class="related"><h3>Популярное</h3><ul>
<li><a href="/news/1/">Курс тенге на торгах в среду</a></li>
<li><a href="/news/2/">Погода в Астане на выходные</a></li>
<li><a href="/news/3/">Итоги матча чемпионата Казахстана</a></li></ul></aside>
<footer><p>© 2024 Городские новости. Все права защищены.</p>
<p><a href="/contacts/">Контакты</a> <a href="/ads/">Реклама</a></p></footer>
"""


def _page(head: str = "", article_top: str = "", paragraphs: list[str] | None = None,
          extra_paragraphs: str = "", lang: str = "ru") -> str:
    body = "".join(f"<p>{p}</p>" for p in (paragraphs or PARAGRAPHS))
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>'
            f"{CHROME_TOP}<main><article>{article_top}<div class=\"article-text\">{body}"
            f"{extra_paragraphs}</div></article></main>{CHROME_BOTTOM}</body></html>")


JSONLD_HEAD = """
<title>Новый участок метро открылся в Алматы | Городские новости</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Новый участок метро открылся в Алматы",
 "datePublished": "2024-05-14T10:30:00",
 "author": [{"@type": "Person", "name": "Анна Иванова"}, {"@type": "Person", "name": "Пётр Сидоров"},
            {"@type": "Organization", "name": "Городские новости"}]}
</script>
"""


def test_jsonld_fields_with_the_sources_zone():
    page = _page(JSONLD_HEAD, "<h1>Новый участок метро открылся в Алматы</h1>")
    got = extract_generic(page, url="https://news.example.kz/city/metro-1/", tz="Asia/Almaty", language="ru")
    assert got.title == "Новый участок метро открылся в Алматы"
    # A naive JSON-LD time is the source's wall clock: Almaty is UTC+5 since 2024-03-01.
    assert got.published_at == datetime(2024, 5, 14, 5, 30, tzinfo=UTC)
    assert got.author == "Анна Иванова, Пётр Сидоров"  # the organisation is not an author
    assert got.methods["title"] == "h1" and got.methods["published_at"] == "json-ld"
    assert got.methods["author"] == "json-ld"


def test_body_keeps_the_article_and_drops_page_furniture():
    extra = ("<p>Читайте также: Как изменится движение автобусов после открытия метро</p>"
             "<p>Подписывайтесь на наш Telegram-канал, чтобы первыми узнавать новости.</p>")
    page = _page(JSONLD_HEAD, "<h1>Новый участок метро открылся в Алматы</h1>", extra_paragraphs=extra)
    got = extract_generic(page, url="https://news.example.kz/city/metro-1/", tz="Asia/Almaty", language="ru")
    assert got.body is not None
    lines = got.body.split("\n")
    assert lines == PARAGRAPHS
    for noise in ("Главная", "Популярное", "Курс тенге", "Все права защищены", "Читайте также", "Telegram"):
        assert noise not in got.body
    assert got.methods["body"].startswith("trafilatura")


def test_meta_tags_when_there_is_no_jsonld():
    head = """
    <title>Новый участок метро открылся в Алматы - Городские новости</title>
    <meta property="og:title" content="Новый участок метро открылся в Алматы - Городские новости">
    <meta property="og:site_name" content="Городские новости">
    <meta property="article:published_time" content="2024-05-14T17:42:00+05:00">
    <meta name="author" content="Автор: Анна Иванова, корреспондент">
    """
    got = extract_generic(_page(head), url="https://news.example.kz/a/2/", tz="Asia/Almaty", language="ru")
    assert got.title == "Новый участок метро открылся в Алматы"
    assert got.methods["title"] == "opengraph"
    assert got.published_at == datetime(2024, 5, 14, 12, 42, tzinfo=UTC)
    assert got.author == "Анна Иванова"
    assert got.methods["author"] == "meta"


def test_visible_russian_date_in_the_sources_zone():
    top = ('<h1>Новый участок метро открылся в Алматы</h1>'
           '<div class="meta"><span class="date-published">14 мая 2024, 17:42</span></div>')
    head = "<title>Новый участок метро открылся в Алматы</title>"
    got = extract_generic(_page(head, top), url="https://news.example.kz/a/3/", tz="Asia/Almaty",
                          language="ru")
    assert got.published_at == datetime(2024, 5, 14, 12, 42, tzinfo=UTC)
    assert got.published_at.tzinfo is not None
    assert got.title == "Новый участок метро открылся в Алматы"


def test_article_split_into_repeated_containers_is_read_whole():
    first, second = PARAGRAPHS[:3], PARAGRAPHS[3:] + [
        "Движение поездов на новом участке будет открыто ежедневно с шести утра до полуночи, "
        "интервал в часы пик составит семь минут, в остальное время около двенадцати минут."]
    chunk = '<div class="body-chunk article-part">{}</div>'
    page = ('<html lang="ru"><head><title>Метро</title></head><body>' + CHROME_TOP +
            "<article><h1>Метро</h1>" + chunk.format("".join(f"<p>{p}</p>" for p in first)) +
            '<div class="ad-slot"><a href="/ad/">Реклама</a></div>' +
            chunk.format("".join(f"<p>{p}</p>" for p in second)) + "</article>" + CHROME_BOTTOM +
            "</body></html>")
    got = extract_generic(page, url="https://news.example.kz/a/4/", tz="Asia/Almaty", language="ru")
    assert got.body is not None
    assert got.body.split("\n") == first + second


def test_clean_authors():
    assert clean_authors(["By JANE DOE, AP Business Writer"]) == "Jane Doe"
    assert clean_authors(["By Jane Doe and John Smith"]) == "Jane Doe, John Smith"
    assert clean_authors(["Jane Doe & John Smith", "john smith"]) == "Jane Doe, John Smith"
    assert clean_authors(["Автор: Анна Иванова", "Пётр Сидоров"]) == "Анна Иванова, Пётр Сидоров"
    assert clean_authors(["Sarah E. Needleman"]) == "Sarah E. Needleman"
    assert clean_authors(["Jane Doe @janedoe jane@example.com"]) == "Jane Doe"
    assert clean_authors([""]) is None
    assert clean_authors(["Admin"]) is None
    assert clean_authors(["Анна Иванова, специальный корреспондент"]) == "Анна Иванова"


def test_nothing_to_extract_gives_nones_not_a_crash():
    got = extract_generic("", url=None, tz="UTC", language=None)
    assert (got.title, got.published_at, got.author, got.body) == (None, None, None, None)
    assert got.methods == {"title": "none", "published_at": "none", "author": "none", "body": "none"}
    got = extract_generic("<html><body><div>Пусто</div></body></html>", url=None, tz="UTC", language=None)
    assert got.title is None and got.published_at is None and got.author is None


def test_extract_file_gz_with_a_configured_sources_url(tmp_path):
    path = tmp_path / "page.html.gz"
    page = _page(JSONLD_HEAD, "<h1>Новый участок метро открылся в Алматы</h1>")
    path.write_bytes(gzip.compress(page.encode("utf-8")))
    result = extract_file(path, url="https://tengrinews.kz/kazakhstan_news/metro-530001/")
    assert result["source"] == "Tengrinews.kz"
    assert result["published_at"] == "2024-05-14T05:30:00+00:00"  # Asia/Almaty from the source entry
    assert result["title"] == "Новый участок метро открылся в Алматы"
    assert result["url"] == "https://tengrinews.kz/kazakhstan_news/metro-530001/"
    assert result["body"].split("\n") == PARAGRAPHS
    assert set(result) >= {"title", "published_at", "author", "source", "url", "body"}


def test_extract_file_from_stdin_for_an_unknown_site(monkeypatch):
    page = _page(JSONLD_HEAD, "<h1>Новый участок метро открылся в Алматы</h1>")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(page.encode("utf-8"))))
    result = extract_file("-", url="https://unknown.example.org/x/")
    assert result["source"] is None
    assert result["published_at"] == "2024-05-14T10:30:00+00:00"  # no source: UTC
    assert result["author"] == "Анна Иванова, Пётр Сидоров"


def test_read_html_utf8_and_cp1251_without_a_declared_charset(tmp_path):
    text = "<html><body><p>" + PARAGRAPHS[0] + "</p></body></html>"  # no <meta charset>
    utf8, cp1251 = tmp_path / "utf8.html.gz", tmp_path / "cp1251.html"
    utf8.write_bytes(gzip.compress(text.encode("utf-8")))
    cp1251.write_bytes(text.encode("cp1251"))
    assert read_html(utf8) == text
    # Not valid UTF-8: the decoder goes on to detection instead of replacing characters.
    assert read_html(cp1251) == text


def test_sibling_chunks_stop_at_the_next_story_of_an_endless_page():
    words = ["Erstens", "Zweitens", "Drittens", "Viertens", "Fünftens", "Sechstens"]

    def chunk(text: str, start: int) -> str:
        return ('<div class="text-block">'
                + "".join(f"<p>{w} {text}</p>" for w in words[start:start + 3]) + "</div>")

    radweg = "hat der Gemeinderat am Abend über den neuen Radweg entlang des Flusses beraten."
    bad = "wurde im Nachbarort unterdessen ein neues Schwimmbad mit großem Fest eröffnet."
    page = (f"<html><body><article><h1>Radweg vertagt</h1>{chunk(radweg, 0)}<aside>Anzeige</aside>"
            f"{chunk(radweg, 3)}</article>"
            f"<article><h1>Schwimmbad eröffnet</h1>{chunk(bad, 0)}{chunk(bad, 3)}</article></body></html>")
    body = extract_generic(page, url="https://news.example/radweg", tz="UTC", language="de").body
    assert "Sechstens hat der Gemeinderat" in body and "Schwimmbad" not in body


def test_words_the_page_typed_decomposed_keep_their_spelling():
    # "ä" typed as "a" + COMBINING DIAERESIS; trafilatura composes it, the page's spelling is kept.
    decomposed = "Geba\u0308ude"
    paragraphs = [f"{p} {decomposed}." for p in PARAGRAPHS]
    body = extract_generic(_page(paragraphs=paragraphs), url="https://news.example.kz/a/5/", tz="UTC",
                           language="ru").body
    assert body.count(decomposed) == len(PARAGRAPHS) and "Gebäude" not in body


def test_a_teaser_made_a_link_is_not_the_article_however_long():
    teaser = ("Соседняя новость: " + PARAGRAPHS[1]) * 2
    page = _page(extra_paragraphs=f'<a href="/news/9/"><p>{teaser}</p></a>')
    body = extract_generic(page, url="https://news.example.kz/a/6/", tz="UTC", language="ru").body
    assert PARAGRAPHS[-1] in body and "Соседняя новость" not in body


def test_a_page_whose_article_only_its_script_data_carries():
    # A JavaScript app's shell: the article's markup is a JSON string in the hydration data.
    markup = "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + '<div class="caption"><p>Фото: акимат</p></div>'
    data = json.dumps({"props": {"article": {"title": "Метро", "contentHtml": markup}}})
    page = (f"<html><head><title>Метро</title></head><body><div id='app'><h1>Метро</h1></div>"
            f"<script>window.__DATA__ = {data};</script></body></html>")
    got = extract_generic(page, url="https://news.example.kz/a/7/", tz="UTC", language="ru")
    assert got.body == "\n".join(PARAGRAPHS) and got.methods["body"] == "script-html"
    # A page with its own visible article keeps it: scripts also carry other stories.
    other = json.dumps({"next": {"contentHtml": "".join(f"<p>{p} Другая.</p>" for p in PARAGRAPHS * 3)}})
    page = _page(extra_paragraphs=f"<script>window.__DATA__ = {other};</script>")
    assert "Другая" not in extract_generic(page, url="https://news.example.kz/a/8/", tz="UTC",
                                           language="ru").body
