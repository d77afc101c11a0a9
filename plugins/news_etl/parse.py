"""Parsing an article page into a normalized ``Article``, in layers.

Each field is taken from the first layer that has it: JSON-LD (NewsArticle)
→ meta tags (OpenGraph, ``article:published_time``, ``author``) → the source's
selectors for both Tengrinews markup generations → the generic main-text
extractor (``news_etl.extract``). ``Article.extraction`` records the layer of
each field.

Speed: building a BeautifulSoup tree of a whole news page costs about as much
as trafilatura's entire extraction, so the page is parsed once by lxml (C), the
boilerplate blocks are dropped there, and only the article's own elements
(title, date, author, lead, text) are cut out and handed to BeautifulSoup,
which then works on a few kilobytes instead of the whole page.
"""

from __future__ import annotations

import html as htmllib
import json
from datetime import UTC, datetime
from typing import Any

import lxml.html
import soupsieve
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction
from lxml import etree
from lxml.cssselect import CSSSelector

from news_etl.errors import Rejected
from news_etl.normalize import (
    BOILERPLATE_SELECTORS,
    build_article,
    clean_text,
    normalize_date,
    strip_site_name,
)
from news_etl.record import Article
from news_etl.sources import Source

# The article's own elements in both markup generations, cut out of the lxml tree for BeautifulSoup:
# (tag or "*", class).
ARTICLE_PARTS = (("h1", "head-single"), ("*", "breadcrumbs__item--date"), ("div", "date-time"),
                 ("*", "content_main_author"), ("*", "content_main_desc"), ("div", "content_main_text"),
                 ("h1", "tn-content-title"), ("ul", "tn-data-list"), ("div", "tn-news-content"))


_WITH_CLASS = etree.XPath("//*[@class]")
_PART_TAGS: dict[str, set[str]] = {}
for _tag, _cls in ARTICLE_PARTS:
    _PART_TAGS.setdefault(_cls, set()).add(_tag)


def _article_parts(root) -> list:
    """Elements matching ARTICLE_PARTS, in document order.

    A class test in Python over the elements that have a class is several times
    cheaper than the XPath that cssselect generates (a normalize-space/concat per
    element and per class).
    """
    found = []
    for el in _WITH_CLASS(root):
        for cls in el.get("class").split():
            tags = _PART_TAGS.get(cls)
            if tags and ("*" in tags or el.tag in tags):
                if not any(_BOILERPLATE_CLASSES.intersection((anc.get("class") or "").split())
                           for anc in el.iterancestors()):
                    found.append(el)  # (a date inside a related-news block is not the article's)
                break
    return found


# Applied inside the cut-out parts only: a few kilobytes instead of the whole page.
_BOILERPLATE = CSSSelector(BOILERPLATE_SELECTORS)
_BOILERPLATE_CLASSES = {sel.strip()[1:] for sel in BOILERPLATE_SELECTORS.split(",") if sel.strip()[:1] == "."}
_JSONLD = etree.XPath('//script[@type="application/ld+json"]/text()')
_META = etree.XPath("//meta[@content][@property or @name or @itemprop]")

# Selectors on the cut-out fragment, by field: each entry is tried in turn (a comma list matches in
# document order); the first element found wins. Current markup and older markup side by side.
TITLE_SELECTORS = ("h1.head-single, h1.tn-content-title",)
DATE_SELECTORS = ("span.breadcrumbs__item--date, div.date-time, ul.tn-data-list time",)
AUTHOR_SELECTORS = (".content_main_author a[rel=author], ul.tn-data-list li.tn-author a",
                    ".content_main_author, ul.tn-data-list li.tn-author")
BODY_SELECTORS = ("div.content_main_text[itemprop=articleBody], div.tn-news-content > article.tn-news-text, "
                  "div.tn-news-content > div.tn-news-text",
                  "div.content_main_text, div.tn-news-content")
