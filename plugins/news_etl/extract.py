"""Generic article extraction for pages without hand-written selectors.

The body comes from trafilatura (precision mode, its own readability/justext
comparison included) on a tree parsed once, then tidied at paragraph level
with general signals: what the page itself declares (headline, description,
JSON-LD ``articleBody``), link density and caption markup in the DOM, and a
short lexicon of boilerplate phrases (newsletter, "read more", follow us).
When trafilatura's text covers only part of a container whose siblings repeat
its markup (articles split into chunks around ads), the sibling chunks are
added. Boilerplate lines and embeds are the project's one lexicon
(``news_etl.boilerplate``). Title, date and author come from what the page
declares (``news_etl.metadata``, the reader the site parser uses too), then
visible markup; dates go through the project's one date parser
(``news_etl.dates``) with the source's zone and language.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import trafilatura
from cssselect import GenericTranslator
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from news_etl.boilerplate import EMBED_SELECTORS, is_boilerplate, is_edge_furniture
from news_etl.dates import DateParseError, PageDate, read_page_date
from news_etl.metadata import BYLINE_PREFIX, PageMetadata, clean_authors, read_metadata


@dataclass
class GenericExtraction:
    """What a page yields without selectors; any field may be None."""

    title: str | None
    published: PageDate | None  # the date as the page means it (its own offset, day-only or not)
    author: str | None
    body: str | None
    # field -> layer that gave it, e.g. {"title": "json-ld", "body": "trafilatura"}; also
    # "published_at_offset" when a declared offset disagreed with the source's zone.
    methods: dict[str, str] = field(default_factory=dict)

    @property
    def published_at(self) -> datetime | None:
        """The publication instant in UTC."""
        return self.published.at.astimezone(UTC) if self.published else None


_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


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


# Headings that are not the article's visible headline: breadcrumbs and SEO copies
# (often a visually hidden <h1> repeating the <title>), screen-reader-only text.
_HIDDEN_HEADING = re.compile(r"breadcrumb|seo|sr-only|visually-hidden|screen-reader|hidden", re.I)


def _attributes(node: HtmlElement) -> str:
    return " ".join(f"{k} {v}" for k, v in node.attrib.items())


def _visible_headings(tree: HtmlElement) -> list[tuple[str, list[str]]]:
    """(text, texts of its parts) of the page's h1 and h2 headings in page order.

    The parts are a heading's child elements with words of their own: a kicker
    above a headline (``<h2><span>Topic</span><span>Headline</span></h2>``) is one
    of them, the headline another. Hidden and breadcrumb headings are skipped.
    """
    found: list[tuple[str, list[str]]] = []
    for node in tree.iter("h1", "h2"):
        if _HIDDEN_HEADING.search(_attributes(node)) or any(
                a.tag == "nav" or _HIDDEN_HEADING.search(a.get("class") or "")
                for a in islice(node.iterancestors(), 4)):
            continue
        text = _heading_text(node)
        if not 3 <= len(text) <= 400:
            continue
        parts = [_clean(c.text_content()) for c in node.iterdescendants() if isinstance(c.tag, str)]
        children = [t for c in node if isinstance(c.tag, str) and (t := _clean(c.text_content()))]
        if len(children) == 2 and not children[0].endswith(":"):
            # Kicker and headline as the site's own declarations join them ("Topic: Headline").
            parts.insert(0, f"{children[0]}: {children[1]}")
        found.append((text, [p for p in parts if p and p != text]))
    return found


def _overlap(a: str, b: str) -> float:
    """Shared words over all the words of both (1.0: the same words)."""
    sa, sb = set(_words(a)), set(_words(b))
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _without_kicker(heading: str, declared: list[str]) -> str:
    """``heading`` without a "Kicker: " glued before a headline the page also declares alone."""
    lowered = {_clean(d).casefold() for d in declared}
    for match in re.finditer(r"[:|–—]\s+", heading):
        rest = heading[match.end():]
        if match.start() <= 60 and rest.casefold() in lowered:
            return rest
    return heading


def _title(tree: HtmlElement, metadata: PageMetadata) -> tuple[str | None, str]:
    """The visible headline when the page's declarations agree with it; else the best declaration.

    Declared titles (JSON-LD headline, og:title, twitter:title, <title>) are evidence:
    social and SEO titles are often reworded or carry the site's name, so a visible
    heading that one of them matches wins, exact agreement first, then a close one.
    """
    site_names = metadata.site_names()
    node = tree.find(".//title")
    title_tag = _strip_site_name(_clean(node.text_content()), site_names) if node is not None else ""
    declared = [_strip_site_name(t, site_names) if layer != "json-ld" else t
                for t, layer in metadata.headlines()]
    evidence = [t for t in [*declared, title_tag] if t]
    headings = _visible_headings(tree)
    lowered = {e.casefold() for e in evidence}
    for text, parts in headings:
        for candidate in (text, *parts):
            if candidate.casefold() in lowered:
                return _without_kicker(candidate, evidence), "h1"
    close = [text for text, _ in headings if any(_overlap(text, e) >= 0.6 for e in evidence)]
    if close:
        return _without_kicker(close[0], evidence), "h1"
    if declared:
        return declared[0], metadata.headlines()[0][1]
    if title_tag:
        return title_tag, "title-tag"
    h1s = [_heading_text(h) for h in tree.iterfind(".//h1")]
    if len(h1s) == 1 and 3 <= len(h1s[0]) <= 400:
        return h1s[0], "h1"
    return None, "none"


# ---------------------------------------------------------------- date

_DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})/(\d{2})/")


_TEXT_DATE = re.compile(
    r"\b(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})(?:,?\s+\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?"
    r"|\b\d{1,2}\s+[^\W\d]{3,10}\.?,?\s+\d{4}(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?"
    r"|\b[^\W\d]{3,10}\.?\s+\d{1,2},?\s+\d{4}(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?",
    re.I,
)


def _date_candidates(tree: HtmlElement, metadata: PageMetadata) -> Iterator[tuple[str, str]]:
    """Date strings the page declares or shows, most trusted first, each with its method.

    A generator: the DOM scans below are only made when the declared data has no timestamp.
    """
    yield from metadata.published()
    for node in tree.iterfind(".//time"):
        yield node.get("datetime") or node.text_content(), "time-tag"
    # Visible dates in elements named for them ("date", "published", "byline"), short text only.
    for node in tree.xpath('.//*[contains(@class, "date") or contains(@class, "publish") or '
                           'contains(@class, "byline") or contains(@class, "time")][not(*[4])]')[:20]:
        text = _clean(node.text_content())
        if 6 <= len(text) <= 80 and re.search(r"\d", text):
            yield BYLINE_PREFIX.sub("", text), "markup"


def _date(tree: HtmlElement, metadata: PageMetadata, *, url: str | None, tz: str, language: str | None,
          now: datetime | None, zone_is_known: bool) -> tuple[PageDate | None, str]:
    # English is tried after the source's language: dates in meta tags are often English.
    languages = list(dict.fromkeys([language or "en", "en"]))

    def read(text: str) -> PageDate:
        # An unknown site's zone is a stand-in: its declared offset is the best evidence there is.
        return read_page_date(text, tz=tz, languages=languages, now=now, zone_wins=zone_is_known)

    day_only: tuple[PageDate, str] | None = None
    tried: set[str] = set()
    for text, method in _date_candidates(tree, metadata):
        if text in tried:  # pages repeat their date in several places; a failed parse is costly
            continue
        tried.add(text)
        try:
            parsed = read(text)
        except DateParseError:
            continue
        if not zone_is_known and isinstance(parsed.at.tzinfo, ZoneInfo) and (
                offset := _page_offset(metadata, tz)):
            # A time without an offset on a site of unknown zone: the page's own offset, stated
            # on its other times, is a better guess than the stand-in zone.
            wall = parsed.at.replace(tzinfo=None)
            parsed = PageDate(datetime.fromisoformat(wall.isoformat() + offset), parsed.date_only)
        if not _DAY_ONLY.match(_clean(text)):
            # A full timestamp on the same day beats a bare day found earlier.
            if day_only is None or abs(parsed.at - day_only[0].at).total_seconds() < 36 * 3600:
                return parsed, method
            break
        day_only = day_only or (parsed, method)
    if day_only:
        return day_only
    # Last resorts. htmldate's search of the whole page (its original_date rules, URL, extensive
    # patterns) finds more of the days our layers miss than a date in the text does; measured
    # by `make bench-extraction` on publication-dates/.
    # The page's URL, then its picture's (stored under the day it was uploaded), name a day
    # more reliably than a date guessed from the page's text.
    for where, address in (("url", url), ("image-url", metadata.meta.get("og:image"))):
        if match := _URL_DATE.search(urlsplit((address or "").strip()).path):
            try:
                return read("-".join(match.groups())), where
            except DateParseError:
                pass
    if found := _htmldate(tree):
        try:
            return read(found), "htmldate"
        except DateParseError:
            pass
    return None, "none"


def _htmldate(tree: HtmlElement) -> str | None:
    """htmldate's publication day (YYYY-MM-DD) of the page, None when it finds none."""
    import htmldate  # installed with trafilatura; imported on first use (most pages never get here)

    try:
        # A copy: htmldate prunes the tree it searches.
        return htmldate.find_date(deepcopy(tree), original_date=True, extensive_search=True)
    except (ValueError, TypeError):
        return None


