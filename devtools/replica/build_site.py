# ruff: noqa: E501 - the page templates keep the long lines of the real markup they copy
"""Render the replica's files in ``site/`` from the hand-written ``articles.yaml``.

Run ``.venv/bin/python -m devtools.replica.build_site`` after editing the data;
both this script and its output are committed, so the server only serves files.
The templates follow the structure of the real pages (../shared/real-pages/tengrinews), not
their text: the article texts are our own prose (except the one real sample article). Beside
the pages it writes ``site/expected.json``: per article what the page visibly shows (title, the
Almaty wall clock in UTC, the named people, the article's lines, the noise lines inside its text
block), taken from the data the page is rendered from, never from a parser.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

HERE = Path(__file__).parent
SITE = HERE / "site"
ALMATY = ZoneInfo("Asia/Almaty")
ORIGIN = "https://tengrinews.kz"
PAGE_SIZE = 20  # items a listing page shows, like the real listings
MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря"]
SECTIONS = {"kazakhstan_news": "Казахстан", "world_news": "Мир", "crime": "Происшествия",
            "events": "События", "internet": "Интернет", "science": "Наука", "market": "Бизнес",
            "culture": "Культура", "sport": "Спорт", "private": "Служебное", "article": "Статьи"}
e = html.escape


def local_time(article: dict) -> datetime:
    # fold=0: in the repeated hour of 2024-02-29 the first (UTC+6) occurrence, like the tz database's
    # default reading of a wall clock.
    return datetime.strptime(article["local"], "%Y-%m-%d %H:%M").replace(tzinfo=ALMATY)


def declared(article: dict, offset: str) -> str:
    """The wall clock with the constant offset the real site declares (``offset`` in the data overrides it)."""
    return local_time(article).strftime("%Y-%m-%dT%H:%M:%S") + (article.get("offset") or offset)


def iso_local(article: dict) -> str:
    """ISO time with the tz database's offset (``offset`` in the data overrides it): older pages, feeds."""
    when = local_time(article)
    if article.get("offset"):
        return when.strftime("%Y-%m-%dT%H:%M:%S") + article["offset"]
    return when.isoformat()


def published_utc(article: dict) -> str:
    """What a reader takes from the page: the Almaty wall clock (or the offset the page alone states)."""
    return datetime.fromisoformat(iso_local(article)).astimezone(UTC).isoformat()


def shown_date(when: datetime, older: bool = False) -> str:
    # The current markup pads the day ("08 февраля 2024 12:46"); the older one does not.
    if older:
        return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when:%H:%M}"
    return f"{when.day:02d} {MONTHS[when.month - 1]} {when.year} {when:%H:%M}"


def path_of(article: dict, section: str | None = None) -> str:
    return f"/{section or article['section']}/{article['slug']}-{article['id']}/"


def authors_of(article: dict) -> list[str]:
    author = article.get("author") or []
    return [author] if isinstance(author, str) else list(author)


def _text(raw: str, for_html: bool) -> str:
    text = re.sub(r"[ \t\r\n]+", " ", raw).strip()
    return text.replace("{nbsp}", "&nbsp;" if for_html else "\xa0")


def blocks(article: dict) -> list[tuple[str, list[str]]]:
    """The article text as (tag, HTML pieces) blocks: p (pieces joined by <br>), blockquote, h2, h3, ul, ol.

    ``body`` blocks are separated by blank lines: "> " a quote, "## " / "### " a subheading,
    lines of "- " / "1. " list items, anything else a paragraph whose "{br}" is a line break.
    """
    out: list[tuple[str, list[str]]] = []
    for raw in article["body"].strip().split("\n\n"):
        raw = raw.strip()
        if raw.startswith("> "):
            out.append(("blockquote", [_text(raw[2:], True)]))
        elif raw.startswith("### "):
            out.append(("h3", [_text(raw[4:], True)]))
        elif raw.startswith("## "):
            out.append(("h2", [_text(raw[3:], True)]))
        elif raw.startswith("- ") or raw.startswith("1. "):
            tag = "ul" if raw.startswith("- ") else "ol"
            out.append((tag, [_text(re.sub(r"^(- |\d+\. )", "", line), True)
                              for line in re.split(r"\n(?=- |\d+\. )", raw)]))
        else:
            out.append(("p", [_text(piece, True) for piece in raw.split("{br}")]))
    return out


