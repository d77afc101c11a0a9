"""Selectors declared for a source in the sources file drive the parser's selector layer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from news_etl.parse import parse_article
from news_etl.sources import read_sources

# A page of an imagined regional site: no JSON-LD, no OpenGraph, its own class names.
PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Новости Кокшетау</title></head>
<body><div class="topbar"><a href="/">Главная</a> <a href="/about/">О нас</a></div>
<main><article class="story">
<h1 class="story-head">В Кокшетау отремонтируют набережную озера Копа</h1>
<div class="story-info"><span class="story-when">14 мая 2025, 09:40</span>
<span class="story-by">Текст: Асель Нурланова</span></div>
<div class="story-lead"><p>Работы начнутся в июне и продлятся до конца сентября.</p></div>
<div class="story-text">
<p>Акимат Кокшетау утвердил проект реконструкции набережной озера Копа. На участке длиной
почти два километра заменят покрытие, установят новые скамейки и освещение.</p>
<div class="story-promo"><p>Подписывайтесь на наш канал, чтобы не пропустить главное!</p></div>
<p>Подрядчика выбрали по итогам конкурса, стоимость работ составит около девятисот миллионов тенге.
Вдоль воды появятся велодорожка и две площадки для детей.</p>
<p>На время ремонта часть набережной закроют для прогулок, объезд обозначат временными знаками.</p>
</div></article></main>
<div class="footer">© Новости Кокшетау</div></body></html>"""

URL = "https://kokshe.example/news/2025/05/14/naberezhnaya-kopa/"
FETCHED = datetime(2025, 5, 14, 10, 0, tzinfo=UTC)

ENTRY = """sources:
  - key: kokshe
    name: Новости Кокшетау
    base_url: https://kokshe.example
    timezone: Asia/Almaty
    language: ru
{selectors}
"""

SELECTORS = """    selectors:
      title: {title}
      date: .story-when
      author: .story-by
      body: div.story-text
      lead: .story-lead
      noise: .story-promo
"""


def source_from(tmp_path: Path, selectors: str = ""):
    path = tmp_path / "sources.yaml"
    path.write_text(ENTRY.format(selectors=selectors), encoding="utf-8")
    return read_sources(path)


def test_declared_selectors_give_every_field(tmp_path: Path) -> None:
    config = source_from(tmp_path, SELECTORS.format(title="h1.story-head"))
    article = parse_article(PAGE, url=URL, source=config.sources["kokshe"], fetched_at=FETCHED)
    assert article.title == "В Кокшетау отремонтируют набережную озера Копа"
    # 09:40 in Almaty (UTC+5 since 2024-03-01) is 04:40 UTC.
    assert article.published_at == datetime(2025, 5, 14, 4, 40, tzinfo=UTC)
    assert article.author == "Асель Нурланова"
    paragraphs = article.body.split("\n")
    assert paragraphs[0] == "Работы начнутся в июне и продлятся до конца сентября."
    assert paragraphs[1].startswith("Акимат Кокшетау утвердил проект")
    assert paragraphs[-1].startswith("На время ремонта часть набережной")
    assert len(paragraphs) == 4
    assert "Подписывайтесь" not in article.body  # the source's noise selector
    assert article.extraction == {"title": "selectors", "author": "selectors", "body": "selectors",
                                  "published_at": "selectors"}


def test_selectors_that_need_the_whole_page_still_work(tmp_path: Path) -> None:
    # "main article > h1" starts with no class: the page cannot be cut down first.
    config = source_from(tmp_path, SELECTORS.format(title="main article > h1"))
    article = parse_article(PAGE, url=URL, source=config.sources["kokshe"], fetched_at=FETCHED)
    assert article.title == "В Кокшетау отремонтируют набережную озера Копа"
    assert article.extraction["title"] == "selectors"
    assert "Подписывайтесь" not in article.body


def test_without_selectors_the_generic_extractor_reads_the_page(tmp_path: Path) -> None:
    config = source_from(tmp_path)
    article = parse_article(PAGE, url=URL, source=config.sources["kokshe"], fetched_at=FETCHED)
    assert article.extraction["body"] == "generic"
    assert "Акимат Кокшетау утвердил проект" in article.body


def test_a_broken_selector_is_reported_and_the_entry_skipped(tmp_path: Path) -> None:
    config = source_from(tmp_path, SELECTORS.format(title="h1[class=="))
    assert "kokshe" not in config.sources
    [problem] = config.problems
    assert "selectors.title" in problem and "not a CSS selector" in problem