_STATED_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}$")


def _page_offset(metadata: PageMetadata, tz: str) -> str | None:
    """A non-UTC offset that the page states on any of its ISO times (published or modified)."""
    texts = [t for t, _ in metadata.published()]
    texts += [v for k in ("dateModified",) if isinstance(v := metadata.article.get(k), str)]
    texts += [metadata.meta[k] for k in ("article:modified_time", "og:updated_time") if k in metadata.meta]
    for text in texts:
        match = _STATED_OFFSET.search(_clean(text))
        if match and match.group(0).replace(":", "") not in ("+0000", "-0000"):
            return match.group(0)
    return None


# ---------------------------------------------------------------- author

# Elements holding a byline; not an author's box (bio, picture, social links).
_BYLINE_NODES = etree.XPath(
    './/*[contains(@class, "author") or contains(@class, "byline") or @rel="author"]'
    '[not(ancestor::footer) and not(ancestor::*[contains(@class, "comment")])]')
_NOT_BYLINE = re.compile(r"avatar|bio|description|image|photo|picture|social|follow|contact|info|"
                         r"wrapper|label|title|date|time|comment", re.I)


def _byline(tree: HtmlElement, organizations: set[str], brands: tuple[str, ...]) -> str | None:
    """Names in the first byline element that yields any, with its siblings of the same class.

    The first one: later bylines on a page are often teasers' or comments'.
    """
    nodes = _BYLINE_NODES(tree)
    # A byline that says "By …" first: the word marks it as one.
    for node in sorted(nodes, key=lambda n: not BYLINE_PREFIX.match(_clean(n.text_content()))):
        css = node.get("class") or ""
        if _NOT_BYLINE.search(css) and "author" not in css.replace("author-", "").split():
            continue
        text = _clean(node.text_content())
        if not 0 < len(text) < 80:
            continue
        parent = node.getparent()
        same = [n for n in parent if n.get("class") == css] if parent is not None and css else [node]
        if found := clean_authors([_clean(n.text_content()) for n in same], organizations, brands):
            return found
    return None


