"""The one reader of what a page declares about itself: JSON-LD, <meta>, microdata, rel=author.

The site parser (``news_etl.parse``) and the generic extractor (``news_etl.extract``)
both read a page's declarations through ``read_metadata``, so a headline, a
publication time or an author name is found, and rejected, by the same rules
everywhere. What is read:

* JSON-LD: every object of every ``application/ld+json`` block, flattened out of
  lists, ``@graph``, ``mainEntity`` and ``itemListElement``; the article is the
  object of the most specific article type;
* ``<meta>``: by lowercased ``property``/``name``/``itemprop``, first value kept,
  every value kept too for keys that repeat (``article:author``, ``article:tag``);
* microdata (``itemprop="datePublished"``/``"author"``) and ``rel="author"`` links.

Declarations are evidence, not answers: each accessor returns candidates with
the layer they came from, and the caller decides (a declared UTC offset, for
instance, is checked against the tz database by ``news_etl.dates``). The
organization publishing the page (its name, its site name, its host, in any
case) is never an author: ``PageMetadata.organizations`` lists it and
``clean_authors`` drops it.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from lxml import etree

_JSONLD = etree.XPath('//script[@type="application/ld+json"]/text()', smart_strings=False)
_META = etree.XPath("//meta[@content][@property or @name or @itemprop]")
_MICRODATA = etree.XPath('//*[@itemprop="datePublished" or @itemprop="author" or @rel="author"]')
_WS = re.compile(r"\s+")
_CDATA = re.compile(r"^(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>$")

_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "webpage",
                  "liveblogposting", "report", "scholarlyarticle", "techarticle", "socialmediaposting"}
_ORGANIZATION_TYPES = {"organization", "newsmediaorganization", "corporation", "website"}
_NESTED = ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement")

# <meta> keys holding a publication time, most specific first.
DATE_META_KEYS = ("article:published_time", "og:published_time", "og:article:published_time",
                  "datepublished", "publishdate", "publish-date", "pubdate", "parsely-pub-date",
                  "sailthru.date", "dc.date.issued", "dc.date", "dcterms.created", "date",
                  "article.published", "cxenseparse:recs:publishtime", "original-publish-date")
AUTHOR_META_KEYS = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")


def _clean(text: object) -> str:
    return _WS.sub(" ", text if isinstance(text, str) else "").strip()


def _types(obj: dict) -> set[str]:
    value = obj.get("@type") or ()
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return {str(v).lower() for v in values}


def _flatten(data: object, found: list[dict], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            _flatten(item, found, depth + 1)
    elif isinstance(data, dict):
        found.append(data)
        for key in _NESTED:
            if isinstance(data.get(key), list | dict):
                _flatten(data[key], found, depth + 1)


def _article_object(objects: list[dict]) -> dict:
    """The JSON-LD object describing the article: a news/article type before a bare WebPage."""
    best: dict = {}
    best_rank = 99.0
    for obj in objects:
        types = _types(obj)
        if not types & _ARTICLE_TYPES:
            continue
        rank = 2.0 if types <= {"webpage"} else 1.0 if types & {"article"} else 0.0
        if "headline" in obj or "articleBody" in obj:
            rank -= 0.5
        if rank < best_rank:
            best, best_rank = obj, rank
    return best


def person_names(value: object) -> list[str]:
    """Names of the people in a JSON-LD ``author`` value; organizations are not people."""
    if isinstance(value, str):
        return [htmllib.unescape(value)]
    if isinstance(value, list):
        return [n for item in value for n in person_names(item)]
    if isinstance(value, dict):
        if _types(value) & _ORGANIZATION_TYPES:
            return []
        if value.get("name"):
            return person_names(value.get("name"))
        given, family = value.get("givenName"), value.get("familyName")
        if isinstance(given, str) and isinstance(family, str):
            return [f"{given} {family}"]
    return []


def organization_names(value: object) -> list[str]:
    """Names of the organizations in a JSON-LD ``author`` value (an agency, or the publication)."""
    if isinstance(value, list):
        return [n for item in value for n in organization_names(item)]
    if isinstance(value, dict) and _types(value) & _ORGANIZATION_TYPES and isinstance(value.get("name"), str):
        return [_clean(value["name"])]
    return []


def _host_names(url: str | None) -> list[str]:
    host = (urlsplit(url or "").hostname or "").lower()
    return [host, host.removeprefix("www.")] if host else []


@dataclass(frozen=True)
class PageMetadata:
    """A page's declarations; see the module docstring."""

    objects: tuple[dict, ...] = ()
    article: dict = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    meta_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    url: str | None = None
    tree: etree._Element | None = field(default=None, repr=False)

    @cached_property
    def marked(self) -> tuple[tuple[str, str], ...]:
        """(attribute, text or content) of microdata and rel=author elements, in page order.

        Read on first use: the site parser leaves visible markup to the source's selectors.
        """
        marked: list[tuple[str, str]] = []
        for node in _MICRODATA(self.tree) if self.tree is not None else ():
            if node.tag == "meta":
                continue  # a <meta>, read with the others
            attr = "rel" if node.get("rel") == "author" else node.get("itemprop")
            value = node.get("content") or node.get("datetime") if attr == "datePublished" else None
            marked.append((attr, _clean(value or node.text_content())))
        return tuple(marked)

    def headlines(self) -> list[tuple[str, str]]:
        """(title, layer) as declared: JSON-LD headline, og:title, twitter:title."""
        found = [(_clean(htmllib.unescape(self.article.get("headline") or "")
                         if isinstance(self.article.get("headline"), str) else ""), "json-ld"),
                 (_clean(self.meta.get("og:title")), "opengraph"),
                 (_clean(self.meta.get("twitter:title")), "meta")]
        return [(text, layer) for text, layer in found if text]

    def published(self) -> list[tuple[str, str]]:
        """(date text, layer) of the publication time, most trusted first."""
        found = [(self.article[key], "json-ld") for key in ("datePublished", "dateCreated", "uploadDate")
                 if isinstance(self.article.get(key), str)]
        found += [(self.meta[key], "meta") for key in DATE_META_KEYS if key in self.meta]
        found += [(text, "microdata") for attr, text in self.marked if attr == "datePublished" and text]
        return found

    def authors(self) -> list[tuple[list[str], str]]:
        """(raw names, layer) of the authors as declared; clean them with ``clean_authors``."""
        found: list[tuple[list[str], str]] = []
        if names := person_names(self.article.get("author")):
            found.append((names, "json-ld"))
        for key in AUTHOR_META_KEYS:
            values = [v for v in self.meta_lists.get(key, ()) if not v.startswith("http")]
            if values:
                found.append((values, "meta"))
        marked = [text for attr, text in self.marked if attr in ("author", "rel") and 0 < len(text) < 80]
        if marked:
            found.append((marked, "microdata"))
        return found

    def credited_organizations(self) -> list[str]:
        """Organizations the page names as the author (JSON-LD), as written; see ``organizations``."""
        return organization_names(self.article.get("author"))

    def site_names(self) -> list[str]:
        """Names the page gives its site (og:site_name, application-name) and its hosts."""
        names = [self.meta.get("og:site_name", ""), self.meta.get("application-name", "")]
        return [n for n in names if n] + _host_names(self.url) + _host_names(self.meta.get("og:url"))

    def organizations(self) -> set[str]:
        """Lowercased names of the organization behind the page: never an author."""
        names = set(self.site_names())
        publisher = self.article.get("publisher")
        for obj in [*self.objects, *(publisher if isinstance(publisher, list) else [publisher])]:
            if (isinstance(obj, dict) and _types(obj) & _ORGANIZATION_TYPES
                    and isinstance(obj.get("name"), str)):
                names.add(obj["name"])
        return {_clean(n).lower() for n in names if _clean(n)}


