"""parse_article and normalization on small hand-written pages in both Tengrinews markups."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from news_etl.boilerplate import is_boilerplate
from news_etl.errors import Rejected
from news_etl.normalize import clean_paragraphs, clean_text
from news_etl.parse import parse_article
from news_etl.sources import get_source

SOURCE = get_source("tengrinews")
URL = "https://tengrinews.kz/kazakhstan_news/v-almatyi-otkryili-novyiy-park-512345/"
FETCHED = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)  # 17:00 in Almaty


def page(main: str, head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Страница - Tengrinews.kz</title>{head}'
            f'</head><body><header><a href="/">Главная</a></header><main>{main}</main>'
            f'<aside class="popular"><a href="/x-1/">Популярное</a></aside></body></html>')


CURRENT = page("""
<div class="content_main">
 <ul class="breadcrumbs"><li><a class="breadcrumbs__item" href="/">Главная</a></li>
  <li><span class="breadcrumbs__item breadcrumbs__item--date">27 апреля 2026 17:42</span></li></ul>
 <h1 class="head-single">В Алматы открыли   новый парк</h1>
 <div class="content_main_meta"><div class="content_main_author">Автор:
  <a rel="author" href="#">Дана Ахметова</a></div></div>
 <div class="content_main_desc">В Бостандыкском районе открылся  парк площадью 12 гектаров.</div>
 <div class="content_main_text" itemprop="articleBody">
  <p>На церемонии выступил аким района.\u00a0Он поблагодарил жителей.</p>
  <p><em>Фото: пресс-служба акимата</em></p>
  <p>&nbsp;</p>
  <div class="content_main_readalso"><p>Читайте также</p><p><a href="/a-1/">Другая новость</a></p></div>
  <p>В парке высадили
     две тысячи деревьев.<br>Работы продолжатся весной.</p>
  <div class="tn-inpage"><p>Реклама</p></div>
  <p>Видео: YouTube/акимат</p>
  <p>Читайте также: <a href="/b-2/">Новые велодорожки</a></p>
  <script>window.ad = 1;</script>
  <p>Парк будет открыт круглосуточно.</p>
  <p><strong>Наши новости теперь в WhatsApp! Подписывайтесь на канал Tengrinews.kz.</strong></p>
 </div>
 <div class="content_main_text_tags"><a href="/tag/park/">парк</a></div>
 <div class="content_main_share"><span>Поделиться:</span></div>
 <div class="tn-recommendations"><h3>Рекомендуем</h3><p>Что-то еще</p></div>
 <div class="tn-discussed-now-block"><h3>Обсуждаемое сейчас</h3></div>
 <div class="content_main_comments"><h3>Комментарии (1)</h3><p class="comment__text">Отлично!</p></div>
 <!-- <p>скрытый абзац</p> -->
</div>""")


def test_current_markup_selectors_and_boilerplate():
    article = parse_article(CURRENT, url=URL + "?utm_source=x", source=SOURCE, fetched_at=FETCHED)
    assert article.title == "В Алматы открыли новый парк"
    assert article.published_at == datetime(2026, 4, 27, 12, 42, tzinfo=UTC)  # UTC+5 since 2024-03-01
    assert article.author == "Дана Ахметова"
    assert article.body == ("В Бостандыкском районе открылся парк площадью 12 гектаров.\n"
                            "На церемонии выступил аким района.\u00a0Он поблагодарил жителей.\n"
                            "В парке высадили две тысячи деревьев.\n"
                            "Работы продолжатся весной.\n"
                            "Парк будет открыт круглосуточно.")
    assert article.url == URL and article.source_article_id == "512345"
    assert article.source_name == "Tengrinews.kz" and article.source_key == "tengrinews"
    assert article.fetched_at == FETCHED
    assert article.extraction == {"title": "selectors", "published_at": "selectors",
                                  "author": "selectors", "body": "selectors"}


def test_current_markup_relative_date_in_date_time_block():
    html = page("""<div class="content_main"><h1 class="head-single">Курс тенге</h1>
      <div class="date-time">Вчера, 23:10</div>
      <div class="content_main_text" itemprop="articleBody"><p>Тенге укрепился.</p></div></div>""")
    fetched = datetime(2024, 5, 10, 19, 30, tzinfo=UTC)  # 00:30 on May 11 in Almaty
    article = parse_article(html, url=URL, source=SOURCE, fetched_at=fetched)
    assert article.published_at == datetime(2024, 5, 10, 18, 10, tzinfo=UTC)
    assert article.author == "" and article.extraction["author"] == "none"


OLDER = page("""
<div class="tn-article">
 <h1 class="tn-content-title">Аэропорт Шымкента сменил оператора
  <span class="tn-hidden">12 марта 2020, 14:05</span></h1>
 <ul class="tn-data-list"><li><time>12 марта 2020, 14:05</time></li>
  <li class="tn-author">Автор: <a rel="author" href="#">Ерлан Садыков</a></li>
  <li class="tn-views">3100</li></ul>
 <div class="tn-news-content">
  <article class="tn-news-text">
   <p>Новый оператор аэропорта вступил в права в понедельник.</p>
   <p>Фото © Tengrinews.kz</p>
   <div class="tn-related-news"><h3>Похожие новости</h3><a href="/c-3/">Старое</a></div>
   <p>Пассажиропоток, по прогнозу, вырастет на 15 процентов.</p>
   <p>Самые важные новости — в нашем Telegram-канале. Подписывайтесь!</p>
  </article>
  <div class="tn-recommendations"><h3>Рекомендуем</h3></div>
 </div>
 <div class="tn-comments"><p>Комментарий читателя</p></div>