def _author(tree: HtmlElement, metadata: PageMetadata, url: str | None) -> tuple[str | None, str]:
    """The people the page names as authors; agencies it credits; the publication as a last resort.

    The publication itself is the author only when nobody else is credited anywhere and
    the page names it so (JSON-LD author, or a meta author that is the site's name).
    """
    organizations = metadata.organizations()
    # The site's name as its <title> appends it ("Headline | Site") names the publication too.
    node = tree.find(".//title")
    organizations |= {p.lower() for p in _TITLE_SEPARATORS.split(_clean(node.text_content()))[1:]
                      } if node is not None else set()
    brands = (urlsplit(url or "").hostname or "", *metadata.site_names())
    credited = metadata.credited_organizations()
    agencies = [n for n in credited if n.lower() not in organizations]
    for names, method in metadata.authors():
        if method == "json-ld":
            names = names + agencies
        if found := clean_authors(names, organizations, brands):
            return found, method
    if agencies and (found := clean_authors(agencies, organizations)):
        return found, "json-ld"
    if found := _byline(tree, organizations, brands):
        return found, "markup"
    own = [n for n in credited if n.lower() in organizations]
    own += [v for v in metadata.meta_lists.get("author", ()) if v.lower() in organizations]
    if own:
        return own[0], "publication"
    return None, "none"


