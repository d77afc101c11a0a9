"""Render the replica's files in ``site/`` from the hand-written ``articles.yaml``.

Run ``.venv/bin/python -m devtools.replica.build_site`` after editing the data;
both this script and its output are committed, so the server only serves files.
The article texts are our own prose (except the one real sample article); the
expected parse results live, written by hand, in tests/replica_expected.py.
"""

from __future__ import annotations

import html
import json
import shutil
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

HERE = Path(__file__).parent
SITE = HERE / "site"
ALMATY = ZoneInfo("Asia/Almaty")
ORIGIN = "https://tengrinews.kz"
PAGE_SIZE = 10
MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря"]
SECTIONS = {"kazakhstan_news": "Казахстан", "world_news": "Мир", "crime": "Происшествия",
            "events": "События", "internet": "Интернет", "science": "Наука", "market": "Бизнес",
            "culture": "Культура", "sport": "Спорт", "private": "Служебное"}
PROMOS = {
    "whatsapp": "Наши новости теперь в WhatsApp! Подписывайтесь на канал Tengrinews.kz, "
                "чтобы первыми узнавать главное.",
    "telegram": "Самые важные новости — в нашем Telegram-канале. Подписывайтесь!",
}
e = html.escape


def local_time(article: dict) -> datetime:
    # fold=0: in the repeated hour of 2024-02-29 the first (UTC+6) occurrence, like news_etl.dates.
    return datetime.strptime(article["local"], "%Y-%m-%d %H:%M").replace(tzinfo=ALMATY)


def iso_local(article: dict) -> str:
    """ISO time with the offset the page states (``offset`` in the data overrides the tz database)."""
    when = local_time(article)
    if article.get("offset"):
        return when.strftime("%Y-%m-%dT%H:%M:%S") + article["offset"]
    return when.isoformat()


def shown_date(when: datetime, older: bool = False) -> str:
    day = f"{when.day} {MONTHS[when.month - 1]} {when.year}"
    return f"{day}, {when:%H:%M}" if older else f"{day} {when:%H:%M}"


def path_of(article: dict, section: str | None = None) -> str:
    return f"/{section or article['section']}/{article['slug']}-{article['id']}/"


def paragraphs(article: dict) -> list[str]:
    return [" ".join(p.split()).replace("{nbsp}", "&nbsp;")
            for p in article["body"].strip().split("\n\n")]


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


def page(title: str, canonical: str, head_extra: str, main: str, sidebar: str) -> str:
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
                    f'<div class="week_card_desc">{a.get("lead") or paragraphs(a)[0]}</div></div>'
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
def structured_data(a: dict) -> str:
    url = ORIGIN + path_of(a)
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Главная", "item": ORIGIN + "/"},
        {"@type": "ListItem", "position": 2, "name": SECTIONS[a["section"]],
         "item": f"{ORIGIN}/{a['section']}/"}]}
    out = [f'<script type="application/ld+json">{json.dumps(crumbs, ensure_ascii=False)}</script>']
    if a.get("jsonld"):
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "mainEntityOfPage": url,
                "headline": a["title"], "datePublished": iso_local(a), "dateModified": iso_local(a),
                "image": [f"{ORIGIN}/userdata/news/{a['id']}/main.jpg"],
                "publisher": {"@type": "Organization", "name": "Tengrinews.kz",
                              "logo": {"@type": "ImageObject", "url": ORIGIN + "/static/img/logo.png"}}}
        if a.get("author"):
            data["author"] = {"@type": "Person", "name": a["author"]}
        out.append(f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False, indent=1)}'
                   "</script>")
    if a.get("og"):
        out += [f'<meta property="og:title" content="{e(a["title"])}">',
                '<meta property="og:type" content="article">',
                f'<meta property="og:url" content="{url}">',
                f'<meta property="og:image" content="{ORIGIN}/userdata/news/{a["id"]}/main.jpg">',
                f'<meta property="article:published_time" content="{iso_local(a)}">',
                f'<meta property="article:section" content="{SECTIONS[a["section"]]}">']
        if a.get("author"):
            out.append(f'<meta name="author" content="{e(a["author"])}">')
    out.append('<meta property="og:site_name" content="Tengrinews.kz">')
    desc = a.get("lead") or paragraphs(a)[0]
    out.append(f'<meta name="description" content="{e(html.unescape(desc)[:200])}">')
    return "\n".join(out)


