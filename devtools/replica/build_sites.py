# ruff: noqa: E501 - the page templates are long literal HTML lines, kept as a page would show them
"""Render the other replica sites (``sites/<key>.yaml``) into static files under ``sites/<key>/``.

Run ``.venv/bin/python -m devtools.replica.build_sites [KEY ...]`` after
editing a site's YAML; both this script and its output are committed, so the server only
serves files. Each site has its own look (``site.theme``):

- ``wordpress`` (SteppeInfo, Russian): a WordPress theme's single-post page, RSS 2.0 feed,
  a Google news sitemap of the last two days and monthly post sitemaps behind an index;
- ``story`` (Caspian Wire, English): a headless-CMS story page with a schema.org @graph,
  an Atom feed and monthly story sitemaps behind an index, no news sitemap.

Neither has a day archive: discovery must go through the feed and the sitemaps. The texts are
our own prose; the expected parse results are written by hand in ``sites/<key>.expected.yaml``.
"""

from __future__ import annotations

import html
import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

SITES_DIR = Path(__file__).with_name("sites")
RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
             "октября", "ноября", "декабря"]
e = html.escape


class Site:
    """One site's YAML with the helpers every renderer needs (times, URLs, paragraphs)."""

    def __init__(self, key: str) -> None:
        data = yaml.safe_load((SITES_DIR / f"{key}.yaml").read_text(encoding="utf-8"))
        self.conf: dict = data["site"]
        self.key: str = self.conf["key"]
        self.name: str = self.conf["name"]
        self.origin: str = self.conf["origin"]
        self.zone = ZoneInfo(self.conf["timezone"])
        self.robots: str = data["robots"]
        self.feed_extra: list[dict] = data.get("feed_extra") or []
        self.articles: list[dict] = sorted(data["articles"], key=self.published, reverse=True)
        self.snapshot = self.local(self.conf["snapshot"])

    def local(self, text: str) -> datetime:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M").replace(tzinfo=self.zone)

    def published(self, a: dict) -> datetime:
        return self.local(a["local"])

    def modified(self, a: dict) -> datetime:
        return self.local(a["modified"]) if a.get("modified") else self.published(a)

    def path(self, a: dict) -> str:
        when = self.published(a)
        return self.conf["path"].format(year=f"{when.year:04d}", month=f"{when.month:02d}",
                                        day=f"{when.day:02d}", slug=a["slug"], id=a.get("id", ""))

    def url(self, a: dict) -> str:
        return self.origin + self.path(a)

    def section_name(self, a: dict) -> str:
        return self.conf["sections"][a["section"]]

    def in_feed(self) -> list[dict]:
        """The feed's own items when it was generated: the newest ``size`` articles by then."""
        published = [a for a in self.articles if self.published(a) <= self.snapshot]
        return published[: self.conf["feed"]["size"]]


def paragraphs(a: dict) -> list[str]:
    return [" ".join(p.split()) for p in a["body"].strip().split("\n\n")]


def authors(a: dict) -> list[str]:
    value = a.get("author") or []
    return [value] if isinstance(value, str) else list(value)


def iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def utc_z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jsonld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


# ---------------------------------------------------------------- SteppeInfo: WordPress
def ru_date(when: datetime) -> str:
    return f"{when.day} {RU_MONTHS[when.month - 1]} {when.year}, {when:%H:%M}"


