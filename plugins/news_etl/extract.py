"""Generic article extraction for pages without hand-written selectors.

The body comes from trafilatura (precision mode, its own readability/justext
comparison included) on a tree parsed once, then tidied at paragraph level
with general signals: what the page itself declares (headline, description,
JSON-LD ``articleBody``), link density and caption markup in the DOM, and a
short lexicon of boilerplate phrases (newsletter, "read more", follow us).
When trafilatura's text covers only part of a container whose siblings repeat
its markup (articles split into chunks around ads), the sibling chunks are
added; readability-lxml is asked for a second opinion only when the result
looks too short for the page. Title, date and author come from JSON-LD, then
OpenGraph/meta tags, then visible markup; dates go through the project's one
date parser (news_etl.dates.parse_date) with the source's zone and language.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from news_etl.dates import DateParseError, parse_date
from news_etl.page import decode_body
from news_etl.sources import source_for_url


@dataclass
class GenericExtraction:
    """What a page yields without selectors; any field may be None."""

    title: str | None
    published_at: datetime | None
    author: str | None
    body: str | None
    # field -> layer that gave it, e.g. {"title": "json-ld", "body": "trafilatura"}
    methods: dict[str, str] = field(default_factory=dict)


_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "webpage",
                  "liveblogposting", "report", "scholarlyarticle", "techarticle", "socialmediaposting"}


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# ---------------------------------------------------------------- declared data

def _jsonld_objects(tree: HtmlElement) -> list[dict]:
    """Every JSON-LD object on the page, flattened out of @graph and lists."""
    found: list[dict] = []

    def walk(obj: object, depth: int = 0) -> None:
        if depth > 6:
            return
        if isinstance(obj, list):
            for item in obj:
                walk(item, depth + 1)
        elif isinstance(obj, dict):
            found.append(obj)
            for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
                if isinstance(obj.get(key), list | dict):
                    walk(obj[key], depth + 1)

    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            walk(json.loads(raw))
        except ValueError:
            # Some sites put raw newlines/tabs inside strings; lenient parsing rescues them.
            try:
                walk(json.loads(raw, strict=False))
            except ValueError:
                continue
    return found


def _types(obj: dict) -> set[str]:
    value = obj.get("@type") or ()
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return {str(v).lower() for v in values}


def _article_ld(objects: list[dict]) -> dict:
    """The JSON-LD object describing the article (most specific type first)."""
    best: dict = {}
    best_rank = 99
    for obj in objects:
        types = _types(obj)
        if not types & _ARTICLE_TYPES:
            continue
        rank = 2 if types <= {"webpage"} else 1 if types & {"article"} else 0
        if "headline" in obj or "articleBody" in obj:
            rank -= 0.5
        if rank < best_rank:
            best, best_rank = obj, rank
    return best


def _meta(tree: HtmlElement) -> dict[str, str]:
    """<meta> values by lowercased property/name/itemprop (first occurrence wins)."""
    values: dict[str, str] = {}
    for node in tree.iterfind(".//meta"):
        key = node.get("property") or node.get("name") or node.get("itemprop")
        content = node.get("content")
        if key and content and content.strip():
            values.setdefault(key.strip().lower(), content.strip())
    return values


# ---------------------------------------------------------------- title

_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—·•»:]|-{1,2})\s+")


def _strip_site_name(title: str, site_names: list[str]) -> str:
    """Drop a " | Site" / "Site - " decoration from a <title>-like string."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    lowered = {s.lower() for s in site_names if s}
    kept = [p for p in parts if p.lower() not in lowered]
    if len(kept) < len(parts) and kept:
        return " - ".join(kept) if len(kept) > 1 else kept[0]
    # Unknown site name: keep the longest part when the others look like a brand.
    longest = max(parts, key=len)
    return longest if len(longest) > 0.5 * len(title) else title