</div>""")


def test_older_markup_title_without_date_span():
    article = parse_article(OLDER, url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.title == "Аэропорт Шымкента сменил оператора"
    assert article.published_at == datetime(2020, 3, 12, 8, 5, tzinfo=UTC)  # UTC+6 before 2024-03-01
    assert article.author == "Ерлан Садыков"
    assert article.body == ("Новый оператор аэропорта вступил в права в понедельник.\n"
                            "Пассажиропоток, по прогнозу, вырастет на 15 процентов.")
    assert set(article.extraction.values()) == {"selectors"}


def test_older_markup_div_container_with_loose_text():
    html = page("""<div class="tn-article"><h1 class="tn-content-title">Снег в Астане</h1>
      <ul class="tn-data-list"><li><time>3 декабря 2021, 09:30</time></li></ul>
      <div class="tn-news-content"><div class="tn-news-text">Утром выпал снег.<br><br>
      Дороги <b>расчищают</b> с шести утра.<div>Коммунальщики работают в три смены.</div>
      </div></div></div>""")
    article = parse_article(html, url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.body == ("Утром выпал снег.\nДороги расчищают с шести утра.\n"
                            "Коммунальщики работают в три смены.")
    assert article.published_at == datetime(2021, 12, 3, 3, 30, tzinfo=UTC)


def jsonld(**fields) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


BODY = '<div class="content_main_text" itemprop="articleBody"><p>Текст новости.</p></div>'
SELECTOR_PAGE = ('<div class="content_main"><h1 class="head-single">Заголовок со страницы</h1>'
                 '<span class="breadcrumbs__item--date">29 февраля 2024 23:30</span>' + BODY + "</div>")


def test_json_ld_wins_and_its_offset_places_the_repeated_hour():
    head = jsonld(headline="Заголовок из JSON-LD &quot;в кавычках&quot;",
                  datePublished="2024-02-29T23:30:00+05:00",
                  author={"@type": "Person", "name": "Асель Нурланова"},
                  publisher={"@type": "Organization", "name": "Tengrinews.kz"})
    article = parse_article(page(SELECTOR_PAGE, head), url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.title == 'Заголовок из JSON-LD "в кавычках"'
    assert article.published_at == datetime(2024, 2, 29, 18, 30, tzinfo=UTC)  # second 23:30, UTC+5
    assert article.author == "Асель Нурланова"
    assert article.extraction == {"title": "json-ld", "published_at": "json-ld", "author": "json-ld",
                                  "body": "selectors"}


def test_without_json_ld_the_repeated_hour_is_the_first_one():
    article = parse_article(page(SELECTOR_PAGE), url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.published_at == datetime(2024, 2, 29, 17, 30, tzinfo=UTC)


def test_organisation_author_is_no_author():
    head = jsonld(headline="Новость", datePublished="2019-11-05T13:15:00+06:00",
                  author={"@type": "Organization", "name": "Tengrinews.kz"})
    article = parse_article(page(SELECTOR_PAGE, head), url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.author == "" and article.published_at == datetime(2019, 11, 5, 7, 15, tzinfo=UTC)


def test_meta_tags_layer():
    head = ('<meta property="og:title" content="Заголовок из OpenGraph - Tengrinews.kz">'
            '<meta property="article:published_time" content="2023-03-14T10:20:00+06:00">'
            '<meta name="author" content="Мадина Серикова">')
    article = parse_article(page(SELECTOR_PAGE, head), url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.title == "Заголовок из OpenGraph"
    assert article.published_at == datetime(2023, 3, 14, 4, 20, tzinfo=UTC)
    assert article.author == "Мадина Серикова"
    assert article.extraction == {"title": "meta", "published_at": "meta", "author": "meta",
                                  "body": "selectors"}


def test_broken_json_ld_and_bad_layer_date_fall_through():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
            '<meta property="article:published_time" content="когда-то давно">')
    article = parse_article(page(SELECTOR_PAGE, head), url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.title == "Заголовок со страницы"
    assert article.extraction["published_at"] == "selectors"


BARE = "<!DOCTYPE html><html><head></head><body>{}</body></html>"


@pytest.mark.parametrize(("html", "stage", "reason"), [
    (BARE.format('<span class="breadcrumbs__item--date">5 ноября 2019 13:15</span>' + BODY),
     "parse", "no_title"),
    (BARE.format('<h1 class="head-single">Заголовок</h1>' + BODY), "parse", "no_date"),
    (BARE.format('<h1 class="head-single">Заголовок</h1><span class="breadcrumbs__item--date">'
                 '5 ноября 2019 13:15</span><div class="content_main_text" itemprop="articleBody">'
                 '<p>Наши новости теперь в WhatsApp! Подписывайтесь.</p><p>Фото: архив</p></div>'),
     "normalize", "no_body"),
    (BARE.format('<h1 class="head-single">Заголовок</h1><span class="breadcrumbs__item--date">'
                 'тридцать первое число</span>' + BODY), "normalize", "bad_date"),
    ("", "parse", "not_html"),
])
def test_rejections_name_the_missing_field(html, stage, reason):
    with pytest.raises(Rejected) as info:
        parse_article(html, url=URL, source=SOURCE, fetched_at=FETCHED)
    assert (info.value.stage, info.value.reason) == (stage, reason)


def test_generic_fallback_for_unknown_markup():
    pytest.importorskip("news_etl.extract")
    text = " ".join(["Жители микрорайона Самал собрались на субботник у реки Есентай."] * 4)
    html = page(f"<article><h2>Субботник</h2><p>{text}</p><p>{text}</p><p>{text}</p></article>",
                jsonld(headline="Субботник у реки", datePublished="2024-04-20T10:00:00+05:00"))
    article = parse_article(html, url=URL, source=SOURCE, fetched_at=FETCHED)
    assert article.title == "Субботник у реки"
    assert article.extraction["body"] == "generic"
    assert "Жители микрорайона Самал" in article.body


@pytest.mark.parametrize(("raw", "clean"), [
    ("  В  Алматы\n\tснег  ", "В Алматы снег"),
    ("МСБ.\u00a0Делегация", "МСБ.\u00a0Делегация"),          # the no-break space stays
    ("слово \u00a0 слово", "слово \u00a0 слово"),
    ("Казахстан\u200b", "Казахстан"),
    ("и\u0306од", "йод"),                                      # NFC
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(("paragraph", "boilerplate"), [
    ("Читайте также: Новые велодорожки", True),
    ("читайте также", True),
    ("Фото: пресс-служба акимата", True),
    ("Фото © Tengrinews.kz", True),
    ("Видео: YouTube", True),
    ("Наши новости теперь в WhatsApp! Подписывайтесь на канал.", True),
    ("Самые важные новости — в нашем Telegram-канале. Подписывайтесь!", True),
    ("Подписывайтесь на наш Instagram", True),
    ("Фото Tengrinews.kz/Турар Казангапов", True),                 # credits without a separator
    ("Фото пресс-службы Акорды", True),
    ("Фото ©️ Tengrinews.kz", True),
    ("Фото предоставлено героями материала", True),
    ("Иллюстрация предоставлена автором", True),
    ("Текст подготовила: Аружан Дарибай", True),
    ("Текст: Анастасия Солнцева. Фото: Алихан Сариев", True),
    ("Photo by Jane Doe/Reuters", True),
    ("Посмотреть эту публикацию в Instagram", True),               # what an embed leaves
    ("View this post on Instagram", True),
    ("Публикация от Иван (@ivan_kz_uragan)", True),
    ("A post shared by NASA (@nasa)", True),
    ("@saryy_gl #жалобы #астана ♬ Shootout - Izzamuzzic", True),
    ("♬ оригинальный звук - Рамазан Амантай", True),
    ("PR", True),                                                   # sponsored-content markers
    ("Рекламный материал", True),
    ("На правах рекламы", True),
    ("Материал предоставлен QazaqGaz", True),
    ('Другие статьи спецпроекта "Что будет с Казахстаном?" читайте по ссылке.', True),
    ("Фотографии с места событий опубликовала полиция.", False),
    ("Текст и фото: Меруерт Нургазинова", False),                  # a byline, kept as the page shows it
    ("Фото выше и несколько подряд далее - это участок дороги на улице Луганского (от улицы Сатпаева до "
     "улицы Омарова). Водители отмечают, что каждые 100 метров здесь ямы.", False),
    ("Другие жители комплекса отмечают, что им хотелось бы больше автобусных маршрутов.", False),
    ("Материал подготовил Данияр Есетов", False),
    ("PR-служба компании сообщила о новых тарифах для абонентов.", False),
    ("В работе Telegram произошел сбой, пользователи жаловались на задержки сообщений.", False),
    ("Читатели также спрашивали о сроках ремонта.", False),
])
def test_boilerplate_paragraphs(paragraph, boilerplate):
    assert is_boilerplate(paragraph) is boilerplate


def test_clean_paragraphs_drops_empty_and_repeated():
    assert clean_paragraphs(["Лид.", " Лид. ", "\u00a0", "", "Текст."]) == ["Лид.", "Текст."]