def wp_head(site: Site, a: dict) -> str:
    url, when = site.url(a), site.published(a)
    out = [f'<meta name="description" content="{e(paragraphs(a)[0][:160])}">',
           f'<link rel="canonical" href="{url}">',
           f'<link rel="shortlink" href="{site.origin}/?p={a["pid"]}">',
           '<meta property="og:locale" content="ru_RU">',
           '<meta property="og:type" content="article">',
           f'<meta property="og:title" content="{e(a["title"])}">',
           f'<meta property="og:url" content="{url}">',
           f'<meta property="og:site_name" content="{e(site.name)}">',
           f'<meta property="og:image" content="{site.origin}/wp-content/uploads/'
           f'{when:%Y/%m}/{a["slug"]}.jpg">']
    if a.get("og_time"):
        out.append(f'<meta property="article:published_time" content="{iso(when)}">')
        out.append(f'<meta property="article:modified_time" content="{iso(site.modified(a))}">')
    if a.get("meta_author"):
        out.append(f'<meta name="author" content="{e(", ".join(authors(a)))}">')
    if a.get("jsonld"):
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "mainEntityOfPage": url,
                "headline": a["title"], "datePublished": iso(when), "dateModified": iso(site.modified(a)),
                "image": [f"{site.origin}/wp-content/uploads/{when:%Y/%m}/{a['slug']}.jpg"],
                "articleSection": site.section_name(a), "inLanguage": "ru-RU",
                "publisher": {"@type": "Organization", "name": site.name,
                              "logo": {"@type": "ImageObject", "url": site.origin + "/logo.png"}}}
        if authors(a):
            data["author"] = [{"@type": "Person", "name": n} for n in authors(a)]
        out.append(jsonld(data))
    return "\n".join(out)


def wp_time(site: Site, a: dict) -> str:
    when = site.published(a)
    if a.get("time_text_only"):
        shown = f'<time class="entry-date published">{ru_date(when)}</time>'
    else:
        shown = f'<time class="entry-date published" datetime="{iso(when)}">{ru_date(when)}</time>'
    if a.get("modified"):
        changed = site.modified(a)
        shown += f'<time class="updated" datetime="{iso(changed)}">{ru_date(changed)}</time>'
    return f'<span class="posted-on"><a href="{site.url(a)}" rel="bookmark">{shown}</a></span>'


def wp_byline(a: dict) -> str:
    if not authors(a):
        return ""
    names = ", ".join(f'<span class="author vcard"><a class="url fn n" href="/author/{n.split()[0].lower()}/">'
                      f"{e(n)}</a></span>" for n in authors(a))
    return f'<span class="byline"> Автор: {names}</span>'


def wp_content(site: Site, a: dict) -> str:
    paras = [f"<p>{e(p)}</p>" for p in paragraphs(a)]
    when = site.published(a)
    if a.get("photo"):
        paras.insert(1, f'<figure class="wp-block-image size-large"><img decoding="async" width="1024" '
                        f'height="683" src="/wp-content/uploads/{when:%Y/%m}/{a["slug"]}-1.jpg" alt="">'
                        f'<figcaption class="wp-element-caption">Фото: {e(a["photo"])}</figcaption></figure>')
    for link in a.get("related") or []:
        paras.insert(len(paras) - 1, f'<p>Читайте также: <a href="{link["href"]}">{e(link["title"])}</a></p>')
    if a.get("lead"):
        paras.insert(0, f"<p><strong>{e(a['lead'])}</strong></p>")
    return '<div class="entry-content">\n' + "\n".join(paras) + "\n</div>"


def wp_comments(a: dict) -> str:
    comments = a.get("comments") or []
    if not comments:
        return ('<div id="comments" class="comments-area"><p class="no-comments">Комментариев пока нет.</p>'
                + WP_REPLY_FORM + "</div>")
    items = []
    for n, c in enumerate(comments, 1):
        when = datetime.strptime(c["when"], "%d.%m.%Y %H:%M")
        items.append(
            f'<li id="comment-{n}" class="comment even thread-even depth-1"><article class="comment-body">'
            f'<footer class="comment-meta"><div class="comment-author vcard">'
            f'<img alt="" src="/wp-content/avatars/{n}.png" class="avatar" height="42" width="42">'
            f'<b class="fn">{e(c["who"])}</b> <span class="says">говорит:</span></div>'
            f'<div class="comment-metadata"><a href="#comment-{n}"><time datetime="{when:%Y-%m-%dT%H:%M}">'
            f'{when:%d.%m.%Y} в {when:%H:%M}</time></a></div></footer>'
            f'<div class="comment-content"><p>{e(c["text"])}</p></div>'
            f'<div class="reply"><a class="comment-reply-link" href="#respond">Ответить</a></div>'
            f"</article></li>")
    return (f'<div id="comments" class="comments-area"><h2 class="comments-title">Комментарии '
            f'({len(comments)})</h2><ol class="comment-list">' + "".join(items) + "</ol>"
            + WP_REPLY_FORM + "</div>")