def _visible(piece: str) -> str:
    """A piece of markup as a reader sees it: tags dropped, entities resolved, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", piece))
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def body_lines(article: dict) -> list[str]:
    """The lines a reader takes for the article: the lead, then every paragraph piece, quote, heading, item."""
    lines = [_visible(article["lead"])] if article.get("lead") else []
    for _tag, pieces in blocks(article):
        lines += [_visible(p) for p in pieces]
    return lines


# ---------------------------------------------------------------- page chrome
def _icons() -> str:
    names = ["search", "menu", "close", "facebook", "telegram", "whatsapp", "youtube", "instagram",
             "tiktok", "eye", "comment", "clock", "arrow-left", "arrow-right", "play", "photo"]
    paths = "".join(f'<symbol id="icon-{n}" viewBox="0 0 24 24">'
                    f'<path d="M{i} {i + 2}h{12 - i % 5}v{8 + i % 3}'
                    f'H{i}z m{i % 4} {i % 6}l{3 + i % 2} {4 - i % 3}-{2 + i % 4} {5 - i % 2}z"/></symbol>'
                    for i, n in enumerate(names))
    return f'<svg xmlns="http://www.w3.org/2000/svg" style="display:none">{paths}</svg>'


def _scripts() -> str:
    slots = [{"id": f"tn-ad-{i}", "size": [[300, 250], [728, 90]][i % 2], "lazy": i > 2,
              "targeting": {"section": s, "pos": i}} for i, s in enumerate(SECTIONS)]
    config = json.dumps({"site": "tengrinews.kz", "lang": "ru", "adSlots": slots * 3,
                         "counters": {"ga": "G-TN0000000", "ym": 10000000, "li": True}},
                        ensure_ascii=False)
    helpers = "\n".join(
        f"function tn_{name}(e,t){{var n=document.querySelectorAll('[data-{name}]');"
        f"for(var i=0;i<n.length;i++){{n[i].addEventListener('click',function(o){{"
        f"window.dataLayer=window.dataLayer||[];window.dataLayer.push({{event:'{name}',target:o.target.href}})"
        f"}})}};return t||e}}"
        for name in ["share", "menu", "search", "lang", "theme", "comments", "gallery", "video", "poll",
                     "currency", "weather", "subscribe", "push", "lazy", "scroll", "readmore"] * 4)
    return (f"<script>window.__TN_CONFIG__ = {config};</script>\n"
            f"<script>\n{helpers}\n</script>\n"
            '<script async src="https://www.googletagmanager.com/gtag/js?id=G-TN0000000"></script>\n'
            '<script src="/static/js/app.min.js?v=20260427" defer></script>')


def _critical_css() -> str:
    # Real pages inline a large critical stylesheet; this keeps page sizes realistic for benchmarks.
    blocks = ["header", "nav", "content_main", "content_main_item", "content_main_text", "breadcrumbs",
              "popular", "last_news", "footer", "tn-ad", "pagination", "comment", "share", "tags",
              "tn-tape-item", "tn-news-text", "tn-data-list", "head-single", "video", "gallery"]
    rules = []
    for i, b in enumerate(blocks):
        for j, el in enumerate(["", "__inner", "__title", "__link", "__img", "__meta", "--active",
                                "--mobile", ":hover", " a", " p", " img"]):
            rules.append(f".{b}{el}{{margin:{i % 4 * 4}px {j % 3 * 8}px;padding:{j % 5 * 2}px;"
                         f"font:{14 + j % 4}px/1.{4 + i % 3} Roboto,Arial,sans-serif;"
                         f"color:#{(i * 37 + j * 11) % 999:03d};"
                         f"border-bottom:1px solid #e{j % 10}e{i % 10}e{(i + j) % 10}}}")
    media = "".join(f"@media (max-width:{w}px){{" + "".join(rules[k::9][:12]) + "}" for k, w in
                    enumerate([1200, 992, 768, 576, 420]))
    return "<style>" + "".join(rules) + media + "</style>"


HEADER = ('<header class="header"><div class="container header__inner">'
          '<a class="header__logo" href="/"><img src="/static/img/logo.svg" alt="Tengrinews.kz" '
          'width="180" height="40"></a><div class="header__langs"><a href="https://kaz.tengrinews.kz/">Қаз</a>'
          '<a class="active" href="/">Рус</a><a href="https://en.tengrinews.kz/">Eng</a></div>'
          '<div class="header__currency"><span>USD 511.20</span><span>EUR 553.90</span>'
          '<span>RUB 5.61</span></div><div class="header__weather">Алматы +14 °C</div>'
          '<form class="header__search" action="/search/"><input name="text" placeholder="Поиск">'
          '<button><svg><use href="#icon-search"></use></svg></button></form></div>'
          '<nav class="nav"><ul class="nav__list">'
          + "".join(f'<li><a href="/{k}/">{v}</a></li>' for k, v in SECTIONS.items() if k != "private")
          + '<li><a href="https://tengrisport.kz/">Tengrisport</a></li>'
          '<li><a href="https://tengriauto.kz/">Tengriauto</a></li>'
          '<li><a href="https://tengritravel.kz/">Tengritravel</a></li></ul></nav></header>')

FOOTER = ('<footer class="footer"><div class="container"><div class="footer__cols">'
          + "".join(f'<div class="footer__col"><h4>{title}</h4><ul>'
                    + "".join(f'<li><a href="/{slug}/">{slug.replace("_", " ").title()}</a></li>'
                              for slug in links) + "</ul></div>"
                    for title, links in [("Разделы", list(SECTIONS)[:5]), ("Ещё", list(SECTIONS)[5:9]),
                                         ("О нас", ["about", "advertising", "contacts", "rules"])])
          + '</div><p class="footer__copy">© 2010–2026 Tengrinews.kz. Все права защищены. При полном или '
          'частичном использовании материалов ссылка на Tengrinews.kz обязательна.</p>'
          '<p class="footer__age">18+</p></div></footer>')


def ad(slot: str) -> str:
    return (f'<div class="tn-ad banner" id="tn-ad-{slot}" data-slot="{slot}">'
            '<ins class="adsbygoogle" style="display:block" data-ad-format="auto"></ins></div>')


def page(title: str, canonical: str, head_extra: str, main: str, sidebar: str, tail: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="ru" prefix="og: http://ogp.me/ns#">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} - Tengrinews.kz</title>
<link rel="canonical" href="{canonical}">
<link rel="stylesheet" href="/static/css/app.min.css?v=20260427">
<link rel="icon" href="/favicon.ico">
<link rel="alternate" type="application/rss+xml" title="Tengrinews.kz" href="/news.rss">
{head_extra}
{_critical_css()}
</head>
<body class="page">
{_icons()}
{ad("top")}
{HEADER}
{_mega_menu()}
<main class="container main">
<div class="main__content">
{main}
</div>
<aside class="main__sidebar">
{ad("sidebar-1")}
{sidebar}
{LAST_NEWS[0]}
{ad("sidebar-2")}
</aside>
</main>
{WEEK_BLOCK[0]}
{FOOTER}
{tail}
{_scripts()}
</body>
</html>
"""


# Blocks that are the same on every page (like the real site's), filled in by build():
# the "Последние новости" sidebar and the "Главное за неделю" strip above the footer.
LAST_NEWS = [""]
WEEK_BLOCK = [""]


def last_news(articles: list[dict]) -> str:
    items = "".join(f'<div class="last_news_item"><span class="last_news_time">{a["local"][11:]}</span>'
                    f'<img class="last_news_img" src="/userdata/news/{a["id"]}/thumb.jpg" alt="" '
                    f'loading="lazy" width="80" height="60">'
                    f'<a href="{path_of(a)}">{e(a["title"])}</a></div>' for a in articles)
    return f'<div class="last_news"><h3 class="last_news_title">Последние новости</h3>{items}</div>'