# ---------------------------------------------------------------- body

# Blocks removed before trafilatura: captions, credits and social-network embeds are not article prose.
_PRUNE = ["//figcaption", "//*[contains(concat(' ', normalize-space(@class), ' '), ' caption ')]",
          GenericTranslator().css_to_xpath(EMBED_SELECTORS)]
_LETTER = re.compile(r"[^\W\d_]")


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
            if _LETTER.search(p) and not is_boilerplate(p) and not (i in edge and is_edge_furniture(p))]


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


def _body(tree: HtmlElement, url: str | None, metadata: PageMetadata,
          title: str | None) -> tuple[str | None, str]:
    options = {"url": url, "include_comments": False, "favor_precision": True, "prune_xpath": _PRUNE}
    # Fast mode skips trafilatura's readability/justext comparison, which only changes the
    # result when its own extraction comes out short; the full cascade runs in that case.
    text = trafilatura.extract(tree, fast=True, **options) or ""
    method = "trafilatura"
    if len(text) < _SHORT_TEXT:
        text = trafilatura.extract(tree, **options) or ""
    paragraphs = _paragraphs(text)
    blocks = _blocks(tree)
    ld = metadata.article
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
                       description=metadata.meta.get("og:description") or metadata.meta.get("description"))
    return ("\n".join(paragraphs) or None), method


# ---------------------------------------------------------------- public API

def extract_generic(html: str | bytes, *, url: str | None, tz: str, language: str | None,
                    fetched_at: datetime | None = None, zone_is_known: bool = False) -> GenericExtraction:
    """Title, publication time, author and body of an article page.

    ``tz``/``language`` are the source's: they place dates shown without an
    offset and read month names. ``zone_is_known``: ``tz`` is a configured
    source's zone (not a stand-in), so it wins over a declared offset that
    disagrees with it (``news_etl.dates.read_page_date``). ``fetched_at``
    anchors relative dates.
    """
    tree = load_html(html)
    if tree is None:
        return GenericExtraction(None, None, None, None, {"title": "none", "published_at": "none",
                                                           "author": "none", "body": "none"})
    metadata = read_metadata(tree, url)
    title, title_method = _title(tree, metadata)
    language = language or _tree_language(tree)
    published, date_method = _date(tree, metadata, url=url, tz=tz, language=language, now=fetched_at,
                                   zone_is_known=zone_is_known)
    author, author_method = _author(tree, metadata, url)
    body, body_method = _body(tree, url, metadata, title)
    methods = {"title": title_method, "published_at": date_method, "author": author_method,
               "body": body_method if body else "none"}
    if published and published.offset_disagreement:
        methods["published_at_offset"] = published.offset_disagreement
    return GenericExtraction(title=title, published=published, author=author, body=body, methods=methods)


def _tree_language(tree: HtmlElement) -> str | None:
    """The page's declared language (two-letter code), if any."""
    lang = tree.get("lang") or tree.get("xml:lang") or ""
    match = re.match(r"[a-zA-Z]{2}\b", lang.strip())
    return match.group(0).lower() if match else None


__all__ = ["GenericExtraction", "extract_generic"]