WP_REPLY_FORM = ('<div id="respond" class="comment-respond"><h3 class="comment-reply-title">Добавить '
                 'комментарий</h3><form action="/wp-comments-post.php" method="post" id="commentform">'
                 '<p class="comment-notes">Ваш адрес email не будет опубликован.</p>'
                 '<p class="comment-form-comment"><textarea id="comment" name="comment"></textarea></p>'
                 '<p class="form-submit"><input type="submit" class="submit" value="Отправить"></p>'
                 "</form></div>")


def wp_page(site: Site, title: str, head: str, main: str, body_class: str) -> str:
    nav = "".join(f'<li class="menu-item"><a href="/category/{k}/">{e(v)}</a></li>'
                  for k, v in site.conf["sections"].items())
    recent = "".join(f'<li><a href="{site.path(o)}">{e(o["title"])}</a>'
                     f'<span class="post-date">{site.published(o):%d.%m.%Y}</span></li>'
                     for o in site.articles[:5])
    return f"""<!DOCTYPE html>
<html lang="ru-RU">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} &#8212; {e(site.name)}</title>
<link rel="alternate" type="application/rss+xml" title="{e(site.name)} &raquo; Лента" href="{site.origin}/rss.xml">
{head}
<link rel="stylesheet" id="wp-block-library-css" href="/wp-includes/css/dist/block-library/style.min.css?ver=6.5.2" media="all">
<link rel="stylesheet" id="newsroom-style-css" href="/wp-content/themes/newsroom/style.css?ver=2.3.1" media="all">
<style id="global-styles-inline-css">body{{--wp--preset--color--black:#000;--wp--preset--color--white:#fff;--wp--preset--font-size--small:13px;--wp--preset--font-size--large:36px}}.has-black-color{{color:var(--wp--preset--color--black)!important}}</style>
</head>
<body class="{body_class}">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#content">Перейти к содержимому</a>
<header id="masthead" class="site-header">
<div class="site-branding"><p class="site-title"><a href="/" rel="home">{e(site.name)}</a></p>
<p class="site-description">Новости регионов Казахстана</p></div>
<nav id="site-navigation" class="main-navigation"><button class="menu-toggle" aria-expanded="false">Меню</button>
<ul id="primary-menu" class="menu"><li class="menu-item"><a href="/">Главная</a></li>{nav}</ul></nav>
<form role="search" method="get" class="search-form" action="/"><input type="search" class="search-field" name="s" placeholder="Поиск&hellip;"></form>
</header>
<div id="content" class="site-content">
<div id="primary" class="content-area"><main id="main" class="site-main">
{main}
</main></div>
<aside id="secondary" class="widget-area">
<section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">Свежие записи</h2><ul>{recent}</ul></section>
<section id="text-3" class="widget widget_text"><div class="textwidget"><p>Есть новость? Пишите: info@steppeinfo.example</p></div></section>
</aside>
</div>
<footer id="colophon" class="site-footer"><div class="site-info">&copy; 2012&ndash;2026 {e(site.name)}. При использовании материалов ссылка на {e(site.name)} обязательна. <a href="/o-nas/">О нас</a> | <a href="/kontakty/">Контакты</a></div></footer>
</div>
<script src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<script id="newsroom-navigation-js" src="/wp-content/themes/newsroom/js/navigation.js?ver=2.3.1"></script>
</body>
</html>
"""