def body_html(a: dict, older: bool) -> str:
    """The article text with the boilerplate a real page carries between and after paragraphs."""
    paras = [f"<p>{p}</p>" for p in paragraphs(a)]
    extras = a.get("extras") or {}
    if "photo" in extras:
        paras.insert(1, f"<p><em>Фото: {e(extras['photo'])}</em></p>")
    if "figure" in extras:
        paras.insert(0, f'<figure class="content_main_img"><img src="/userdata/news/{a["id"]}/1.jpg" alt="">'
                        f"<figcaption>Фото: {e(extras['figure'])}</figcaption></figure>")
    if "video" in extras:
        paras.insert(2, f'<div class="video"><iframe src="https://www.youtube.com/embed/{a["id"]}"></iframe></div>'
                        f"<p>Видео: {e(extras['video'])}</p>")
    if "readalso_p" in extras:
        paras.insert(len(paras) - 1, f'<p>Читайте также: <a href="{extras["readalso_p"]["href"]}">'
                                     f'{e(extras["readalso_p"]["title"])}</a></p>')
    if "readalso_block" in extras:
        block_class = "tn-related-news" if older else "content_main_readalso"
        paras.insert(2, f'<div class="{block_class}"><p class="readalso_title">Читайте также</p>'
                        f'<p><a href="{extras["readalso_block"]["href"]}">'
                        f'{e(extras["readalso_block"]["title"])}</a></p></div>')
    if extras.get("inpage_ad"):
        paras.insert(3, '<div class="tn-inpage"><p>Реклама</p>'
                        '<div class="tn-ad" data-slot="inpage"></div></div>')
    if extras.get("empty_p"):
        paras.insert(2, "<p> </p>")
    if "promo" in extras:
        paras.append(f"<p><strong>{PROMOS[extras['promo']]}</strong></p>")
    return "\n".join(paras)


def tags_html(a: dict, cls: str) -> str:
    return f'<div class="{cls}">' + "".join(f'<a href="/tag/{e(t.lower())}/">{e(t)}</a>'
                                            for t in a.get("tags") or []) + "</div>"


def share_html(cls: str) -> str:
    return (f'<div class="{cls}"><span>Поделиться:</span>'
            + "".join(f'<a class="share__{n}" href="#" data-share="{n}">'
                      f'<svg><use href="#icon-{n}"></use></svg></a>'
                      for n in ["facebook", "telegram", "whatsapp"]) + "</div>")


def comments_html(a: dict, cls: str) -> str:
    comments = a.get("comments") or []
    return (f'<div class="{cls}"><h3>Комментарии ({len(comments)})</h3>'
            + "".join(f'<div class="comment"><span class="comment__author">{e(c["who"])}</span>'
                      f'<p class="comment__text">{e(c["text"])}</p></div>' for c in comments) + "</div>")


def related_html(others: list[dict], cls: str, title: str) -> str:
    return (f'<div class="{cls}"><h3>{title}</h3>'
            + "".join(f'<div class="related_item"><a href="{path_of(o)}">{e(o["title"])}</a></div>'
                      for o in others) + "</div>")


