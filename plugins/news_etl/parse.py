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
def _matches(root: etree._Element, selectors, rules: _Rules, classes: set[str], every: bool = False):
    """Per alternative that matches, its first element (``every``: all of them) outside noise blocks,
    cleaned of the noise inside it."""
    for selector, parts in selectors:
        if not any(part <= classes for part in parts):
            continue
        found = []
        for el in selector(root):
            if any(rules.noise_classes.intersection((anc.get("class") or "").split())
                   for anc in el.iterancestors()):
                continue
            for junk in rules.noise(el):
                if junk is not el and junk.getparent() is not None:
                    junk.drop_tree()  # keeps the text after it
            found.append(el)
            if not every:
                break
        if found:
            yield found


class _FromSelectors:
    """The fields the source's selectors give, each looked up the first time it is asked for.

    A field an earlier layer already gave is never looked up (the body always is): most
    pages declare their title, date and author.
    """

    def __init__(self, root: etree._Element, source: Source, metadata: PageMetadata) -> None:
        self._root, self._source, self._metadata = root, source, metadata
        self._rules = _rules(source)
        self._classes: set[str] | None = None
        self._found: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if self._rules is None:
            return None
        if name not in self._found:
            if self._classes is None:
                self._classes = {c for value in _CLASSES(self._root) for c in value.split()}
            self._found[name] = getattr(self, "_" + name)(self._rules.fields, self._classes)
        return self._found[name]

    def _matches(self, selectors, classes: set[str], every: bool = False):
        return _matches(self._root, selectors, self._rules, classes, every)

    def _title(self, fields, classes) -> str | None:
        return next((title for elements in self._matches(fields["title"], classes)
                     if (title := _text(elements[0]))), None)

    def _date(self, fields, classes) -> str | None:
        return next((value for elements in self._matches(fields["date"], classes)
                     if (value := elements[0].get("datetime") or _text(elements[0]))), None)

    def _author(self, fields, classes) -> str | None:
        organizations = _organizations(self._metadata, self._source)
        # Every element of the first matching alternative: one per author.
        return next((names for elements in self._matches(fields["author"], classes, every=True)
                     if (names := clean_authors([_text(el) for el in elements], organizations))), None)

    def _body(self, fields, classes) -> list[str] | None:
        for elements in self._matches(fields["body"], classes):
            paragraphs = paragraphs_of(elements[0])
            if any(p.strip() for p in paragraphs):
                lead = next(self._matches(fields["lead"], classes), None)
                return (paragraphs_of(lead[0]) if lead else []) + paragraphs
        return None


# -- layer 4: generic extraction ------------------------------------------------
def _from_generic(html: str, url: str, source: Source, fetched_at: datetime) -> dict[str, Any]:
    from news_etl.extract import extract_generic  # trafilatura's import is only paid when needed

    try:
        result = extract_generic(html, url=url, tz=source.timezone, language=source.language,
                                 fetched_at=fetched_at, zone_is_known=True, credit_publication=False)
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
    layers: list[tuple[str, Any]] = [
        ("json-ld", _declared(metadata, source, "json-ld")),
        ("meta", _declared(metadata, source, "meta")),
        ("selectors", _FromSelectors(root, source, metadata)),
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
    dates = ((layer, value) for layer, found in layers if (value := found.get("date")))
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
        raise problem or Rejected("parse", "no_date", "no layer found a publication date")
    extraction.setdefault("author", "none")
    return build_article(title=values["title"], published_at=published.at, author=values.get("author"),
                         paragraphs=values["body"], url=url, source=source, fetched_at=fetched_at,
                         extraction=extraction)