def week_block(articles: list[dict]) -> str:
    cards = "".join(f'<div class="week_card"><a class="week_card_link" href="{path_of(a)}">'
                    f'<img src="/userdata/news/{a["id"]}/main.jpg" alt="" loading="lazy">'
                    f'<span class="week_card_title">{e(a["title"])}</span></a>'
                    f'<div class="week_card_desc">{e(body_lines(a)[0])}</div></div>'
                    for a in articles)
    return f'<section class="week"><div class="container"><h2>Главное за неделю</h2>{cards}</div></section>'


def _mega_menu() -> str:
    # The real header opens a menu with every section's topics (and repeats it for mobile).
    topics = ["Политика", "Экономика", "Общество", "Регионы", "Происшествия", "Здоровье", "Образование",
              "Транспорт", "Экология", "Технологии", "Спецпроекты", "Мнения", "Фото", "Видео"]
    cols = "".join(f'<div class="mega__col"><a class="mega__head" href="/{k}/">{v}</a><ul>'
                   + "".join(f'<li><a href="/{k}/?topic={i}">{t}</a></li>' for i, t in enumerate(topics))
                   + "</ul></div>" for k, v in SECTIONS.items() if k != "private")
    return (f'<div class="mega" hidden>{cols}</div>'
            f'<div class="mobile-menu" hidden><button class="mobile-menu__close">×</button>{cols}</div>')


def sidebar(popular: list[dict]) -> str:
    # Deliberately not the listing markup: discovery must not take these for the day's items.
    items = "".join(f'<li class="popular_item"><a href="{path_of(a)}">{e(a["title"])}</a>'
                    f'<span class="popular_item_views">{1000 + int(a["id"]) % 9000}</span></li>'
                    for a in popular)
    return f'<div class="popular"><h3 class="popular_title">Популярное</h3><ul>{items}</ul></div>'


# ---------------------------------------------------------------- article pages
# ---------------------------------------------------------------- article pages
# Lines inside div.content_main_text that are not the article, in the forms the real pages show them.
# Each returns (markup, the lines a reader sees in it).
WHATSAPP = "Наши новости теперь в WhatsApp! Подписывайтесь на наш канал в самом популярном мессенджере"
TELEGRAM = "Самые важные новости — в нашем Telegram-канале. Подписывайтесь!"


def _img(a: dict, n: int) -> str:
    return f'<img src="{ORIGIN}/userdata/u{a["id"] % 400}/{a["local"][:7]}/resize/{a["id"]}_{n}.jpeg" alt="">'


def noise_html(a: dict, item: dict, n: int) -> tuple[str, list[str]]:
    kind, text = item["kind"], item.get("text", "")
    if kind == "photo":          # a picture with its credit under a line break
        return f"<p>{_img(a, n)}<br><em>{e(text)}</em></p>", [text]
    if kind == "credit":         # a credit paragraph of its own: "Фото: …", "Видео: …"
        return f"<p><em>{e(text)}</em></p>", [text]
    if kind == "text_by":        # "Текст подготовил: <strong>Name</strong>."
        return f"<p>{e(text)}: <strong>{e(item['name'])}</strong>.</p>", [f"{text}: {item['name']}."]
    if kind == "text_and_photo":  # "Текст подготовил: A. <br>Фото: B."
        return (f"<p>Текст подготовил: {e(item['name'])}. <br>Фото: {e(item['photo'])}.</p>",
                [f"Текст подготовил: {item['name']}.", f"Фото: {item['photo']}."])
    if kind == "readalso":
        return (f'<p>Читайте также: <a href="{item["href"]}">{e(item["title"])}</a></p>',
                [f"Читайте также: {item['title']}"])
    if kind == "special":        # a special project's footer
        return (f'<p><em><strong>Другие статьи спецпроекта "{e(text)}" <a href="{ORIGIN}/tag/'
                f'{e(text.lower().replace(" ", "_"))}/">читайте по ссылке</a></strong></em>. </p>',
                [f'Другие статьи спецпроекта "{text}" читайте по ссылке.'])
    if kind == "whatsapp":
        return (f'<p><a href="https://whatsapp.com/channel/0029VaReplica">{WHATSAPP}</a></p>', [WHATSAPP])
    if kind == "telegram":
        return f"<p><strong>{TELEGRAM}</strong></p>", [TELEGRAM]
    if kind == "instagram":
        link = f"https://www.instagram.com/p/{item['post']}/?utm_source=ig_embed&amp;utm_campaign=loading"
        by = f"Публикация от {item['name']} (@{item['handle']})"
        return (f'<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="{link}" '
                f'data-instgrm-version="14" style="background:#FFF; border:0; max-width:540px;">'
                '<div style="padding:16px;"><div style="display:flex;"><div style="height:40px; width:40px;">'
                '</div></div><div style="padding:19% 0;"></div><div style="padding-top:8px;">'
                '<div style="color:#3897f0; font-weight:550;">Посмотреть эту публикацию в Instagram</div></div>'
                f'<p style="margin-top:8px;"><a href="{link}" target="_blank">{e(by)}</a></p></div></blockquote>',
                ["Посмотреть эту публикацию в Instagram", by])
    if kind == "tiktok":
        tags = " ".join(f'<a href="https://www.tiktok.com/tag/{t}?refer=embed" title="{t}">#{e(t)}</a>'
                        for t in item["tags"])
        sound = f"♬ оригинальный звук - {item['handle']}"
        return (f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@{item["handle"]}/video/{item["video"]}"'
                f' data-video-id="{item["video"]}" style="max-width:605px; min-width:325px;"><section>'
                f'<a href="https://www.tiktok.com/@{item["handle"]}?refer=embed" title="@{item["handle"]}">'
                f'@{item["handle"]}</a> {tags} <a href="https://www.tiktok.com/music/sound-{item["video"]}'
                f'?refer=embed" title="{e(sound)}">{e(sound)}</a></section></blockquote>',
                [f"@{item['handle']} " + " ".join(f"#{t}" for t in item["tags"]) + f" {sound}",
                 f"@{item['handle']}", sound])
    if kind == "inpage_ad":      # the advertising slot the site puts inside the text
        return ('<!--Тип баннера: [Tengrinews] [Desktop] InPage-->\n'
                f'<div id="adfox_inpage_{a["id"]}"></div>\n<script>\n    if(window.innerWidth>480) {{\n'
                '        window.yaContextCb.push(() => { Ya.adfoxCode.createAdaptive({ownerId: 1472290, '
                f"containerId: 'adfox_inpage_{a['id']}', params: {{pp: 'g', ps: 'gpgt', p2: 'hgom'}}}}) }});\n"
                "    }\n</script>", [])
    if kind == "image":          # a picture alone in a paragraph: no line
        return f"<p>{_img(a, n)}</p>", []
    if kind == "empty":
        return "<p></p>", []
    raise ValueError(f"{a['id']}: unknown noise kind {kind!r}")