def article_page(a: dict, others: list[dict]) -> str:
    when = local_time(a)
    url = ORIGIN + path_of(a)
    date_text = a.get("date_text") or shown_date(when, older=a["markup"] == "older")
    author = a.get("author")
    if a["markup"] == "older":
        author_li = (f'<li class="tn-author">Автор: <a rel="author" href="#">{e(author)}</a></li>'
                     if author else "")
        container = "div" if a.get("div_container") else "article"
        main = f"""<div class="tn-article">
<ul class="tn-breadcrumbs"><li><a href="/">Главная</a></li>
<li><a href="/{a['section']}/">{SECTIONS[a['section']]}</a></li></ul>
<h1 class="tn-content-title">{e(a['title'])} <span class="tn-hidden">{date_text}</span></h1>
<ul class="tn-data-list"><li><time>{date_text}</time></li>{author_li}
<li class="tn-views"><svg><use href="#icon-eye"></use></svg> {2000 + int(a['id']) % 7000}</li></ul>
{ad("article-top")}
<div class="tn-news-content">
<{container} class="tn-news-text">
{body_html(a, older=True)}
</{container}>
{related_html(others[:3], "tn-related-news", "Похожие новости")}
{related_html(others[3:6], "tn-recommendations", "Рекомендуем")}
</div>
{tags_html(a, "tn-tags")}
{share_html("tn-share")}
{related_html(others[6:9], "tn-discussed-now-block", "Обсуждаемое сейчас")}
{comments_html(a, "tn-comments")}
</div>"""
    else:
        if a.get("date_in") == "date-time":
            crumb_date, block_date = "", f'<div class="date-time">{date_text}</div>'
        else:
            crumb_date = (f'<li><span class="breadcrumbs__item breadcrumbs__item--date">{date_text}'
                          '</span></li>')
            block_date = ""
        author_div = (f'<div class="content_main_author">Автор: <a rel="author" href="#">{e(author)}</a>'
                      '</div>'
                      if author else "")
        lead = f'<div class="content_main_desc">{a["lead"]}</div>' if a.get("lead") else ""
        main = f"""<div class="content_main">
<ul class="breadcrumbs"><li><a class="breadcrumbs__item" href="/">Главная</a></li>
<li><a class="breadcrumbs__item" href="/{a['section']}/">{SECTIONS[a['section']]}</a></li>{crumb_date}</ul>
<h1 class="head-single">{e(a['title'])}</h1>
{block_date}
<div class="content_main_meta"><span class="content_main_meta_views"><svg><use href="#icon-eye"></use></svg>
{2000 + int(a['id']) % 7000}</span>{author_div}</div>
{ad("article-top")}
<div class="content_main_thumb"><img src="/userdata/news/{a['id']}/main.jpg" alt="{e(a['title'])}"></div>
{lead}
<div class="content_main_text" itemprop="articleBody">
{body_html(a, older=False)}
</div>
{tags_html(a, "content_main_text_tags")}
{share_html("content_main_share")}
{related_html(others[:3], "content_main_readalso", "Читайте также")}
{related_html(others[3:6], "tn-recommendations", "Рекомендуем")}
{related_html(others[6:9], "tn-discussed-now-block", "Обсуждаемое сейчас")}
{comments_html(a, "content_main_comments")}
</div>"""
    head = structured_data(a)
    if a.get("encoding") == "cp1251-meta":
        head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">\n' + head
    text = page(a["title"], url, head, main, sidebar(others[:6]))
    if a.get("encoding", "").startswith("cp1251"):
        # These pages declare no UTF-8: drop the generic <meta charset="utf-8">.
        text = text.replace('<meta charset="utf-8">\n', "")
        if a["encoding"] == "cp1251-wrong-header":
            text = text.replace("<head>\n", '<head>\n<meta charset="windows-1251">\n', 1)
    return text


# ---------------------------------------------------------------- listings and feeds
def listing_item(item: dict, older: bool) -> str:
    if older:  # the real older markup: the list's items (div.tn-tape-item is its sidebar strip)
        return (f'<div class="tn-news-author-list-item"><div class="tn-news-author-list-item-text">'
                f'<span class="tn-news-author-list-title">{e(item["title"])}</span>'
                f'<ul class="tn-data-list"><li><time>{item["date"]}</time></li></ul>'
                f'<a class="tn-link" href="{e(item["href"])}">'
                f'<span class="tn-hidden">{e(item["title"])}</span></a>'
                f'</div></div>')
    return (f'<div class="content_main_item"><a class="content_main_item_img" href="{e(item["href"])}">'
            f'<img src="/static/img/placeholder.jpg" alt=""></a>'
            f'<span class="content_main_item_title"><a href="{e(item["href"])}">{e(item["title"])}</a></span>'
            f'<div class="content_main_item_meta"><span>{item["date"]}</span>'
            f'<span class="content_main_item_views">{item.get("views", 1500)}</span></div></div>')


def pagination(base: str, current: int, total: int) -> str:
    if total < 2:
        return ""
    def link(n: int) -> str:
        return base if n == 1 else f"{base}page/{n}/"
    items = [f'<li class="active"><span>{n}</span></li>' if n == current
             else f'<li><a href="{link(n)}">{n}</a></li>'
             for n in range(1, total + 1)]
    if current > 1:
        items.insert(0, f'<li class="prev"><a href="{link(current - 1)}">‹</a></li>')
    if current < total:
        items.append(f'<li class="next"><a href="{link(current + 1)}">›</a></li>')
    return '<ul class="pagination">' + "".join(items) + "</ul>"


def listing_pages(base: str, heading: str, items: list[dict], older: bool,
                  popular: list[dict]) -> dict[str, str]:
    chunks = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    pages = {}
    for n, chunk in enumerate(chunks, 1):
        path = base if n == 1 else f"{base}page/{n}/"
        wrapper = "tn-news-author-list" if older else "content_main_list"
        main = (f'<h1 class="head-list">{e(heading)}</h1>{ad("list-top")}<div class="{wrapper}">'
                + "\n".join(listing_item(it, older) for it in chunk) + "</div>"
                + pagination(base, n, len(chunks)))
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
            "category": SECTIONS[a["section"]], "desc": html.unescape(a.get("lead") or paragraphs(a)[0])}