def wp_article(site: Site, a: dict) -> str:
    n = site.articles.index(a)
    newer = site.articles[n - 1] if n > 0 else None
    older = site.articles[n + 1] if n + 1 < len(site.articles) else None
    nav = ('<nav class="navigation post-navigation" aria-label="Записи"><div class="nav-links">'
           + (f'<div class="nav-previous"><a href="{site.path(older)}" rel="prev">&larr; {e(older["title"])}'
              "</a></div>" if older else "")
           + (f'<div class="nav-next"><a href="{site.path(newer)}" rel="next">{e(newer["title"])} &rarr;'
              "</a></div>" if newer else "") + "</div></nav>")
    similar = [o for o in site.articles if o is not a and o["section"] == a["section"]][:3]
    related = ('<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline">'
               "Похожие записи</h3>"
               + "".join(f'<div class="jp-relatedposts-post"><a class="jp-relatedposts-post-a" '
                         f'href="{site.path(o)}">{e(o["title"])}</a>'
                         f'<p class="jp-relatedposts-post-context">В рубрике «{e(site.section_name(o))}»</p></div>'
                         for o in similar) + "</div>")
    source = ""
    if a.get("reprint_of"):
        source = (f'<div class="entry-source">Источник: <a href="{a["reprint_of"]}" rel="nofollow noopener" '
                  'target="_blank">Tengrinews.kz</a></div>')
    tags = ", ".join(f'<a href="/tag/{e(t.lower())}/" rel="tag">{e(t)}</a>' for t in a.get("tags") or [])
    when = site.published(a)
    main = f"""<article id="post-{a['pid']}" class="post-{a['pid']} post type-post status-publish format-standard has-post-thumbnail hentry category-{a['section']}">
<header class="entry-header">
<div class="cat-links"><a href="/category/{a['section']}/" rel="category tag">{e(site.section_name(a))}</a></div>
<h1 class="entry-title">{e(a['title'])}</h1>
<div class="entry-meta">{wp_time(site, a)}{wp_byline(a)}</div>
</header>
<div class="post-thumbnail"><img width="1200" height="675" src="/wp-content/uploads/{when:%Y/%m}/{a['slug']}.jpg" class="attachment-post-thumbnail wp-post-image" alt="" decoding="async"></div>
{wp_content(site, a)}
{source}
<footer class="entry-footer"><span class="tags-links">Метки: {tags}</span></footer>
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Поделиться:</h3><ul>
<li class="share-telegram"><a href="https://t.me/share/url?url={site.url(a)}" rel="nofollow noopener">Telegram</a></li>
<li class="share-whatsapp"><a href="https://wa.me/?text={site.url(a)}" rel="nofollow noopener">WhatsApp</a></li>
<li class="share-facebook"><a href="https://www.facebook.com/sharer.php?u={site.url(a)}" rel="nofollow noopener">Facebook</a></li></ul></div>
</article>
{nav}
{related}
{wp_comments(a)}"""
    return wp_page(site, a["title"], wp_head(site, a), main,
                   f"post-template-default single single-post postid-{a['pid']} single-format-standard")


def wp_home(site: Site) -> str:
    items = "".join(f'<article class="post-{a["pid"]} post type-post"><h2 class="entry-title">'
                    f'<a href="{site.path(a)}" rel="bookmark">{e(a["title"])}</a></h2>'
                    f'<div class="entry-meta">{wp_time(site, a)}</div>'
                    f'<div class="entry-summary"><p>{e(paragraphs(a)[0])}</p></div></article>'
                    for a in site.articles)
    return wp_page(site, "Главная", f'<link rel="canonical" href="{site.origin}/">', items, "home blog")