PR_MARKERS = {"pr": "PR", "ad": "Рекламный материал"}


def pr_html(a: dict) -> tuple[str, list[str]]:
    """The PR marker after the text (div.tn-pr), when the article is paid for."""
    pr = a.get("pr")
    if not pr:
        return "", []
    if pr in PR_MARKERS:
        text = PR_MARKERS[pr]
        inner = f"<strong>{text}</strong>" if pr == "pr" else f"\n                    {text}            \n    "
        return f'<div class="tn-pr tn-pr-{1 if pr == "ad" else 3}">\n{inner}\n</div>', [text]
    text = f"Материал предоставлен {pr}"
    return f'<div class="tn-pr tn-pr-3">\n<strong>{e(text)}</strong>\n</div>', [text]


def text_html(a: dict) -> tuple[str, list[str]]:
    """div.content_main_text's article part (the lead repeated first, as on the real pages) and its noise."""
    parts = [f"<p>{p[0]}</p>" if tag == "p" and len(p) == 1
             else f"<p>{'<br>'.join(p)}</p>" if tag == "p"
             else f"<blockquote>\n<p>{p[0]}</p>\n</blockquote>" if tag == "blockquote"
             else f"<{tag}>{p[0]}</{tag}>" if tag in ("h2", "h3")
             else f"<{tag}>\n" + "\n".join(f"<li>{x}</li>" for x in p) + f"\n</{tag}>"
             for tag, p in blocks(a)]
    if a.get("lead"):
        parts.insert(0, f"<p>{a['lead']}</p>")
    noise_lines: list[str] = []
    # Inserted from the end so that every "at" counts article blocks (the lead included).
    for n, item in sorted(enumerate(a.get("noise") or []), key=lambda x: -x[1].get("at", 10**6)):
        markup, lines = noise_html(a, item, n)
        at = item.get("at", len(parts))
        parts.insert(at if at >= 0 else len(parts) + 1 + at, markup)
        noise_lines += lines
    return "\n".join(parts), noise_lines


def older_body_html(a: dict) -> tuple[str, list[str]]:
    """The older generation's text: paragraphs with its own kinds of boilerplate (tn-related-news, tn-inpage)."""
    html_text, noise_lines = text_html(a)
    extras = a.get("extras") or {}
    if "readalso_block" in extras:
        html_text += (f'\n<div class="tn-related-news"><p class="readalso_title">Читайте также</p>'
                      f'<p><a href="{extras["readalso_block"]["href"]}">'
                      f'{e(extras["readalso_block"]["title"])}</a></p></div>')
    if extras.get("inpage_ad"):
        html_text = html_text.replace("</p>\n", '</p>\n<div class="tn-inpage"><p>Реклама</p>'
                                      '<div class="tn-ad" data-slot="inpage"></div></div>\n', 1)
    return html_text, noise_lines + (["Реклама"] if extras.get("inpage_ad") else [])


def _author_id(name: str) -> int:
    return 100 + sum(map(ord, name)) % 300


def author_block(a: dict) -> str:
    """div.content_main_meta_author: one item per person, the name in a link, the role after it."""
    items = "".join(
        f"""
                                                            <div class="content_main_meta_author_item">
                                    <div class="content_main_meta_author_item_photo">
                                        <img src="/userdata/user/{_author_id(name):032x}.jpeg">
                                    </div>
                                    <span class="content_main_meta_author_item_name">
                                    <a href="/author/{_author_id(name)}/">{e(name)}</a>
                                                                                {role}
                                                                        </span>
                                </div>"""
        for name, role in zip(authors_of(a), a.get("roles") or ["Корреспондент"] * 9, strict=False))
    return f'<div class="content_main_meta_author">{items}\n                                                    </div>'


def head_current(a: dict, url: str) -> str:
    """The head of a current page: OpenGraph, the organization as meta author, a constant +05:00."""
    if a.get("declared") == "none":
        return f'<meta name="description" content="{e(body_lines(a)[0][:200])}">'
    image = f"{ORIGIN}/userdata/{a['kind']}/{a['local'][:4]}/{a['kind']}_{a['id']}/resize/photo_{a['id']}.jpeg"
    tags = "".join(f'\n                        <meta name="article:tag" content="{e(t)}">' for t in a.get("tags") or [])
    return f"""<meta property="og:title" content="{e(a['title'])}">
<meta name="twitter:title" content="{e(a['title'])}">
<meta property="og:type" content="article">
<meta property="og:updated_time" content="{declared(a, '+05:00')}">
<meta name="author" content="tengrinews.kz">
<meta property="og:image" content="{image}">
<meta name="article:published_time" property="article:published_time"
      content="{declared(a, '+05:00')}">
<meta name="article:modified_time" content="{declared(a, '+05:00')}">
<meta name="article:publisher" content="https://www.facebook.com/Tengrinews.kz/">
<meta name="article:author" content="https://www.facebook.com/Tengrinews.kz/">
<meta name="article:section" content="Новости">{tags}
<meta name="description" content="{e(body_lines(a)[0][:200])}">
<meta property="og:site_name" content="Главные новости Казахстана - Tengrinews.kz">
<meta property="og:url" content="{url}">
<meta property="og:locale" content="ru_RU">
<link href="{url}amp/" rel="amphtml">"""


