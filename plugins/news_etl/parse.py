"""Parsing an article page into a normalized ``Article``, in layers.

Each field is taken from the first layer that has it: JSON-LD → meta tags (both
read by ``news_etl.metadata``, the one reader of a page's declarations) → the
CSS selectors the source declares in ``sources.yaml`` → the generic main-text
extractor (``news_etl.extract``). ``Article.extraction`` records the layer of
each field, and ``published_at_offset`` when a declared UTC offset disagreed
with the source's zone and the wall clock was read in the zone instead
(``news_etl.dates.read_page_date``).

Authors are people: the organization behind the page (the source's name and
hosts, the page's publisher and site name, any case) is never one, whichever
layer names it. The body is the lines of the article block in order
(paragraphs split at <br>, quotes, subheadings, list items) without the blocks
and lines of ``news_etl.boilerplate`` and the source's own ``noise``.

Everything works on one lxml tree (C); the selectors are compiled to XPath by
cssselect once per process. ``bench/parse_bench.py`` measures it against
trafilatura on the real pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from news_etl.boilerplate import BOILERPLATE_SELECTORS
from news_etl.dates import DateParseError, PageDate, read_page_date
from news_etl.errors import Rejected
from news_etl.metadata import PageMetadata, clean_authors, read_metadata
from news_etl.normalize import build_article, clean_text, strip_site_name
from news_etl.record import Article
from news_etl.sources import Source

_PURE_CLASS = re.compile(r"^\.[\w-]+$")
_CLASS_NAME = re.compile(r"\.([\w-]+)")
_NEGATION = re.compile(r":not\([^)]*\)")
_CLASSES = etree.XPath("//@class", smart_strings=False)
_FIELDS = ("title", "date", "author", "body", "lead")


@dataclass(frozen=True)
class _Rules:
    """A source's selectors, compiled once per process."""

    # Each field's alternatives, in order of preference, each with the class sets of its comma
    # parts: an alternative none of whose parts has all its classes on the page is not evaluated
    # (cssselect's class test is a string search per element; most alternatives miss).
    fields: dict[str, tuple[tuple[CSSSelector, tuple[frozenset[str], ...]], ...]]
    noise: CSSSelector
    # Classes of the noise blocks given as a bare class: a date or a name inside one of them
    # (a related-news block, a comment) is not the article's.
    noise_classes: frozenset[str]


@lru_cache(maxsize=64)
def _compile(selectors: tuple[tuple[str, tuple[str, ...]], ...]) -> _Rules:
    config = dict(selectors)
    noise = ", ".join((BOILERPLATE_SELECTORS, *config.get("noise", ())))
    return _Rules(
        fields={name: tuple((CSSSelector(sel), tuple(frozenset(_CLASS_NAME.findall(_NEGATION.sub("", part)))
                                                      for part in sel.split(",")))
                            for sel in config.get(name, ())) for name in _FIELDS},
        noise=CSSSelector(noise),
        noise_classes=frozenset(s.strip()[1:] for s in noise.split(",") if _PURE_CLASS.match(s.strip())),
    )


def _rules(source: Source) -> _Rules | None:
    """The compiled selectors of ``source``; None when it has none (metadata and generic extraction)."""
    if not source.selectors:
        return None
    return _compile(tuple(sorted(source.selectors.items())))


_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "section",
           "article", "figure", "figcaption", "table", "tr", "td", "th", "pre", "header", "footer",
           "aside", "dl", "dt", "dd", "hr", "main", "nav", "address"}
_SKIP = {"script", "style", "noscript", "iframe", "svg", "button", "form", "img", "video", "audio",
         "template", "object", "embed", "input", "select", "textarea"}


def _tree(html: str) -> lxml.html.HtmlElement:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", errors="replace"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise Rejected("parse", "not_html", str(exc) or "empty document") from exc