def rss(site: Site) -> str:
    def item(title: str, link: str, pub: str, desc: str, category: str = "", guid: str = "") -> str:
        return (f"\n<item>\n<title>{e(title)}</title>\n<link>{e(link)}</link>\n"
                f"<pubDate>{pub}</pubDate>\n" + (f"<category><![CDATA[{category}]]></category>\n" if category else "")
                + (f'<guid isPermaLink="false">{guid}</guid>\n' if guid else "")
                + f"<description><![CDATA[{desc}]]></description>\n</item>")

    items = []
    for a in site.in_feed():
        when = site.published(a)
        # Most items state the site's offset; some plugins write GMT instead.
        pub = format_datetime(when.astimezone(UTC), usegmt=True) if a.get("feed_pub_gmt") else format_datetime(when)
        items.append(item(a["title"], a.get("feed_link") or site.url(a), pub, paragraphs(a)[0],
                          site.section_name(a), f"{site.origin}/?p={a['pid']}"))
    for extra in site.feed_extra:
        items.insert(extra["after"], item(extra["title"], extra["link"],
                                          format_datetime(site.local(extra["pub"])), extra["title"]))
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{e(site.name)}</title>
<atom:link href="{site.origin}{site.conf['feed']['path']}" rel="self" type="application/rss+xml" />
<link>{site.origin}</link>
<description>Новости регионов Казахстана</description>
<lastBuildDate>{format_datetime(site.snapshot)}</lastBuildDate>
<language>ru-RU</language>
<generator>https://wordpress.org/?v=6.5.2</generator>{"".join(items)}
</channel>
</rss>
"""


def news_sitemap(site: Site) -> str:
    since = site.snapshot - timedelta(hours=site.conf["news_sitemap"]["hours"])
    recent = [a for a in site.articles if since <= site.published(a) <= site.snapshot]
    urls = "".join(f"""