def jsonld_current(a: dict, url: str) -> str:
    """The JSON-LD at the end of a current page: a constant +06:00; the organization when no person is named."""
    if a.get("declared") == "none":
        return ""
    people = [{"@type": "Person", "name": n, "url": f"{ORIGIN}/author/{_author_id(n)}/"} for n in authors_of(a)]
    data = {"@context": "http://schema.org", "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": url}, "headline": a["title"],
            "image": {"@type": "ImageObject", "url": f"{ORIGIN}/userdata/{a['kind']}/{a['id']}/thumb_m.jpeg",
                      "height": 800, "width": 450},
            "datePublished": declared(a, "+06:00"), "dateModified": declared(a, "+06:00"),
            "author": people or {"@type": "Organization", "name": "Tengrinews.kz", "url": ORIGIN + "/"},
            "publisher": {"@type": "Organization", "name": "Tengrinews.kz",
                          "logo": {"@type": "ImageObject", "url": ORIGIN + "/img/tn-logo.png"}},
            "description": body_lines(a)[0][:200]}
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "item": {"@id": ORIGIN + "/", "name": "Главная"}},
        {"@type": "ListItem", "position": 2, "item": {"@id": f"{ORIGIN}/{a['section']}/",
                                                      "name": SECTIONS[a["section"]]}}]}
    return ('<script type="application/ld+json">\n        ' + json.dumps(data).replace("/", "\\/")
            + '\n    </script>\n    <script type="application/ld+json">\n                    '
            + json.dumps(crumbs).replace("/", "\\/") + "\n            </script>")