def paragraphs_of(node: etree._Element) -> list[str]:
    """Text of ``node`` split into paragraphs at block elements and <br>."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = "".join(buf)
            buf.clear()
            if text.strip():
                out.append(text)

    def walk(element: etree._Element) -> None:
        if element.text:
            buf.append(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else None
            if tag == "br":
                flush()
            elif tag is None or tag in _SKIP:
                pass
            elif tag in _BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)
            if child.tail:
                buf.append(child.tail)

    walk(node)
    flush()
    return out


def _text(node: etree._Element) -> str:
    return clean_text(" ".join(paragraphs_of(node)))


# -- layers 1 and 2: what the page declares ---------------------------------------
def _organizations(metadata: PageMetadata, source: Source) -> set[str]:
    return metadata.organizations() | {source.name.lower(), source.host.lower(), *source.allowed_hosts}


def _declared(metadata: PageMetadata, source: Source, layer: str) -> dict[str, Any]:
    """Title, date and author as the page declares them in one layer ("json-ld" or "meta").

    Microdata and rel=author are visible markup: for a configured source its selectors say
    where that is, so they are left to the generic extractor.
    """
    found: dict[str, Any] = {}
    for text, where in metadata.headlines():
        if where == layer or (layer == "meta" and where == "opengraph"):
            found["title"] = strip_site_name(text, source) if layer == "meta" else text
            break
    for text, where in metadata.published():
        if where == layer:
            found["date"] = text
            break
    for names, where in metadata.authors():
        if where == layer:
            found["author"] = clean_authors(names, _organizations(metadata, source))
            if found["author"]:
                break
    return found


# -- layer 3: the source's selectors --------------------------------------------
def _matches(root: etree._Element, selectors, rules: _Rules, classes: set[str]):
    """Per alternative, the elements it matches outside noise blocks, cleaned of the noise inside them."""
    for selector, parts in selectors:
        if not any(part <= classes for part in parts):
            continue
        found = [el for el in selector(root)
                 if not any(rules.noise_classes.intersection((anc.get("class") or "").split())
                            for anc in el.iterancestors())]
        for el in found:
            for junk in rules.noise(el):
                if junk is not el and junk.getparent() is not None:
                    junk.drop_tree()  # keeps the text after it
        if found:
            yield found


def _from_selectors(root: etree._Element, source: Source, metadata: PageMetadata) -> dict[str, Any]:
    rules = _rules(source)
    if rules is None:
        return {}
    fields = rules.fields
    classes = {name for value in _CLASSES(root) for name in value.split()}
    found: dict[str, Any] = {}
    for elements in _matches(root, fields["title"], rules, classes):
        if title := next(filter(None, map(_text, elements)), None):
            found["title"] = title
            break
    for elements in _matches(root, fields["date"], rules, classes):
        if value := elements[0].get("datetime") or _text(elements[0]):
            found["date"] = value
            break
    for elements in _matches(root, fields["author"], rules, classes):
        # Every element of the first matching alternative: one per author.
        if names := clean_authors([_text(el) for el in elements], _organizations(metadata, source)):
            found["author"] = names
            break
    for elements in _matches(root, fields["body"], rules, classes):
        paragraphs = paragraphs_of(elements[0])
        if any(p.strip() for p in paragraphs):
            lead = next(_matches(root, fields["lead"], rules, classes), None)
            found["body"] = (paragraphs_of(lead[0]) if lead else []) + paragraphs
            break
    return found


# -- layer 4: generic extraction ------------------------------------------------
def _from_generic(html: str, url: str, source: Source, fetched_at: datetime) -> dict[str, Any]:
    from news_etl.extract import extract_generic  # trafilatura's import is only paid when needed

    try:
        result = extract_generic(html, url=url, tz=source.timezone, language=source.language,
                                 fetched_at=fetched_at, zone_is_known=True)
    except Exception:  # noqa: BLE001 - a fallback that fails leaves the field missing, reported below
        return {}
    found: dict[str, Any] = {}
    if result.title:
        found["title"] = result.title
    if result.published:
        found["date"] = result.published
    if result.author:
        found["author"] = result.author
    if result.body:
        found["body"] = result.body.split("\n")
    return found


def _read_date(value: str | PageDate, source: Source, fetched_at: datetime) -> PageDate:
    if isinstance(value, PageDate):
        return value
    try:
        return read_page_date(value, tz=source.timezone, languages=[source.language], now=fetched_at)
    except DateParseError as exc:
        raise Rejected("normalize", "bad_date", str(exc)) from exc


def parse_article(html: str, *, url: str, source: Source, fetched_at: datetime | None = None) -> Article:
    """The normalized article of one page; Rejected(stage "parse"/"normalize") when it has none."""
    fetched_at = fetched_at or datetime.now(UTC)
    root = _tree(html)
    metadata = read_metadata(root, url)
    layers: list[tuple[str, dict[str, Any]]] = [
        ("json-ld", _declared(metadata, source, "json-ld")),
        ("meta", _declared(metadata, source, "meta")),
        ("selectors", _from_selectors(root, source, metadata)),
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
            published = _read_date(value, source, fetched_at)
        except Rejected as exc:
            problem = problem or exc
            continue
        extraction["published_at"] = layer
        if published.offset_disagreement:
            extraction["published_at_offset"] = published.offset_disagreement
        break
    else:
        raise problem
    extraction.setdefault("author", "none")
    return build_article(title=values["title"], published_at=published.at, author=values.get("author"),
                         paragraphs=values["body"], url=url, source=source, fetched_at=fetched_at,
                         extraction=extraction)