LEAD_SELECTOR = ".content_main_desc"
_COMPILED = {sel: soupsieve.compile(sel) for sel in (*TITLE_SELECTORS, *DATE_SELECTORS, *AUTHOR_SELECTORS,
                                                      *BODY_SELECTORS, LEAD_SELECTOR)}
_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting",
                  "opinionnewsarticle", "backgroundnewsarticle"}
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "section",
           "article", "figure", "figcaption", "table", "tr", "td", "th", "pre", "header", "footer",
           "aside", "dl", "dt", "dd", "hr", "main", "nav", "address"}
_SKIP = {"script", "style", "noscript", "iframe", "svg", "button", "form", "img", "video", "audio",
         "template", "object", "embed", "input", "select", "textarea"}
_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)
_AUTHOR_PREFIXES = ("автор:", "автор", "текст:")


def _tree(html: str) -> lxml.html.HtmlElement:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", errors="replace"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise Rejected("parse", "not_html", str(exc) or "empty document") from exc


# -- layer 1: JSON-LD ----------------------------------------------------------
def _jsonld_objects(data: Any):
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_objects(item)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _jsonld_objects(data["@graph"])


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _person(value: Any, source: Source) -> str | None:
    """An author's name from JSON-LD; organisations (the site itself) are no author."""
    if isinstance(value, list):
        names = [n for n in (_person(v, source) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        if "organization" in _types(value):
            return None
        value = value.get("name")
    if not isinstance(value, str):
        return None
    name = clean_text(htmllib.unescape(value))
    return name if name and name != source.name else None


def _from_jsonld(root, source: Source) -> dict[str, Any]:
    for raw in _JSONLD(root):
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue  # a broken JSON-LD block is ignored; the next layers still apply
        for obj in _jsonld_objects(data):
            if not _types(obj) & _ARTICLE_TYPES:
                continue
            found = {}
            if isinstance(obj.get("headline"), str):
                found["title"] = htmllib.unescape(obj["headline"])
            if isinstance(obj.get("datePublished"), str):
                found["date"] = obj["datePublished"]
            found["author"] = _person(obj.get("author"), source)
            return found
    return {}


# -- layer 2: meta tags ----------------------------------------------------------
def _from_meta(root, source: Source) -> dict[str, Any]:
    meta: dict[str, str] = {}
    for el in _META(root):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        meta.setdefault(key, el.get("content", ""))
    found: dict[str, Any] = {}
    if meta.get("og:title"):
        found["title"] = strip_site_name(meta["og:title"], source)
    for key in ("article:published_time", "datepublished", "pubdate", "date"):
        if meta.get(key):
            found["date"] = meta[key]
            break
    for key in ("author", "article:author"):
        name = clean_text(meta.get(key))
        if name and name != source.name and not name.startswith("http"):
            found["author"] = name
            break
    return found


# -- layer 3: the source's selectors --------------------------------------------
def _fragment(root) -> BeautifulSoup | None:
    """The article's own elements as a small BeautifulSoup document, or None if the page has none."""
    parts, taken = [], set()
    for el in _article_parts(root):
        if any(anc in taken for anc in el.iterancestors()):
            continue  # already inside a part that was cut out
        taken.add(el)
        for junk in _BOILERPLATE(el):
            if junk is not el:
                junk.drop_tree()
        parts.append(etree.tostring(el, encoding="unicode", with_tail=False))
    if not parts:
        return None
    return BeautifulSoup("<div>" + "".join(parts) + "</div>", "lxml")


def paragraphs_of(node: Tag) -> list[str]:
    """Text of ``node`` split into paragraphs at block elements and <br>."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = "".join(buf)
            buf.clear()
            if text.strip():
                out.append(text)

    def walk(tag: Tag) -> None:
        for child in tag.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, _NOT_TEXT):
                    buf.append(str(child))
            elif child.name == "br":
                flush()
            elif child.name in _SKIP:
                continue
            elif child.name in _BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(node)
    flush()
    return out


def _text(node: Tag) -> str:
    return clean_text(" ".join(paragraphs_of(node)))


def _select(soup: BeautifulSoup, selector: str) -> Tag | None:
    return _COMPILED[selector].select_one(soup)


def _from_selectors(soup: BeautifulSoup | None) -> dict[str, Any]:
    if soup is None:
        return {}
    found: dict[str, Any] = {}
    for selector in TITLE_SELECTORS:
        if (el := _select(soup, selector)) is not None:
            for span in el.find_all("span"):  # the older title carries its date in a <span>
                span.decompose()
            if title := _text(el):
                found["title"] = title
                break
    for selector in DATE_SELECTORS:
        el = _select(soup, selector)
        if el is not None and (value := el.get("datetime") or _text(el)):
            found["date"] = value
            break
    for selector in AUTHOR_SELECTORS:
        if (el := _select(soup, selector)) is not None and (name := _text(el)):
            lowered = name.lower()
            for prefix in _AUTHOR_PREFIXES:
                if lowered.startswith(prefix):
                    name = name[len(prefix):].strip(" :")
                    break
            if name:
                found["author"] = name
                break
    for selector in BODY_SELECTORS:
        if (el := _select(soup, selector)) is not None:
            paragraphs = paragraphs_of(el)
            if any(p.strip() for p in paragraphs):
                lead = _select(soup, LEAD_SELECTOR)
                found["body"] = (paragraphs_of(lead) if lead is not None else []) + paragraphs
                break
    return found


# -- layer 4: generic extraction ------------------------------------------------
def _from_generic(html: str, url: str, source: Source, fetched_at: datetime) -> dict[str, Any]:
    try:
        from news_etl.extract import extract_generic
    except ImportError:  # the generic extractor is optional
        return {}
    try:
        result = extract_generic(html, url=url, tz=source.timezone, language=source.language,
                                 fetched_at=fetched_at)
    except Exception:  # noqa: BLE001 - a fallback that fails leaves the field missing, reported below
        return {}
    found: dict[str, Any] = {}
    if result.title:
        found["title"] = result.title
    if result.published_at:
        found["date"] = result.published_at
    if result.author:
        found["author"] = result.author
    if result.body:
        found["body"] = result.body.split("\n")
    return found


def parse_article(html: str, *, url: str, source: Source, fetched_at: datetime | None = None) -> Article:
    """The normalized article of one page; Rejected(stage "parse"/"normalize") when it has none."""
    fetched_at = fetched_at or datetime.now(UTC)
    root = _tree(html)
    layers: list[tuple[str, dict[str, Any]]] = [
        ("json-ld", _from_jsonld(root, source)),
        ("meta", _from_meta(root, source)),
        ("selectors", _from_selectors(_fragment(root))),
    ]
    needed = ("title", "date", "body")
    if not all(any(found.get(f) for _, found in layers) for f in needed):
        layers.append(("generic", _from_generic(html, url, source, fetched_at)))

    extraction: dict[str, str] = {}
    values: dict[str, Any] = {}
    for fieldname in ("title", "author", "body"):
        for layer, found in layers:
            value = found.get(fieldname)
            if value and (fieldname == "body" or clean_text(value)):
                values[fieldname], extraction[fieldname] = value, layer
                break
    if "title" not in values:
        raise Rejected("parse", "no_title", "no layer found a title")
    if "body" not in values:
        raise Rejected("parse", "no_body", "no layer found the article text")

    # The first layer whose date can be read wins; an unreadable one falls through to the next.
    dates = [(layer, found["date"]) for layer, found in layers if found.get("date")]
    if not dates:
        raise Rejected("parse", "no_date", "no layer found a publication date")
    problem = None
    for layer, value in dates:
        try:
            published_at = normalize_date(value, source, fetched_at)
        except Rejected as exc:
            problem = problem or exc
            continue
        extraction["published_at"] = layer
        break
    else:
        raise problem
    extraction.setdefault("author", "none")
    return build_article(title=values["title"], published_at=published_at, author=values.get("author"),
                         paragraphs=values["body"], url=url, source=source, fetched_at=fetched_at,
                         extraction=extraction)