def _similar(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    sa, sb = set(wa), set(wb)
    return len(sa & sb) / min(len(sa), len(sb)) >= 0.8


def _heading_text(node: HtmlElement) -> str:
    """A heading's text without a date element nested in it (older layouts put one there)."""
    text = _clean(node.text_content())
    for child in node.iterdescendants():
        inner = _clean(child.text_content()) if isinstance(child.tag, str) else ""
        if inner and len(inner) <= 40 and _TEXT_DATE.search(inner) and text.endswith(inner):
            text = text[: -len(inner)].strip()
        elif inner and len(inner) <= 40 and _TEXT_DATE.search(inner) and text.startswith(inner):
            text = text[len(inner):].strip()
    return text


def _title(tree: HtmlElement, ld: dict, meta: dict[str, str]) -> tuple[str | None, str]:
    site_names = [meta.get("og:site_name", ""), meta.get("application-name", ""),
                  urlsplit(meta.get("og:url", "")).hostname or ""]
    declared = [(_clean(ld.get("headline") if isinstance(ld.get("headline"), str) else ""), "json-ld"),
                (_clean(meta.get("og:title")), "opengraph"),
                (_clean(meta.get("twitter:title")), "meta")]
    declared = [(t, m) for t, m in declared if t]
    h1s = [_heading_text(h) for h in tree.iterfind(".//h1")]
    h1s = [h for h in h1s if 3 <= len(h) <= 400]
    # The visible headline wins when it agrees with what the page declares: declared titles
    # are often shortened for sharing, the visible one is what readers (and seeds) see.
    for h1 in h1s:
        if any(_similar(h1, t) for t, _ in declared):
            return h1, "h1"
    if declared:
        text, method = declared[0]
        return _strip_site_name(text, site_names), method
    node = tree.find(".//title")
    title = _strip_site_name(_clean(node.text_content()), site_names) if node is not None else ""
    if title:
        # A lone <h1> that disagrees with <title> is usually the site's logo.
        agreeing = [h for h in h1s if _similar(h, title)]
        return (agreeing[0], "h1") if agreeing else (title, "title-tag")
    if len(h1s) == 1:
        return h1s[0], "h1"
    return None, "none"


# ---------------------------------------------------------------- date

_DATE_META = ("article:published_time", "og:published_time", "og:article:published_time",
              "datepublished", "publishdate", "publish-date", "pubdate", "parsely-pub-date",
              "sailthru.date", "dc.date.issued", "dc.date", "dcterms.created", "date",
              "article.published", "cxenseparse:recs:publishtime", "original-publish-date")


_DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})/(\d{2})/")


_TEXT_DATE = re.compile(
    r"\b(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})(?:,?\s+\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?"
    r"|\b\d{1,2}\s+[^\W\d]{3,10}\.?,?\s+\d{4}(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?"
    r"|\b[^\W\d]{3,10}\.?\s+\d{1,2},?\s+\d{4}(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?",
    re.I,
)


def _visible_dates(tree: HtmlElement, limit: int = 8) -> list[str]:
    """The first date-like strings in the page's short text nodes, in page order."""
    found: list[str] = []
    body = tree.find(".//body")
    for node in (body if body is not None else tree).iter():
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "noscript"):
            continue
        for text in (node.text, node.tail):
            if text and 6 <= len(text) < 120:
                match = _TEXT_DATE.search(text)
                if match:
                    found.append(match.group(0))
                    if len(found) >= limit:
                        return found
    return found