def structured_older(a: dict) -> str:
    """The older pages' head: JSON-LD / OpenGraph when the data says so, with the tz database's offset."""
    url = ORIGIN + path_of(a)
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Главная", "item": ORIGIN + "/"},
        {"@type": "ListItem", "position": 2, "name": SECTIONS[a["section"]], "item": f"{ORIGIN}/{a['section']}/"}]}
    out = [f'<script type="application/ld+json">{json.dumps(crumbs, ensure_ascii=False)}</script>']
    if a.get("jsonld"):
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "mainEntityOfPage": url,
                "headline": a["title"], "datePublished": iso_local(a), "dateModified": iso_local(a),
                "publisher": {"@type": "Organization", "name": "Tengrinews.kz"}}
        if authors_of(a):
            data["author"] = {"@type": "Person", "name": authors_of(a)[0]}
        out.append(f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>')
    if a.get("og"):
        out += [f'<meta property="og:title" content="{e(a["title"])}">',
                '<meta property="og:type" content="article">', f'<meta property="og:url" content="{url}">',
                f'<meta property="article:published_time" content="{iso_local(a)}">']
    out.append(f'<meta name="description" content="{e(body_lines(a)[0][:200])}">')
    return "\n".join(out)


def tags_html(a: dict) -> str:
    return ('<div id="comm" class="content_main_text_tags">'
            + "".join(f'\n    <span><a href="/tag/{e(t.lower())}/">{e(t)}</a></span>' for t in a.get("tags") or [])
            + "\n</div>")


def older_tags_html(a: dict) -> str:
    return '<div class="tn-tags">' + "".join(f'<a href="/tag/{e(t.lower())}/">{e(t)}</a>'
                                             for t in a.get("tags") or []) + "</div>"


def share_html(cls: str, a: dict) -> str:
    return (f'<div class="{cls}" data-id="{a["id"]}" data-type="{a["kind"]}">'
            + "".join(f'\n    <img src="/edu/img/social-{n}.svg" onclick="window.Shared(this)" data-link="{n}">'
                      for n in ["wa", "tg", "fb", "vk", "x"]) + "\n</div>")


def comments_html(a: dict, cls: str) -> str:
    comments = a.get("comments") or []
    return (f'<div class="{cls}"><h3>Комментарии ({len(comments)})</h3>'
            + "".join(f'<div class="comment"><span class="comment__author">{e(c["who"])}</span>'
                      f'<p class="comment__text">{e(c["text"])}</p></div>' for c in comments) + "</div>")


def related_html(others: list[dict], cls: str, title: str) -> str:
    return (f'<div class="{cls}"><h3>{title}</h3>'
            + "".join(f'<div class="related_item"><a href="{path_of(o)}">{e(o["title"])}</a></div>'
                      for o in others) + "</div>")


def current_main(a: dict, others: list[dict], date_text: str) -> tuple[str, list[str]]:
    text, noise_lines = text_html(a)
    pr, pr_lines = pr_html(a)
    thumb_credit = a.get("thumb_credit", "Фото ©️ Tengrinews.kz")
    lead = f'<h2 class="content_main_desc"><p>{a["lead"]}</p></h2>' if a.get("lead") else ""
    main = f"""<section class="first">


    <div class="date-time">{date_text}</div>

    <h1 class="head-single">{e(a['title'])}</h1>

    <div class="content single">

        <div class="content_main">

            <div class="content_main_meta">

                                                            {author_block(a) if authors_of(a) else ""}
                                                    <div class="content_main_meta_stat">
                    <span class="content_main_meta_stat_view"><img src="/tengri_new/img/circle-viewings.svg">
                        <span class="tn-text-preloader-dark" data-views="" data-id="{a['id']}" data-type="{a['kind']}"></span>
                    </span>
                    <span class="content_main_meta_stat_top" onclick="showTopSocial(this)">
                        <div class="content_main_meta_share" data-id="{a['id']}" data-type="{a['kind']}">
                            <p>ПОДЕЛИТЬСЯ</p>
                        </div>
                    </span>
                </div>
            </div>

            <div class="content_main_thumb">
                    <picture class="content_main_thumb_img">
                        <img src="/userdata/{a['kind']}/{a['local'][:4]}/{a['kind']}_{a['id']}/thumb_b/photo_{a['id']}.jpeg" alt="{e(thumb_credit)}">
                    </picture>
                <span class="content_main_thumb_alt">{e(thumb_credit)}</span>
            </div>

                        {lead}

            <div class="content_main_inner">
                {share_html("content_main_share", a)}
                <div class="content_main_text">

                                        {text}

                    <div class="content_main_text_source"></div>
{pr}
                    {tags_html(a)}
                    <div data-link="" data-id="{a['id']}" data-model="{a['kind']}"></div>
                    <tn-comments-new-component :id="'{a['id']}'" :type="'{a['kind']}'" :lang="'ru'"></tn-comments-new-component>
                </div>
            </div>
        </div>

        <div class="content_sidebar">
            {ad("left-240x400")}
            {related_html(others[:4], "content_main_readalso", "Читайте также")}
        </div>
    </div>
</section>
{related_html(others[4:8], "tn-discussed-now-block", "Обсуждаемое сейчас")}"""
    return main, noise_lines + pr_lines


def older_main(a: dict, others: list[dict], date_text: str) -> tuple[str, list[str]]:
    authors = authors_of(a)
    author_li = (f'<li class="tn-author">Автор: <a rel="author" href="#">{e(authors[0])}</a></li>'
                 if authors else "")
    container = "div" if a.get("div_container") else "article"
    text, noise_lines = older_body_html(a)
    main = f"""<div class="tn-article">
<ul class="tn-breadcrumbs"><li><a href="/">Главная</a></li>
<li><a href="/{a['section']}/">{SECTIONS[a['section']]}</a></li></ul>
<h1 class="tn-content-title">{e(a['title'])} <span class="tn-hidden">{date_text}</span></h1>
<ul class="tn-data-list"><li><time>{date_text}</time></li>{author_li}
<li class="tn-views"><svg><use href="#icon-eye"></use></svg> {2000 + int(a['id']) % 7000}</li></ul>
{ad("article-top")}
<div class="tn-news-content">
<{container} class="tn-news-text">
{text}
</{container}>
{related_html(others[:3], "tn-related-news", "Похожие новости")}
{related_html(others[3:6], "tn-recommendations", "Рекомендуем")}
</div>
{older_tags_html(a)}
{share_html("tn-share", a)}
{related_html(others[6:9], "tn-discussed-now-block", "Обсуждаемое сейчас")}
{comments_html(a, "tn-comments")}
</div>"""
    return main, noise_lines


def article_page(a: dict, others: list[dict]) -> tuple[str, list[str]]:
    """The page and the noise lines it shows inside the article's text block."""
    url = ORIGIN + path_of(a)
    older = a["markup"] == "older"
    date_text = a.get("date_text") or shown_date(local_time(a), older=older)
    if older:
        main, noise_lines = older_main(a, others, date_text)
        head, tail = structured_older(a), ""
    else:
        main, noise_lines = current_main(a, others, date_text)
        head, tail = head_current(a, url), jsonld_current(a, url)
    if a.get("encoding") == "cp1251-meta":
        head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">\n' + head
    text = page(a["title"], url, head, main, sidebar(others[:6]), tail)
    if a.get("encoding", "").startswith("cp1251"):
        # These pages declare no UTF-8: drop the generic <meta charset="utf-8">.
        text = text.replace('<meta charset="utf-8">\n', "")
        if a["encoding"] == "cp1251-wrong-header":
            text = text.replace("<head>\n", '<head>\n<meta charset="windows-1251">\n', 1)
    return text, noise_lines


# ---------------------------------------------------------------- listings and feeds
def listing_item(item: dict, older: bool) -> str:
    if older:  # the older list's items; div.tn-tape-item is its sidebar strip of other news
        return f"""<div class="tn-news-author-list-item">
<div class="tn-news-author-list-item-image"><div class="tn-image-container">
<img src="/static/img/placeholder.jpg" alt=""></div></div>
<div class="tn-news-author-list-item-text">
<span class="tn-news-author-list-title">{e(item["title"])}</span>
<p class="tn-announce">{e(item.get("announce", ""))}</p>
<ul class="tn-data-list">
<li>
<time>{item["date"]}</time>
</li>
<li><i class="tn-icon-eye-dark"></i><span class="tn-text-preloader-dark" data-views=""></span></li>
</ul>                                <a class="tn-link" href="{e(item["href"])}"><span
class="tn-hidden">{e(item["title"])}</span></a>
</div>
</div>"""
    return f"""                                                <div class="content_main_item">
                        <a href="{e(item["href"])}">
                            <picture>
                                <img class="content_main_item_img" src="/static/img/placeholder.jpg">
                            </picture>
                        </a>
                        <span class="content_main_item_title">
                            <a href="{e(item["href"])}">{e(item["title"])}</a>
                        </span>
                        <span class="content_main_item_announce">{e(item.get("announce", ""))}</span>
                        <div class="content_main_item_meta">
                            <span>
            <time>{item["date"]}</time>
        </span>
<span>
    <span class="content_item_meta_viewings">
        <img src="/tengri_new/img/viewings-white.svg">
        <span class="tn-text-preloader-dark" data-views=""></span>
    </span>
</span>
                        </div>
                    </div>"""


def page_window(current: int, total: int) -> list[int | None]:
    """The page numbers a listing shows (None: "•"), as the real listings do: the first five while
    near the start, else the first two, three either side of the current page, and the last."""
    if total <= 7:
        return list(range(1, total + 1))
    if current <= 4:
        return [*range(1, 6), None, total]
    if current >= total - 3:
        return [1, 2, None, *range(total - 4, total + 1)]
    return [1, 2, None, *range(current - 3, current + 4), None, total]


def pagination(base: str, current: int, total: int) -> str:
    """ul.pagination > li.page-item > a.page-link: previous, the window, "•", the last page, next."""
    if total < 2:
        return ""

    def link(n: int) -> str:
        return base if n == 1 else f"{base}page/{n}/"

    def item(inner: str, href: str | None, active: bool = False) -> str:
        cls = "page-item active" if active else "page-item"
        body = f'<a class="page-link" href="{href}">{inner}</a>' if href else f'<span class="page-link">{inner}</span>'
        return f'\n                    <li class="{cls}" >{body}</li>'

    prev_icon, next_icon = '<img src="/tengri_new/img/paginate-last.svg">', '<img src="/tengri_new/img/paginate-next.svg">'
    items = [item(prev_icon, link(current - 1) if current > 1 else None)]
    for n in page_window(current, total):
        items.append(item("•", None) if n is None else item(str(n), None if n == current else link(n), n == current))
    if current < total:
        items.append(f'\n                    <li class="page-item">\n                <a class="page-link" '
                     f'href="{link(current + 1)}">\n                    <span>{next_icon}</span>\n'
                     '                </a>\n            </li>')
    return '\n    <ul class="pagination">' + "".join(items) + "\n            </ul>"


def older_pagination(base: str, current: int, total: int) -> str:
    """ul.tn-pagination: Назад, the numbers (li.tn-active the current one), "..", the last two, Вперед."""
    if total < 2:
        return ""

    def link(n: int) -> str:
        return base if n == 1 else f"{base}page/{n}/"

    shown = list(range(1, total + 1)) if total <= 10 else [*range(1, 9), None, total - 1, total]
    back = (f'<li><a href="{link(current - 1)}"><i class="tn-icon-arrow-left-dark"></i><span class="tn-visible@m">'
            'Назад</span></a></li>' if current > 1 else
            '<li><span><i class="tn-icon-arrow-left-dark"></i><span class="tn-visible@m">Назад</span></span></li>')
    items = [back] + ['<li><span>..</span></li>' if n is None
                      else f'<li class="tn-active"><span>{n}</span></li>' if n == current
                      else f'<li><a href="{link(n)}">{n}</a></li>' for n in shown]
    if current < total:
        items.append(f'<li><a href="{link(current + 1)}"><span class="tn-visible@m">Вперед</span> '
                     '<i class="tn-icon-arrow-right-dark"></i></a></li>')
    return '<ul class="tn-pagination">\n' + "\n".join(items) + "\n</ul>"


def tape(items: list[dict]) -> str:
    """The older pages' strip of latest news from other days (div.tn-tape-item): never the listing."""
    cells = "".join(f"""<div class="tn-tape-item    ">
<a href="{path_of(a)}" class="tn-tape-title">{e(a["title"])}</a>
<ul class="tn-data-list">
<li>
<time>{shown_date(local_time(a), older=True)}</time>
</li>
</ul>
</div>                                                                            """ for a in items)
    return (f'<div class="tn-tape-container"><div class="tn-tape-header"><label for="top_news" class="top_news">'
            f'Главные новости</label></div>\n<div class="tn-tape-grid">\n<div class="tn-all_news tn-active">\n'
            f"{cells}\n</div>\n</div>\n</div>")


def listing_pages(base: str, heading: str, items: list[dict], older: bool, popular: list[dict],
                  strip: list[dict] | None = None) -> dict[str, str]:
    chunks = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    pages = {}
    for n, chunk in enumerate(chunks, 1):
        path = base if n == 1 else f"{base}page/{n}/"
        if older:
            main = (f'<h1 class="tn-section-title">{e(heading)}</h1>\n<div class="tn-news-author-grid">\n'
                    '<div class="tn-news-author-list">\n' + "\n".join(listing_item(it, True) for it in chunk)
                    + "\n</div>\n" + older_pagination(base, n, len(chunks)) + "\n</div>\n" + tape(strip or []))
        else:
            main = (f'<h1 class="head-list">{e(heading)}</h1>{ad("list-top")}\n    <div class="content articles">\n'
                    '\n        <div class="content_main">\n\n' + "\n".join(listing_item(it, False) for it in chunk)
                    + "\n        </div>\n    </div>" + pagination(base, n, len(chunks)))
        pages[path] = page(heading, ORIGIN + path, "", main, sidebar(popular))
    return pages
def rss(items: list[dict], title: str = "Tengrinews.kz", doctype: str = "", extra: str = "") -> str:
    entries = "".join(f"""
<item>
<title>{e(i['title'])}</title>
<link>{e(i['href'])}</link>
<guid isPermaLink="false">{i['id']}</guid>
<pubDate>{i['pubdate']}</pubDate>
<category>{i['category']}</category>
<description><![CDATA[{i['desc']}]]></description>
</item>""" for i in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
{doctype}<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{title}</title>
<link>https://tengrinews.kz/</link>
<description>Главные новости Казахстана и мира</description>
<language>ru</language>
<atom:link href="https://tengrinews.kz/news.rss" rel="self" type="application/rss+xml"/>{extra}{entries}
</channel>
</rss>
"""


def _own_host(href: str) -> bool:
    return href.startswith("/") or href.split("/")[2] in ("tengrinews.kz", "www.tengrinews.kz")


def rss_item(a: dict, href: str | None = None) -> dict:
    return {"title": a["title"], "href": href or ORIGIN + path_of(a), "id": a["id"],
            "pubdate": format_datetime(datetime.fromisoformat(iso_local(a))),
            "category": SECTIONS[a["section"]], "desc": body_lines(a)[0]}


BILLION_LAUGHS = ('<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
                  + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
                            for n in range(1, 10)) + "]>\n")
XXE = '<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'


# ---------------------------------------------------------------- the long reads' listing
# /article/ lists every long read, newest first. Besides the replica's own long reads it shows older
# ones that the replica does not serve (a title and a date are all a listing needs), so that the
# listing has the real one's length and pagination, and so that discovery for any replica day stops
# after at most three of its pages: its page 2 is dated before 2023-03-14, its page 3 before 2019-11-05.
ARCHIVE_TOPICS = ["Как живут", "Что происходит с", "Почему дорожают", "Кто строит", "Куда исчезают",
                  "Зачем нужны", "Сколько стоит", "Чем опасны", "Как изменились", "Что ждет"]
ARCHIVE_SUBJECTS = ["сельские школы", "горные дороги", "арендные квартиры", "малые города",
                    "степные заповедники", "частные клиники", "старые трамваи", "семейные фермы",
                    "городские парки", "молодые врачи", "рыбаки Арала", "ремесленники Туркестана",
                    "дачные поселки", "театры областей", "угольные шахты", "горнолыжные курорты",
                    "пригородные электрички", "приюты для животных"]


def archive_long_reads(after_id: int) -> list[dict]:
    """Older long reads, newest first, dated so that the listing's pages 2 and 3 start where needed."""
    spans = [(datetime(2024, 2, 27, 11), datetime(2023, 4, 3, 11), 17),     # the rest of page 1
             (datetime(2023, 3, 12, 11), datetime(2019, 11, 8, 11), 20),     # page 2
             (datetime(2019, 11, 2, 11), datetime(2018, 3, 1, 11), 140)]     # pages 3-9
    out, number = [], after_id
    for newest, oldest, count in spans:
        step = (newest - oldest) / max(count - 1, 1)
        for i in range(count):
            number -= 1
            when = newest - step * i
            topic = ARCHIVE_TOPICS[number % len(ARCHIVE_TOPICS)]
            subject = ARCHIVE_SUBJECTS[(number // len(ARCHIVE_TOPICS)) % len(ARCHIVE_SUBJECTS)]
            out.append({"href": f"/article/arhiv-{number}/", "title": f"{topic} {subject}",
                        "date": shown_date(when.replace(tzinfo=ALMATY))})
    return out


def expected_record(a: dict, noise_lines: list[str]) -> dict:
    """What the page visibly shows, the way a reader takes it (the same terms as the real set's expected.json)."""
    return {"title": a["title"], "published_at": published_utc(a), "author": ", ".join(authors_of(a)),
            "body_lines": body_lines(a), "noise_lines": noise_lines, "local": a["local"],
            "file": path_of(a).strip("/") + "/index.html"}


# ---------------------------------------------------------------- the whole site
def build(site: Path = SITE) -> None:
    data = yaml.safe_load((HERE / "articles.yaml").read_text(encoding="utf-8"))
    articles: list[dict] = data["articles"]
    for a in articles:
        a["kind"] = "article" if a["section"] == "article" else "news"
    by_id = {(a["kind"], a["id"]): a for a in articles}
    if site.exists():
        shutil.rmtree(site)
    files: dict[str, str | bytes] = {}
    redirects: dict[str, str] = {}
    expected: dict[str, dict] = {}
    listed = [a for a in articles if not a.get("unlisted")]
    newest = sorted(listed, key=local_time, reverse=True)
    news = [a for a in newest if a["kind"] == "news"]
    LAST_NEWS[0] = last_news(news[:30])
    WEEK_BLOCK[0] = week_block(newest[:12])

    for n, a in enumerate(articles):
        others = [o for o in listed[n + 1:] + listed[:n] if o is not a][:9]
        text, noise_lines = article_page(a, others)
        encoding = "cp1251" if a.get("encoding", "").startswith("cp1251") else "utf-8"
        files[path_of(a)] = text.encode(encoding, errors="xmlcharrefreplace")
        expected[ORIGIN + path_of(a)] = expected_record(a, noise_lines)
        for section in a.get("also_sections") or []:
            redirects[path_of(a, section)] = path_of(a)

    manifest: dict = {"origin": ORIGIN, "page_size": PAGE_SIZE, "days": {}, "feeds": {}}
    for day, conf in data["days"].items():
        day = str(day)
        older = conf.get("markup") == "older"
        extras = conf.get("extra") or []
        own = [a for a in news if a["local"].startswith(day)]
        long_reads = [a for a in newest if a["kind"] == "article" and a["local"].startswith(day)]
        items = [{"href": path_of(a), "title": a["title"], "announce": body_lines(a)[0][:160],
                  "date": shown_date(local_time(a), older)} for a in own]
        for extra in extras:
            items.insert(extra["at"], {"href": extra["href"], "title": extra["title"],
                                       "date": shown_date(datetime.fromisoformat(f"{day} 12:00"), older)})
        y, m, d = day.split("-")
        base = f"/news/{y}/{m}/{d}/"
        strip = [a for a in news if not a["local"].startswith(day)][:12]  # other days' latest news
        pages = listing_pages(base, f"Новости за {int(d)} {MONTHS[int(m) - 1]} {y}", items, older,
                              own[:5], strip)
        files.update(pages)
        loaded = [a for a in own + long_reads if a.get("expect", "loaded") == "loaded"]
        manifest["days"][day] = {
            "archive_pages": list(pages),
            "listed_hrefs": [it["href"] for it in items],
            "expected_loaded": [ORIGIN + path_of(a) for a in loaded],
            "long_reads": [ORIGIN + path_of(a) for a in long_reads],
            "expected_not_loaded": [{"url": ORIGIN + path_of(a), "fault": a["fault"], "expect": a["expect"]}
                                    for a in own if a.get("expect", "loaded") != "loaded"]
                                   + [{"url": ORIGIN + x["href"], "fault": x["fault"], "expect": x["expect"]}
                                      for x in extras if x.get("fault")],
            "faults_that_still_load": {ORIGIN + path_of(a): a["fault"] for a in own
                                       if a.get("fault") and a.get("expect", "loaded") == "loaded"},
            # Same article again (other section, www., tracking parameters): one entry per id.
            "duplicate_hrefs": [x["href"] for x in extras if not x.get("fault") and _own_host(x["href"])],
            "other_site_hrefs": [x["href"] for x in extras if not _own_host(x["href"])],
            "notes": conf.get("notes", ""),
        }

    feed_articles = [by_id[("news", i)] for i in data["feed"]]
    latest = [{"href": path_of(a), "title": a["title"], "announce": body_lines(a)[0][:160],
               "date": shown_date(local_time(a))} for a in news[:45]]
    files.update(listing_pages("/news/", "Последние новости", latest, False, news[:5]))
    own_long_reads = [a for a in newest if a["kind"] == "article"]
    long_read_items = [{"href": path_of(a), "title": a["title"], "announce": body_lines(a)[0][:160],
                        "date": shown_date(local_time(a))} for a in own_long_reads]
    long_read_items += archive_long_reads(min(a["id"] for a in own_long_reads))
    files.update(listing_pages("/article/", "Статьи", long_read_items, False, news[:5]))
    feed_items = [rss_item(a) for a in feed_articles]
    feed_items[1]["href"] += "?utm_source=rss&utm_medium=feed"
    files["/news.rss"] = rss(feed_items)
    files["/rss/billion-laughs.rss"] = rss(feed_items[:2], title="&lol9;", doctype=BILLION_LAUGHS)
    files["/rss/xxe.rss"] = rss(feed_items[:2], doctype=XXE, extra="\n<copyright>&xxe;</copyright>")
    manifest["feeds"] = {
        "/news.rss": {"expected_loaded": [ORIGIN + path_of(a) for a in feed_articles]},
        "/rss/billion-laughs.rss": {"expect": "rejected", "fault": "entity_expansion"},
        "/rss/xxe.rss": {"expect": "rejected", "fault": "external_entity"},
    }
    files["/robots.txt"] = data["robots"]
    files["/index.html"] = listing_pages("/", "Главные новости", latest[:20], False, news[:5])["/"]
    files["/_redirects.json"] = json.dumps(redirects, indent=1, sort_keys=True)
    files["/manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1)
    files["/expected.json"] = json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True)

    for path, content in files.items():
        target = site / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


if __name__ == "__main__":
    build()
    print(f"built {sum(1 for p in SITE.rglob('*') if p.is_file())} files in {SITE}")