BILLION_LAUGHS = ('<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
                  + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
                            for n in range(1, 10)) + "]>\n")
XXE = '<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'


# ---------------------------------------------------------------- the whole site
def build(site: Path = SITE) -> None:
    data = yaml.safe_load((HERE / "articles.yaml").read_text(encoding="utf-8"))
    articles: list[dict] = data["articles"]
    by_id = {str(a["id"]): a for a in articles}
    if site.exists():
        shutil.rmtree(site)
    files: dict[str, str | bytes] = {}
    redirects: dict[str, str] = {}
    listed = [a for a in articles if not a.get("unlisted")]
    newest = sorted(listed, key=local_time, reverse=True)
    LAST_NEWS[0] = last_news(newest[:30])
    WEEK_BLOCK[0] = week_block(newest[:12])

    for n, a in enumerate(articles):
        others = [o for o in listed[n + 1:] + listed[:n] if o is not a][:9]
        text = article_page(a, others)
        encoding = "cp1251" if a.get("encoding", "").startswith("cp1251") else "utf-8"
        files[path_of(a)] = text.encode(encoding, errors="xmlcharrefreplace")
        for section in a.get("also_sections") or []:
            redirects[path_of(a, section)] = path_of(a)

    manifest: dict = {"origin": ORIGIN, "page_size": PAGE_SIZE, "days": {}, "feeds": {}}
    for day, conf in data["days"].items():
        day = str(day)
        older = conf.get("markup") == "older"
        extras = conf.get("extra") or []
        own = sorted((a for a in listed if a["local"].startswith(day)), key=local_time, reverse=True)
        items = [{"href": path_of(a), "title": a["title"],
                  "date": shown_date(local_time(a), older)} for a in own]
        for extra in conf.get("extra") or []:
            items.insert(extra["at"], {"href": extra["href"], "title": extra["title"],
                                       "date": shown_date(datetime.fromisoformat(f"{day} 12:00"), older)})
        y, m, d = day.split("-")
        base = f"/news/{y}/{m}/{d}/"
        pages = listing_pages(base, f"Новости за {int(d)} {MONTHS[int(m) - 1]} {y}", items, older, own[:5])
        files.update(pages)
        manifest["days"][day] = {
            "archive_pages": list(pages),
            "listed_hrefs": [it["href"] for it in items],
            "expected_loaded": [ORIGIN + path_of(a) for a in own if a.get("expect", "loaded") == "loaded"],
            "expected_not_loaded": [{"url": ORIGIN + path_of(a), "fault": a["fault"], "expect": a["expect"]}
                                    for a in own if a.get("expect", "loaded") != "loaded"]
                                   + [{"url": ORIGIN + x["href"], "fault": x["fault"], "expect": x["expect"]}
                                      for x in conf.get("extra") or [] if x.get("fault")],
            "faults_that_still_load": {ORIGIN + path_of(a): a["fault"] for a in own
                                       if a.get("fault") and a.get("expect", "loaded") == "loaded"},
            # Same article again (other section, www., tracking parameters): one entry per id.
            "duplicate_hrefs": [x["href"] for x in extras if not x.get("fault") and _own_host(x["href"])],
            "other_site_hrefs": [x["href"] for x in extras if not _own_host(x["href"])],
            "notes": conf.get("notes", ""),
        }

    feed_articles = [by_id[str(i)] for i in data["feed"]]
    latest = [{"href": path_of(a), "title": a["title"], "date": shown_date(local_time(a))}
              for a in newest[:25]]
    files.update(listing_pages("/news/", "Последние новости", latest, False, newest[:5]))
    # The long reads' own listing, which discovery reads for every day; this replica has none yet.
    files.update(listing_pages("/article/", "Статьи", [], False, newest[:5]))
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
    files["/index.html"] = listing_pages("/", "Главные новости", latest[:10], False, newest[:5])["/"]
    files["/_redirects.json"] = json.dumps(redirects, indent=1, sort_keys=True)
    files["/manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1)

    for path, content in files.items():
        target = site / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


if __name__ == "__main__":
    build()
    print(f"built {sum(1 for p in SITE.rglob('*') if p.is_file())} files in {SITE}")