def _date_candidates(tree: HtmlElement, ld: dict, meta: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Date strings the page declares or shows, most trusted first, each with its method.

    A generator: the DOM scans below are only made when the declared data has no timestamp.
    """
    for key in ("datePublished", "dateCreated", "uploadDate"):
        if isinstance(ld.get(key), str):
            yield ld[key], "json-ld"
    for key in _DATE_META:
        if key in meta:
            yield meta[key], "meta"
    for node in tree.xpath('.//*[@itemprop="datePublished"]'):
        yield node.get("content") or node.get("datetime") or node.text_content(), "microdata"
    for node in tree.iterfind(".//time"):
        yield node.get("datetime") or node.text_content(), "time-tag"
    # Visible dates in elements named for them ("date", "published", "byline"), short text only.
    for node in tree.xpath('.//*[contains(@class, "date") or contains(@class, "publish") or '
                           'contains(@class, "byline") or contains(@class, "time")][not(*[4])]')[:20]:
        text = _clean(node.text_content())
        if 6 <= len(text) <= 80 and re.search(r"\d", text):
            yield _BY.sub("", text), "markup"


def _date(tree: HtmlElement, ld: dict, meta: dict[str, str], *, url: str | None, tz: str,
          language: str | None, now: datetime | None) -> tuple[datetime | None, str]:
    # English is tried after the source's language: dates in meta tags are often English.
    languages = list(dict.fromkeys([language or "en", "en"]))
    day_only: tuple[datetime, str] | None = None
    tried: set[str] = set()
    for text, method in _date_candidates(tree, ld, meta):
        if text in tried:  # pages repeat their date in several places; a failed parse is costly
            continue
        tried.add(text)
        try:
            parsed = parse_date(text, tz=tz, languages=languages, now=now)
        except DateParseError:
            continue
        if not _DAY_ONLY.match(_clean(text)):
            # A full timestamp on the same day beats a bare day found earlier.
            if day_only is None or abs(parsed - day_only[0]).total_seconds() < 36 * 3600:
                return parsed, method
            break
        day_only = day_only or (parsed, method)
    if day_only:
        return day_only
    # Last resorts: a date written in the page's text, then one in the URL's path.
    for text in _visible_dates(tree):
        try:
            return parse_date(text, tz=tz, languages=languages, now=now), "text"
        except DateParseError:
            continue
    match = _URL_DATE.search(urlsplit(url or "").path)
    if match:
        try:
            return parse_date("-".join(match.groups()), tz=tz, languages=languages, now=now), "url"
        except DateParseError:
            pass
    return None, "none"


# ---------------------------------------------------------------- author

_BY = re.compile(r"^\s*(?:by|from|автор(?:ы)?|текст|written by|posted by|words by)\s*[:\-–—]?\s+", re.I)
_ROLES = (r"(?:(?:ap |the )?(?:[\w-]+ )?(?:writer|reporter|correspondent|editor)s?|"
          r"contributor|columnist|editor-at-large|special to .*|for .*\.com|staff|"
          r"(?:специальный |собственный )?(?:корреспондент|редактор|обозреватель|журналист)\w*)")
_ROLE = re.compile(r"\s*(?:[,|\-–—/]\s*|\s+)" + _ROLES + r"\s*$", re.I)
_ROLE_ONLY = re.compile(r"^" + _ROLES + r"$", re.I)
# Parts of a byline: "A, B and C", "A & B", "A. Site" (not after an initial such as "E.").
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\||\band\b|\bи\b|\n|(?<=\w\w)\.\s+)\s*", re.I)
_EMAILISH = re.compile(r"\S+@\S+|https?://\S+|@\w+")


def _clean_author_name(name: str) -> str:
    name = _EMAILISH.sub("", _clean(name))
    name = _BY.sub("", name)
    for _ in range(2):
        name = _ROLE.sub("", name).strip(" ,|-–—")
    return name.strip(" ,|-–—:")


def clean_authors(raw: list[str], exclude: tuple[str, ...] = (),
                  brand_words: tuple[str, ...] = ()) -> str | None:
    """Names without "By", roles and contacts, de-duplicated, joined with ", ".

    ``exclude`` holds names that are not people here (the site's own name);
    ``brand_words`` (e.g. the host "sputniknews.com") drop brand-like names
    listed next to a person's.
    """
    names: list[str] = []
    skip = {e.lower() for e in exclude if e} | {"staff", "admin", "by"}
    for item in raw:
        for part in _AUTHOR_SPLIT.split(_BY.sub("", _clean(item))):
            if _ROLE_ONLY.match(_clean(part)):
                continue
            name = _clean_author_name(part)
            words = name.split()
            # A name is a few words without digits; longer strings are sentences or bios.
            if (not name or _ROLE_ONLY.match(name) or len(words) > 5 or len(name) > 60 or name.lower() in skip
                    or re.search(r"\d", name) or (len(words) == 1 and len(name) <= 3)):
                continue
            if name.isupper() and len(name) > 3:
                name = name.title()  # "TOM KRISHER" as shown in some bylines
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
    brands = {b.lower() for b in brand_words if len(b) >= 4}
    people = [n for n in names if not any(w.lower() in b for w in n.split() if len(w) >= 4 for b in brands)]
    # "Jane Doe, Sputnik International": the site's brand is not a co-author.
    return ", ".join(people or names) or None


def _ld_names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [n for item in value for n in _ld_names(item)]
    if isinstance(value, dict):
        if _types(value) & {"organization", "newsmediaorganization"}:
            return []
        name = value.get("name")
        return _ld_names(name) if name else []
    return []


def _author(tree: HtmlElement, ld: dict, meta: dict[str, str], url: str | None) -> tuple[str | None, str]:
    site = (meta.get("og:site_name", ""), meta.get("application-name", ""))
    brands = (urlsplit(url or "").hostname or "", *site)
    found = clean_authors(_ld_names(ld.get("author")), site, brands)
    if found:
        return found, "json-ld"
    for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl"):
        value = meta.get(key, "")
        if value and not value.startswith("http"):
            found = clean_authors([value], site, brands)
            if found:
                return found, "meta"
    # The first byline-like element that yields a name: later ones are often comment authors.
    nodes = tree.xpath('.//*[@rel="author" or @itemprop="author" or contains(@class, "author-name") '
                       'or contains(@class, "byline__name") or '
                       'contains(concat(" ", normalize-space(@class), " "), " byline ")]')
    for node in nodes:
        text = _clean(node.text_content())
        if 0 < len(text) < 80:
            found = clean_authors([text], site, brands)
            if found:
                return found, "markup"
    return None, "none"


# ---------------------------------------------------------------- body

# Blocks removed before trafilatura: captions and credits are not article prose.
_PRUNE = ["//figcaption", "//*[contains(concat(' ', normalize-space(@class), ' '), ' caption ')]"]

# Short paragraphs made of these are site furniture wherever they appear.
_LEAD_IN = re.compile(
    r"^(?:related(?: articles?| stories| content)?|read more|read also|see more|see also|also on \S+|"
    r"more from|don'?t miss|recommended|читайте также|смотрите также|читайте по теме|по теме)\s*[:|»]",
    re.I,
)
_BOILERPLATE = re.compile(
    r"^(?:related|read more|see more|see also|also on|more from|don'?t miss|recommended|"
    r"читайте также|смотрите также|читайте нас|подписывайтесь)\b"
    r"|\b(?:newsletters?|subscribe to|follow (?:us|\w+(?: \w+)? on)|"
    r"all rights reserved|click here|share (?:this|it) with|like this story|tell us what you think|"
    r"подпис\w+ на|подписывайтесь|наш\w* телеграм\w*|telegram-канал\w*|whatsapp|наши новости теперь)\b",
    re.I,
)
# Photo/video credit lines ("Фото: пресс-служба", "Photo by ...") are captions, not prose.
_CREDIT = re.compile(r"^(?:фото|видео|иллюстрация|кадр|photos?|videos?|images?|pictures?|credits?|"
                     r"illustration|source of photo)(?:\s+by)?\s*[:©|/]", re.I)
_LETTER = re.compile(r"[^\W\d_]")
# An ad slot's label left alone on its line.
_AD_LABEL = re.compile(r"^(?:реклама|жарнама|advertisement|advertising|ad|sponsored|партнерский материал)$",
                       re.I)


_SHORT_TEXT = 1500  # characters


def _shingles(words: list[str], n: int = 4) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(max(len(words) - n + 1, 0)))


_SPACES = re.compile(r"[^\S\xa0]+")  # whitespace runs, except the no-break space the source chose


def _paragraphs(text: str | None) -> list[str]:
    return [p for p in (_SPACES.sub(" ", line).strip() for line in (text or "").split("\n")) if p]


def _key(text: str) -> str:
    """The first 12 words: enough to recognise a paragraph in the DOM, cheap on long text."""
    return " ".join(m.group(0) for m in islice(_WORD.finditer(text), 12)).lower()


# The DOM blocks extracted paragraphs are looked up in, read once per page.
_BLOCKS = ("p", "li", "blockquote", "h2", "h3", "h4", "dd", "dt")
Blocks = list[tuple[HtmlElement, str]]  # (element, its text)


def _blocks(tree: HtmlElement) -> Blocks:
    return [(node, node.text_content()) for node in tree.iter(*_BLOCKS)]


def _find(blocks: Blocks, keys: set[str], tags: tuple[str, ...]) -> Iterator[tuple[HtmlElement, str]]:
    """(element, key) of the blocks of these tags whose key is in ``keys``.

    Most blocks are told apart by their first word, so the full key is only built for those
    whose first word starts one of ``keys``: a page has hundreds of blocks.
    """
    firsts = {k.split(" ", 1)[0] for k in keys}
    for node, text in blocks:
        first = _WORD.search(text)
        if node.tag in tags and first and first.group(0).lower() in firsts:
            key = _key(text)
            if key in keys:
                yield node, key


def _link_density(node: HtmlElement) -> float:
    text = len(_clean(node.text_content())) or 1
    return sum(len(_clean(a.text_content())) for a in node.iterfind(".//a")) / text


def _sibling_chunks(tree: HtmlElement, blocks: Blocks, paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Prose from containers that repeat the markup of the one trafilatura chose.

    Sites split long articles into several identical containers (ads between
    them); extractors keep the first. Containers with the same tag and class as
    the one holding most extracted paragraphs, prose-like (few links) and not
    already extracted, are returned as (before, after) paragraph lists.
    """
    wanted = {_key(p) for p in paragraphs if len(p) > 40}
    if len(wanted) < 2:
        return [], []
    parents: Counter = Counter()
    for node, _ in _find(blocks, wanted, ("p",)):
        parent = node.getparent()
        if parent is not None:
            parents[parent] += 1
    if not parents:
        return [], []
    main, hits = parents.most_common(1)[0]
    css = (main.get("class") or "").strip()
    if hits < 2 or not css:
        return [], []
    before: list[str] = []
    after: list[str] = []
    seen_main = False
    known = {_key(p) for p in paragraphs}
    for node in tree.iter(main.tag):
        if node is main:
            seen_main = True
            continue
        if (node.get("class") or "").strip() != css or _link_density(node) > 0.2:
            continue
        # Only containers outside the chosen one (nested repeats are already covered).
        if any(a is main for a in node.iterancestors()) or any(a is node for a in main.iterancestors()):
            continue
        texts = [_clean(p.text_content()) for p in node.iterfind("p")]
        texts = [t for t in texts if t and _key(t) not in known]
        # A chunk of an article is several paragraphs of prose; a lone quote box or
        # a "don't miss" strip sharing the class is not.
        if len(texts) < 2 or sum(len(t) for t in texts) < 200:
            continue
        known.update(_key(t) for t in texts)
        (after if seen_main else before).extend(texts)
    return before, after


def _tidy(paragraphs: list[str], *, title: str | None, description: str | None) -> list[str]:
    """Drop a repeated headline/standfirst at the top and boilerplate lines."""
    out = list(paragraphs)
    title_words = _words(title or "")
    # Only an exact repeat: a lead sentence often paraphrases the headline closely.
    while out and title_words and _words(out[0])[:len(title_words)] == title_words:
        rest = out[0][len(title or ""):] if out[0].startswith(title or "") else ""
        # The headline alone, or with the date an older layout nests in it.
        if _words(out[0]) != title_words and not (rest and len(rest) <= 40 and _TEXT_DATE.search(rest)):
            break
        out.pop(0)
    # Furniture sits at the edges (newsletter boxes, "follow us", related links): only the
    # first two and last four paragraphs are tested, so prose mentioning "subscribe" stays.
    edge = {i for i in range(len(out)) if i < 2 or i >= len(out) - 4}
    return [p for i, p in enumerate(out)
            if _LETTER.search(p) and not _AD_LABEL.match(p) and not (len(p) < 150 and _CREDIT.match(p))
            and not (len(p) < 250 and (_LEAD_IN.match(p) or (i in edge and _BOILERPLATE.search(p))))]


def _restore_nbsp(blocks: Blocks, paragraphs: list[str]) -> list[str]:
    """Put back the no-break spaces the page typed, which trafilatura turns into spaces."""
    typed: dict[str, str] = {}
    for node, text in blocks:
        if "\xa0" in text and node.tag in ("p", "li", "blockquote", "h2", "h3"):
            kept = _SPACES.sub(" ", text).strip()
            typed[kept.replace("\xa0", " ")] = kept
    return [typed.get(p, p) for p in paragraphs] if typed else paragraphs


def _drop_link_lists(blocks: Blocks, paragraphs: list[str]) -> list[str]:
    """Drop short paragraphs that are, wherever they occur on the page, just a link.

    Teasers for other articles ("- 15 Amazing Images of Stars") survive
    extraction as text; in the DOM they are blocks whose text is all anchor text.
    """
    short = {_key(p) for p in paragraphs if len(p) < 200}
    if not short:
        return paragraphs
    linky: dict[str, bool] = {}
    for node, key in _find(blocks, short, ("p", "li", "h2", "h3", "h4", "dd", "dt")):
        linky[key] = linky.get(key, True) and _link_density(node) >= 0.9
    return [p for p in paragraphs if not linky.get(_key(p), False)]


def _body(tree: HtmlElement, url: str | None, ld: dict, title: str | None,
          meta: dict[str, str]) -> tuple[str | None, str]:
    options = {"url": url, "include_comments": False, "favor_precision": True, "prune_xpath": _PRUNE}
    # Fast mode skips trafilatura's readability/justext comparison, which only changes the
    # result when its own extraction comes out short; the full cascade runs in that case.
    text = trafilatura.extract(tree, fast=True, **options) or ""
    method = "trafilatura"
    if len(text) < _SHORT_TEXT:
        text = trafilatura.extract(tree, **options) or ""
    paragraphs = _paragraphs(text)
    blocks = _blocks(tree)
    declared = ld.get("articleBody") if isinstance(ld.get("articleBody"), str) else ""
    declared_paras = _paragraphs(declared)
    if declared_paras and len(_clean(declared)) > 2 * len(" ".join(paragraphs)) + 200:
        # trafilatura found little while the page declares its full text.
        paragraphs, method = declared_paras, "json-ld"
    if method == "trafilatura":
        before, after = _sibling_chunks(tree, blocks, paragraphs)
        if before or after:
            paragraphs, method = before + paragraphs + after, "trafilatura+siblings"
    paragraphs = _restore_nbsp(blocks, _drop_link_lists(blocks, paragraphs))
    paragraphs = _tidy(paragraphs, title=title,
                       description=meta.get("og:description") or meta.get("description"))
    return ("\n".join(paragraphs) or None), method


# ---------------------------------------------------------------- public API

def extract_generic(html: str | bytes, *, url: str | None, tz: str, language: str | None,
                    fetched_at: datetime | None = None) -> GenericExtraction:
    """Title, publication time (aware UTC), author and body of an article page.

    ``tz``/``language`` are the source's: they place dates shown without an
    offset and read month names. ``fetched_at`` anchors relative dates.
    """
    tree = load_html(html)
    if tree is None:
        return GenericExtraction(None, None, None, None, {"title": "none", "published_at": "none",
                                                           "author": "none", "body": "none"})
    objects = _jsonld_objects(tree)
    ld = _article_ld(objects)
    meta = _meta(tree)
    title, title_method = _title(tree, ld, meta)
    language = language or _tree_language(tree)
    published_at, date_method = _date(tree, ld, meta, url=url, tz=tz, language=language, now=fetched_at)
    author, author_method = _author(tree, ld, meta, url)
    body, body_method = _body(tree, url, ld, title, meta)
    return GenericExtraction(
        title=title, published_at=published_at, author=author, body=body,
        methods={"title": title_method, "published_at": date_method, "author": author_method,
                 "body": body_method if body else "none"},
    )


def _tree_language(tree: HtmlElement) -> str | None:
    """The page's declared language (two-letter code), if any."""
    lang = tree.get("lang") or tree.get("xml:lang") or ""
    match = re.match(r"[a-zA-Z]{2}\b", lang.strip())
    return match.group(0).lower() if match else None


def read_html(path_or_dash: str | Path) -> str:
    """Text of an .html / .html.gz file, or of stdin for "-"."""
    data = sys.stdin.buffer.read() if str(path_or_dash) == "-" else Path(path_or_dash).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    # The project's one decoder (the fetcher's). A saved file has no Content-Type header, so
    # UTF-8 stands in for one: a strict UTF-8 decode that succeeds is reliable, and it spares
    # the character detection (pure Python, often slower than the extraction) on pages that
    # declare no charset. Bytes that are not UTF-8 go on to the declaration, then detection.
    return decode_body(data, "utf-8")[1]


def extract_file(path_or_dash: str | Path, url: str | None = None) -> dict:
    """The ``news-etl extract FILE [--url URL]`` result as a JSON-safe dict."""
    html = read_html(path_or_dash)
    source = source_for_url(url) if url else None
    if source is not None:
        tz, language, source_name = source.timezone, source.language, source.name
    else:
        tz, language, source_name = "UTC", None, None  # the page's declared language is used
    result = extract_generic(html, url=url, tz=tz, language=language)
    return {
        "title": result.title,
        "published_at": result.published_at.isoformat() if result.published_at else None,
        "author": result.author,
        "source": source_name,
        "url": url,
        "body": result.body,
        "extraction": result.methods,
    }


__all__ = ["GenericExtraction", "clean_authors", "extract_file", "extract_generic", "read_html"]