<url>
<loc>{site.url(a)}</loc>
<news:news>
<news:publication><news:name>{e(site.name)}</news:name><news:language>ru</news:language></news:publication>
<news:publication_date>{iso(site.published(a))}</news:publication_date>
<news:title>{e(a['title'])}</news:title>
</news:news>
</url>""" for a in recent)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "\n</urlset>\n")


# ---------------------------------------------------------------- Caspian Wire: story template
def en_date(when: datetime) -> str:
    hour = when.hour % 12 or 12
    return f"{when:%B} {when.day}, {when.year} at {hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"


def story_head(site: Site, a: dict) -> str:
    url, when = site.url(a), site.published(a)
    image = f"{site.origin}/images/stories/{a['id']}/lead.jpg"
    description = a.get("dek") or paragraphs(a)[0][:180]
    out = [f'<meta name="description" content="{e(description)}">',
           f'<link rel="canonical" href="{url}">',
           f'<meta property="og:site_name" content="{e(site.name)}">',
           '<meta property="og:type" content="article">',
           f'<meta property="og:title" content="{e(a["title"])}">',
           f'<meta property="og:description" content="{e(description)}">',
           f'<meta property="og:url" content="{url}">',
           f'<meta property="og:image" content="{image}">',
           '<meta name="twitter:card" content="summary_large_image">',
           '<meta name="twitter:site" content="@caspianwire">']
    if a.get("og_time"):
        out += [f'<meta property="article:published_time" content="{iso(when)}">',
                f'<meta property="article:modified_time" content="{iso(site.modified(a))}">',
                f'<meta property="article:section" content="{e(site.section_name(a))}">']
    if a.get("meta_author"):
        out.append(f'<meta name="author" content="{e(", ".join(authors(a)))}">')
    if a.get("jsonld"):
        org = {"@type": "Organization", "@id": site.origin + "/#organization", "name": site.name,
               "logo": {"@type": "ImageObject", "url": site.origin + "/static/logo.png"}}
        if a.get("jsonld_author_org"):
            author: object = {"@id": site.origin + "/#organization"}
        else:
            author = [{"@type": "Person", "name": n,
                       "url": f"{site.origin}/people/{n.lower().replace(' ', '-')}/"} for n in authors(a)]
        graph = [
            {"@type": "WebSite", "@id": site.origin + "/#website", "url": site.origin + "/", "name": site.name,
             "publisher": {"@id": site.origin + "/#organization"}},
            org,
            {"@type": "WebPage", "@id": url, "url": url, "name": f"{a['title']} | {site.name}",
             "isPartOf": {"@id": site.origin + "/#website"}, "datePublished": utc_z(when),
             "dateModified": utc_z(site.modified(a)), "inLanguage": "en"},
            {"@type": "NewsArticle", "@id": url + "#article", "isPartOf": {"@id": url},
             "headline": a["title"], "datePublished": utc_z(when), "dateModified": utc_z(site.modified(a)),
             "author": author, "publisher": {"@id": site.origin + "/#organization"},
             "image": {"@type": "ImageObject", "url": image}, "articleSection": [site.section_name(a)],
             "keywords": a.get("tags") or [], "inLanguage": "en"},
        ]
        out.append(jsonld({"@context": "https://schema.org", "@graph": graph}))
    return "\n".join(out)


def story_dateline(site: Site, a: dict) -> str:
    when = site.published(a)
    if a.get("dateline") == "text":
        return f'<p class="story__dateline">{en_date(when)}</p>'
    shown = f'<time datetime="{iso(when)}">{en_date(when)}</time>'
    if a.get("modified"):
        changed = site.modified(a)
        shown += f' <span class="story__updated">Updated <time datetime="{iso(changed)}">{en_date(changed)}</time></span>'
    return f'<p class="story__dateline">{shown}</p>'


def story_byline(a: dict) -> str:
    if a.get("staff_byline"):
        return '<p class="story__byline">By <span class="author-name">Caspian Wire staff</span></p>'
    names = [f'<a class="author-name" href="/people/{n.lower().replace(" ", "-")}/">{e(n)}</a>'
             for n in authors(a)]
    if not names:
        return ""
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f'<p class="story__byline">By {joined}</p>'


def story_body(a: dict) -> str:
    paras = [f"<p>{e(p)}</p>" for p in paragraphs(a)]
    if a.get("read_more"):
        link = a["read_more"]
        paras.insert(2, f'<p class="story__inline-link"><strong>Read more:</strong> '
                        f'<a href="{link["href"]}">{e(link["title"])}</a></p>')
    if a.get("correction"):
        paras.append(f'<p class="story__correction"><em>{e(a["correction"])}</em></p>')
    if a.get("newsletter"):
        paras.append('<aside class="newsletter-promo"><p>Get the Caspian Wire morning briefing in your inbox '
                     'every weekday. <a href="/newsletters/">Subscribe to our newsletter</a>.</p>'
                     '<form action="/api/subscribe" method="post"><input type="email" name="email" '
                     'placeholder="Your email"><button>Sign up</button></form></aside>')
    return '<div class="story__body">\n' + "\n".join(paras) + "\n</div>"


def story_comments(a: dict) -> str:
    comments = a.get("comments") or []
    if not comments:
        return ""
    items = "".join(f'<li class="comment"><p class="comment__meta"><span class="comment__name">{e(c["who"])}</span> '
                    f'<time datetime="{c["when"].replace(" ", "T")}">{c["when"]}</time></p>'
                    f'<p class="comment__text">{e(c["text"])}</p></li>' for c in comments)
    return (f'<section id="comments" class="comments"><h2>{len(comments)} comment'
            f'{"s" if len(comments) > 1 else ""}</h2><ol class="comments__list">{items}</ol>'
            '<p class="comments__policy">Comments are moderated. Please keep it civil.</p></section>')


def story_page(site: Site, title: str, head: str, main: str) -> str:
    nav = "".join(f'<a href="/{k}/">{e(v)}</a>' for k, v in site.conf["sections"].items())
    most_read = "".join(f'<li><a href="{site.path(o)}">{e(o["title"])}</a></li>' for o in site.articles[:5])
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{e(title)} | {e(site.name)}</title>
<link rel="alternate" type="application/atom+xml" title="{e(site.name)}" href="{site.conf['feed']['path']}">
{head}
<link rel="preload" href="/static/fonts/source-serif.woff2" as="font" type="font/woff2" crossorigin>
<link rel="stylesheet" href="/static/css/site.5f3a91.css">
</head>
<body class="layout-story">
<div class="topbar"><span class="topbar__edition">Kazakhstan edition</span><span class="topbar__rates">USD/KZT 486.10 &middot; Brent $71.40</span><a class="topbar__subscribe" href="/newsletters/">Newsletters</a></div>
<header class="masthead"><a class="masthead__logo" href="/">{e(site.name)}</a>
<nav class="masthead__nav">{nav}</nav>
<button class="masthead__search" aria-label="Search">Search</button></header>
<main id="content" class="story-page">
{main}
</main>
<aside class="rail"><section class="rail__box"><h2>Most read</h2><ol>{most_read}</ol></section>
<section class="rail__box rail__box--ad"><div class="ad-slot" data-slot="rail-1"></div></section></aside>
<footer class="site-footer"><p>&copy; 2026 {e(site.name)}. Independent news from the Caspian coast.</p>
<nav><a href="/about/">About us</a> <a href="/contact/">Contact</a> <a href="/corrections/">Corrections</a></nav></footer>
<script src="/static/js/app.2c81d4.js" defer></script>
</body>
</html>
"""