def read_metadata(tree: etree._Element, url: str | None = None) -> PageMetadata:
    """Everything ``tree`` declares about itself (see the module docstring)."""
    objects: list[dict] = []
    for raw in _JSONLD(tree):
        # Some pages wrap the block as XHTML CDATA behind JavaScript comments.
        raw = _CDATA.sub("", raw.strip())
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)  # raw newlines and tabs inside strings are common
        except ValueError:
            continue  # a broken block is ignored; the page's other declarations still count
        _flatten(data, objects)
    meta: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for node in _META(tree):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        content = (node.get("content") or "").strip()
        if key and content:
            meta.setdefault(key, content)
            lists.setdefault(key, []).append(content)
    return PageMetadata(objects=tuple(objects), article=_article_object(objects), meta=meta,
                        meta_lists={k: tuple(v) for k, v in lists.items()}, url=url, tree=tree)


# ---------------------------------------------------------------- author names

BYLINE_PREFIX = re.compile(
    r"^\s*(?:by|from|von|автор(?:ы)?|текст|written by|posted by|words by)\s*[:\-–—]?\s+", re.I)
_ROLES = (r"(?:(?:ap |the )?(?:[\w-]+ )?(?:writer|reporter|correspondent|editor)s?|"
          r"contributor|columnist|editor-at-large|special to .*|for .*\.com|staff|"
          r"(?:специальный |собственный )?(?:корреспондент|редактор|обозреватель|журналист)\w*|기자|記者)")
