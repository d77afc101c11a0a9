"""Parsing an article page into a normalized ``Article``, in layers.

Each field is taken from the first layer that has it: JSON-LD (NewsArticle)
→ meta tags (OpenGraph, ``article:published_time``, ``author``) → the CSS
selectors the source declares in ``sources.yaml`` (Tengrinews: both of its
markup generations) → the generic main-text extractor (``news_etl.extract``).
``Article.extraction`` records the layer of each field.

Speed: building a BeautifulSoup tree of a whole news page costs about as much
as trafilatura's entire extraction, so the page is parsed once by lxml (C), and
only the elements the selectors start from (found by their class) are cut out,
cleaned of noise and handed to BeautifulSoup, which then works on a few
kilobytes instead of the whole page. Selectors that do not start with a class
get the whole page: slower, still correct.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
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

_JSONLD = etree.XPath('//script[@type="application/ld+json"]/text()')
_META = etree.XPath("//meta[@content][@property or @name or @itemprop]")
_WITH_CLASS = etree.XPath("//*[@class]")
# The first compound of a selector ("div.content_main_text" of "div.content_main_text > p"), and its
# tag and first class when it has one.
_FIRST_COMPOUND = re.compile(r"^[^\s>+~]+")
_TAG_AND_CLASS = re.compile(r"^(?P<tag>[A-Za-z][\w-]*|\*)?\.(?P<cls>[\w-]+)")


@dataclass(frozen=True)
class _Rules:
    """A source's selectors, compiled once per process."""

    fields: dict[str, tuple[soupsieve.SoupSieve, ...]]  # title, date, author, body, lead
    noise: CSSSelector
    noise_classes: frozenset[str]
    # class -> tags of the elements to cut out of the page for BeautifulSoup; None when some
    # selector does not start with a class, and the whole page has to go to BeautifulSoup.
    parts: dict[str, frozenset[str]] | None


def _cut_points(selectors: list[str]) -> dict[str, frozenset[str]] | None:
    points: dict[str, set[str]] = {}
    for group in selectors:
        for selector in group.split(","):
            first = _FIRST_COMPOUND.match(selector.strip())
            found = _TAG_AND_CLASS.match(first.group(0)) if first else None
            if found is None:
                return None
            points.setdefault(found["cls"], set()).add((found["tag"] or "*").lower())
    return {cls: frozenset(tags) for cls, tags in points.items()}


@lru_cache(maxsize=64)
def _compile(selectors: tuple[tuple[str, tuple[str, ...]], ...]) -> _Rules:
    config = dict(selectors)
    noise = ", ".join((BOILERPLATE_SELECTORS, *config.get("noise", ())))
    fields = {name: tuple(soupsieve.compile(sel) for sel in config.get(name, ()))
              for name in ("title", "date", "author", "body", "lead")}
    return _Rules(
        fields=fields,
        noise=CSSSelector(noise),
        noise_classes=frozenset(sel.strip()[1:] for sel in noise.split(",")
                                if _TAG_AND_CLASS.fullmatch(sel.strip()) and sel.strip()[0] == "."),
        parts=_cut_points([sel for name in fields for sel in config.get(name, ())]),
    )


def _rules(source: Source) -> _Rules | None:
    """The compiled selectors of ``source``; None when it has none (metadata and generic extraction)."""
    if not source.selectors:
        return None
    return _compile(tuple(sorted(source.selectors.items())))


def _article_parts(root, rules: _Rules) -> list:
    """The elements to cut out for the selectors, in document order.

    A class test in Python over the elements that have a class is several times
    cheaper than the XPath that cssselect generates (a normalize-space/concat per
    element and per class).
    """
    found = []
    for el in _WITH_CLASS(root):
        for cls in el.get("class").split():
            tags = rules.parts.get(cls)
            if tags and ("*" in tags or el.tag in tags):
                if not any(rules.noise_classes.intersection((anc.get("class") or "").split())
                           for anc in el.iterancestors()):
                    found.append(el)  # (a date inside a related-news block is not the article's)
                break
    return found


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
def _fragment(root, rules: _Rules) -> BeautifulSoup | None:
    """The article's own elements as a small BeautifulSoup document, or None if the page has none."""
    if rules.parts is None:  # selectors that need the whole page
        for junk in rules.noise(root):
            if junk.getparent() is not None:
                junk.drop_tree()
        return BeautifulSoup(etree.tostring(root, encoding="unicode"), "lxml")
    parts, taken = [], set()
    for el in _article_parts(root, rules):
        if any(anc in taken for anc in el.iterancestors()):
            continue  # already inside a part that was cut out
        taken.add(el)
        for junk in rules.noise(el):
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


def _first(soup: BeautifulSoup, selectors: tuple[soupsieve.SoupSieve, ...]):
    """Elements of the first alternatives that match, in order of preference."""
    for selector in selectors:
        if (el := selector.select_one(soup)) is not None:
            yield el


def _from_selectors(root, source: Source) -> dict[str, Any]:
    rules = _rules(source)
    soup = _fragment(root, rules) if rules is not None else None
    if soup is None:
        return {}
    fields = rules.fields
    found: dict[str, Any] = {}
    if title := next(filter(None, map(_text, _first(soup, fields["title"]))), None):
        found["title"] = title
    for el in _first(soup, fields["date"]):
        if value := el.get("datetime") or _text(el):
            found["date"] = value
            break
    for el in _first(soup, fields["author"]):
        name = _text(el)
        lowered = name.lower()
        for prefix in _AUTHOR_PREFIXES:
            if lowered.startswith(prefix):
                name = name[len(prefix):].strip(" :")
                break
        if name:
            found["author"] = name
            break
    for el in _first(soup, fields["body"]):
        paragraphs = paragraphs_of(el)
        if any(p.strip() for p in paragraphs):
            lead = next(_first(soup, fields["lead"]), None)
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
        ("selectors", _from_selectors(root, source)),
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