def story_article(site: Site, a: dict) -> str:
    photo = ""
    if a.get("photo"):
        photo = (f'<figure class="story__lead-image"><img src="/images/stories/{a["id"]}/lead.jpg" alt="" '
                 f'width="1280" height="720"><figcaption>{e(a["title"])}. '
                 f'<span class="credit">Photo: {e(a["photo"])}</span></figcaption></figure>')
    dek = f'<p class="story__dek">{e(a["dek"])}</p>' if a.get("dek") else ""
    tags = "".join(f'<li><a href="/topics/{e(t.lower().replace(" ", "-"))}/">{e(t)}</a></li>'
                   for t in a.get("tags") or [])
    related = ""
    if a.get("related"):
        related = ('<section class="story__related"><h2>Related coverage</h2><ul>'
                   + "".join(f'<li><a href="{r["href"]}">{e(r["title"])}</a> <span class="related__date">'
                             f'{r["date"]}</span></li>' for r in a["related"]) + "</ul></section>")
    main = f"""<article class="story" data-story-id="{a['id']}">
<header class="story__header">
<a class="story__kicker" href="/{a['section']}/">{e(site.section_name(a))}</a>
<h1 class="story__headline">{e(a['title'])}</h1>
{dek}
<div class="story__meta">{story_byline(a)}{story_dateline(site, a)}</div>
</header>
{photo}
{story_body(a)}
<footer class="story__footer"><ul class="story__tags">{tags}</ul>
<div class="share"><button data-share="copy">Copy link</button><a href="https://t.me/share/url?url={site.url(a)}">Telegram</a><a href="https://x.com/intent/post?url={site.url(a)}">X</a></div></footer>
</article>
{related}
{story_comments(a)}"""
    return story_page(site, a["title"], story_head(site, a), main)


def story_home(site: Site) -> str:
    cards = "".join(f'<div class="card"><a class="card__title" href="{site.path(a)}">{e(a["title"])}</a>'
                    f'<p class="card__dek">{e(a.get("dek") or paragraphs(a)[0])}</p></div>' for a in site.articles)
    return story_page(site, "Latest news", f'<link rel="canonical" href="{site.origin}/">',
                      f'<h1 class="page-title">Latest</h1><div class="cards">{cards}</div>')


def atom(site: Site) -> str:
    def entry(title: str, link: str, published: datetime, updated: datetime, summary: str, entry_id: str,
              author_names: list[str]) -> str:
        names = "".join(f"<author><name>{e(n)}</name></author>" for n in author_names)
        return (f'\n<entry>\n<title>{e(title)}</title>\n<link rel="alternate" type="text/html" href="{e(link)}"/>\n'
                f"<id>{entry_id}</id>\n<published>{utc_z(published)}</published>\n"
                f"<updated>{utc_z(updated)}</updated>\n{names}\n<summary>{e(summary)}</summary>\n</entry>")

    entries = [entry(a["title"], a.get("feed_link") or site.url(a), site.published(a), site.modified(a),
                     a.get("dek") or paragraphs(a)[0], f"tag:caspianwire.example,2026:story-{a['id']}",
                     authors(a)) for a in site.in_feed()]
    for extra in site.feed_extra:
        when = site.local(extra["pub"])
        entries.insert(extra["after"], entry(extra["title"], extra["link"], when, when, extra["title"],
                                             extra["link"], []))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<title>{e(site.name)}</title>