_ROLE = re.compile(r"\s*(?:[,|\-–—/]\s*|\s+)" + _ROLES + r"\s*$", re.I)
_ROLE_ONLY = re.compile(r"^" + _ROLES + r"$", re.I)
# Parts of a byline: "A, B and C", "A & B", "A. Site" (not after an initial such as "E.").
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\||\b(?:and|und|og|och|et|en|ve|и)\b|\n|(?<=\w\w)\.\s+)\s*",
                           re.I)
_EMAILISH = re.compile(r"\S+@\S+|https?://\S+|@\w+")
# A picture credit or a note in brackets next to a byline is not a name.
_NOT_A_NAME = re.compile(r"^\(|\b(?:image|photo|foto|getty|shutterstock)\b|:", re.I)


def _clean_author_name(name: str) -> str:
    name = _EMAILISH.sub("", _clean(name))
    name = BYLINE_PREFIX.sub("", name)
    for _ in range(2):
        name = _ROLE.sub("", name).strip(" ,|-–—")
    return name.strip(" ,|-–—:")


def _is_organization(name: str, organizations: set[str]) -> bool:
    lowered = name.lower()
    return lowered in organizations or lowered.removeprefix("www.") in organizations


def clean_authors(raw: list[str], exclude: tuple[str, ...] | set[str] = (),
                  brand_words: tuple[str, ...] = ()) -> str | None:
    """Names without "By", roles and contacts, de-duplicated, joined with ", ".

    ``exclude`` holds names that are not people here (the organization's names and
    hosts, any case); ``brand_words`` (e.g. the host "sputniknews.com") drop
    brand-like names listed next to a person's.
    """
    names: list[str] = []
    skip = {e.lower() for e in exclude if e} | {"staff", "admin", "by"}
    for item in raw:
        for part in _AUTHOR_SPLIT.split(BYLINE_PREFIX.sub("", _clean(item))):
            if _ROLE_ONLY.match(_clean(part)):
                continue
            name = _clean_author_name(part)
            words = name.split()
            # A name is a few words without digits; longer strings are sentences or bios.
            if (not name or _ROLE_ONLY.match(name) or _NOT_A_NAME.search(name)
                    or len(words) > 5 or len(name) > 60
                    or _is_organization(name, skip) or re.search(r"\d", name)
                    or len(name) < 2):
                continue
            if name.isupper() and len(name) > 3:
                name = name.title()  # "TOM KRISHER" as shown in some bylines
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
    brands = {b.lower() for b in brand_words if len(b) >= 4}
    people = [n for n in names if not any(w.lower() in b for w in n.split() if len(w) >= 4 for b in brands)]
    # "Jane Doe, Sputnik International": the site's brand is not a co-author.
    return ", ".join(people or names) or None


__all__ = ["BYLINE_PREFIX", "PageMetadata", "clean_authors", "organization_names", "person_names",
           "read_metadata"]