<subtitle>Independent news from the Caspian coast</subtitle>
<link rel="alternate" type="text/html" href="{site.origin}/"/>
<link rel="self" type="application/atom+xml" href="{site.origin}{site.conf['feed']['path']}"/>
<id>{site.origin}/</id>
<updated>{utc_z(site.snapshot)}</updated>{"".join(entries)}
</feed>
"""


# ---------------------------------------------------------------- shared: sitemaps, pages, build
def urlset(rows: list[tuple[str, datetime]]) -> str:
    urls = "".join(f"\n<url><loc>{loc}</loc><lastmod>{iso(mod)}</lastmod></url>" for loc, mod in rows)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + "\n</urlset>\n")


def sitemaps(site: Site) -> dict[str, str]:
    """The sitemap index, one post sitemap per month (``<lastmod>`` = last edit) and the pages' one."""
    files: dict[str, str] = {}
    index: list[tuple[str, datetime]] = []
    months: dict[tuple[int, int], list[dict]] = {}
    for a in site.articles:
        months.setdefault((site.published(a).year, site.published(a).month), []).append(a)
    for (year, month), posts in sorted(months.items(), reverse=True):
        path = site.conf["monthly_sitemap"].format(year=f"{year:04d}", month=f"{month:02d}")
        files[path] = urlset([(site.url(a), site.modified(a)) for a in posts])
        index.append((site.origin + path, max(site.modified(a) for a in posts)))
    pages = site.conf["pages_sitemap"]
    files[pages["path"]] = urlset([(site.origin + p["path"], site.local(pages["lastmod"]))
                                   for p in site.conf["pages"]])
    index.append((site.origin + pages["path"], site.local(pages["lastmod"])))
    entries = "".join(f"\n<sitemap><loc>{loc}</loc><lastmod>{iso(mod)}</lastmod></sitemap>" for loc, mod in index)
    files[site.conf["sitemap_index"]] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + entries + "\n</sitemapindex>\n")
    return files


def render(site: Site) -> dict[str, str]:
    """Every file of the site by URL path."""
    files: dict[str, str] = {"/robots.txt": site.robots}
    files.update(sitemaps(site))
    if site.conf["theme"] == "wordpress":
        files[site.conf["feed"]["path"]] = rss(site)
        files[site.conf["news_sitemap"]["path"]] = news_sitemap(site)
        files["/"] = wp_home(site)
        for a in site.articles:
            files[site.path(a)] = wp_article(site, a)
        for p in site.conf["pages"]:
            files[p["path"]] = wp_page(site, p["title"], f'<link rel="canonical" href="{site.origin}{p["path"]}">',
                                       f'<h1 class="page-title">{e(p["title"])}</h1><p>{e(p["text"])}</p>', "page")
    elif site.conf["theme"] == "story":
        files[site.conf["feed"]["path"]] = atom(site)
        files["/"] = story_home(site)
        for a in site.articles:
            files[site.path(a)] = story_article(site, a)
        for p in site.conf["pages"]:
            files[p["path"]] = story_page(site, p["title"], f'<link rel="canonical" href="{site.origin}{p["path"]}">',
                                          f'<h1 class="page-title">{e(p["title"])}</h1><p>{e(p["text"])}</p>')
    else:
        raise ValueError(f"{site.key}: unknown theme {site.conf['theme']!r}")
    return files


def build(key: str) -> Path:
    """Write ``sites/<key>/`` afresh from ``sites/<key>.yaml``."""
    site = Site(key)
    out = SITES_DIR / key
    if out.exists():
        shutil.rmtree(out)
    for path, content in render(site).items():
        target = out / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return out


def site_keys() -> list[str]:
    """Keys of the sites that have a YAML file (expected-records files excluded)."""
    return sorted(p.stem for p in SITES_DIR.glob("*.yaml") if "." not in p.stem)


if __name__ == "__main__":
    for key in sys.argv[1:] or site_keys():
        out = build(key)
        print(f"built {sum(1 for p in out.rglob('*') if p.is_file())} files in {out}")
