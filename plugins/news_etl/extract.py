"""Generic article extraction for pages without hand-written selectors.

The body comes from trafilatura (precision mode, its own readability/justext
comparison included) on a tree parsed once, then tidied at paragraph level
with general signals: what the page itself declares (headline, description,
JSON-LD ``articleBody``), link density and caption markup in the DOM, and a
short lexicon of boilerplate phrases (newsletter, "read more", follow us).
When trafilatura's text covers only part of a container whose siblings repeat
its markup (articles split into chunks around ads), the sibling chunks are
added. Boilerplate lines and embeds are the project's one lexicon
(``news_etl.boilerplate``). Title, date and author are chosen by
``news_etl.page_metadata`` and ``news_etl.page_dates``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

import lxml.html
import trafilatura
from cssselect import GenericTranslator
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from news_etl.boilerplate import EMBED_SELECTORS, is_boilerplate, is_edge_furniture
from news_etl.dates import PageDate
from news_etl.metadata import PageMetadata, read_metadata
from news_etl.page_dates import TEXT_DATE, page_date
from news_etl.page_metadata import clean_text, page_author, page_title, words


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


_WORD = re.compile(r"\w+")


# ---------------------------------------------------------------- body

# Blocks removed before trafilatura: captions, credits and social-network embeds are not article prose.
_PRUNE = ["//figcaption", "//*[contains(concat(' ', normalize-space(@class), ' '), ' caption ')]",
          GenericTranslator().css_to_xpath(EMBED_SELECTORS)]
_LETTER = re.compile(r"[^\W\d_]")


_SHORT_TEXT = 1500  # characters
_EMPTY_TEXT = 200  # characters: a visible extraction this short found no article


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
    text = len(clean_text(node.text_content())) or 1
    return sum(len(clean_text(a.text_content())) for a in node.iterfind(".//a")) / text


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
    main_story = next(main.iterancestors("article"), None)
    seen_main = False
    known = {_key(p) for p in paragraphs}
    for node in tree.iter(main.tag):
        if node is main:
            seen_main = True
            continue
        if (node.get("class") or "").strip() != css or _link_density(node) > 0.2:
            continue
        # Only containers outside the chosen one (nested repeats are already covered), and
        # not inside another <article>: endless pages append the next story with the same markup.
        if any(a is main for a in node.iterancestors()) or any(a is node for a in main.iterancestors()):
            continue
        story = next(node.iterancestors("article"), None)
        if story is not None and main_story is not None and story is not main_story:
            continue
        texts = [clean_text(p.text_content()) for p in node.iterfind("p")]
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
    title_words = words(title or "")
    # Only an exact repeat: a lead sentence often paraphrases the headline closely.
    while out and title_words and words(out[0])[:len(title_words)] == title_words:
        rest = out[0][len(title or ""):] if out[0].startswith(title or "") else ""
        # The headline alone, or with the date an older layout nests in it.
        if words(out[0]) != title_words and not (rest and len(rest) <= 40 and TEXT_DATE.search(rest)):
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


# A word with the combining marks that may follow its letters ("a" + U+0308 for "ä").
_TYPED_WORD = re.compile(r"(?:\w|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])+")


def _restore_decomposed(blocks: Blocks, paragraphs: list[str]) -> list[str]:
    """Put back the words the page typed decomposed ("a" + U+0308), which trafilatura composes (NFC).

    The same text in either form reads the same, but a word split by a combining mark is
    not the same token to a search index or a comparison with the page: the page's own
    spelling is kept, as for no-break spaces. The normalized record is NFC all the same.
    """
    spellings: dict[str, Counter] = {}
    for _, text in blocks:
        if unicodedata.is_normalized("NFC", text):
            continue
        for word in _TYPED_WORD.findall(text):
            if not unicodedata.is_normalized("NFC", word):
                spellings.setdefault(unicodedata.normalize("NFC", word), Counter())[word] += 1
    if not spellings:
        return paragraphs
    typed = {composed: forms.most_common(1)[0][0] for composed, forms in spellings.items()}
    return [_TYPED_WORD.sub(lambda m: typed.get(m.group(0), m.group(0)), p) for p in paragraphs]


def _drop_link_lists(blocks: Blocks, paragraphs: list[str]) -> list[str]:
    """Drop paragraphs that are, wherever they occur on the page, just a link.

    Teasers for other articles ("- 15 Amazing Images of Stars") survive
    extraction as text; in the DOM they are short blocks whose text is all anchor
    text, or blocks of any length inside an anchor (a whole teaser made a link).
    """
    keys = {_key(p) for p in paragraphs}
    short = {_key(p) for p in paragraphs if len(p) < 200}
    linky: dict[str, bool] = {}
    for node, key in _find(blocks, keys, ("p", "li", "h2", "h3", "h4", "dd", "dt")):
        in_link = any(a.tag == "a" for a in islice(node.iterancestors(), 6))
        link = in_link or (key in short and _link_density(node) >= 0.9)
        linky[key] = linky.get(key, True) and link
    return [p for p in paragraphs if not linky.get(_key(p), False)]


# A JSON string in a script that holds HTML paragraphs: "...": "<p>…</p>…" (escaped or not).
_JSON_HTML = re.compile(r'"((?:[^"\\]|\\.)*?(?:<p[\s>]|\\u003c[pP]\b)(?:[^"\\]|\\.)*)"')


def _embedded_paragraphs(tree: HtmlElement) -> list[str]:
    """Paragraphs of the longest article HTML carried as a JSON string inside a script.

    Pages built by JavaScript apps send the article's markup in their hydration data and
    render it in the browser: without a browser, that string is the only copy of the text.
    """
    best: list[str] = []
    for script in tree.iter("script"):
        code = script.text or ""
        if len(code) < 500 or "ld+json" in (script.get("type") or ""):
            continue
        for match in _JSON_HTML.finditer(code):
            try:
                markup = json.loads(f'"{match.group(1)}"')
                fragment = lxml.html.fragment_fromstring(markup, create_parent="div")
            except (ValueError, etree.ParserError):
                continue
            found = [t for p in fragment.iter("p") if (t := clean_text(p.text_content()))
                     and not any(a.tag == "figure" or "caption" in (a.get("class") or "")
                                 for a in p.iterancestors())]
            if len(" ".join(found)) > len(" ".join(best)):
                best = found
    return best


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
    if declared_paras and len(clean_text(declared)) > 2 * len(" ".join(paragraphs)) + 200:
        # trafilatura found little while the page declares its full text.
        paragraphs, method = declared_paras, "json-ld"
    if len(" ".join(paragraphs)) < _EMPTY_TEXT and (embedded := _embedded_paragraphs(tree)) and \
            len(" ".join(embedded)) > 2 * len(" ".join(paragraphs)) + 200:
        # The visible page is a shell that scripts fill in (hydration data of a JavaScript app).
        # Only then: scripts of a page with a visible article also carry other stories' text.
        paragraphs, method = embedded, "script-html"
    if method == "trafilatura":
        before, after = _sibling_chunks(tree, blocks, paragraphs)
        if before or after:
            paragraphs, method = before + paragraphs + after, "trafilatura+siblings"
    paragraphs = _restore_decomposed(blocks, _restore_nbsp(blocks, _drop_link_lists(blocks, paragraphs)))
    paragraphs = _tidy(paragraphs, title=title,
                       description=metadata.meta.get("og:description") or metadata.meta.get("description"))
    return ("\n".join(paragraphs) or None), method


# ---------------------------------------------------------------- public API

def extract_generic(html: str | bytes, *, url: str | None, tz: str, language: str | None,
                    fetched_at: datetime | None = None, zone_is_known: bool = False,
                    credit_publication: bool = True) -> GenericExtraction:
    """Title, publication time, author and body of an article page.

    ``tz``/``language`` are the source's: they place dates shown without an
    offset and read month names. ``zone_is_known``: ``tz`` is a configured
    source's zone (not a stand-in), so it wins over a declared offset that
    disagrees with it (``news_etl.dates.read_page_date``). ``fetched_at``
    anchors relative dates. ``credit_publication``: the publication may be the author
    when the page credits nobody else; a configured source's record names its source
    already, so its parser turns this off.
    """
    tree = load_html(html)
    if tree is None:
        return GenericExtraction(None, None, None, None, {"title": "none", "published_at": "none",
                                                           "author": "none", "body": "none"})
    metadata = read_metadata(tree, url)
    title, title_method = page_title(tree, metadata)
    language = language or _tree_language(tree)
    published, date_method = page_date(tree, metadata, url=url, tz=tz, language=language, now=fetched_at,
                                   zone_is_known=zone_is_known)
    author, author_method = page_author(tree, metadata, url)
    if author_method == "publication" and not credit_publication:
        author, author_method = None, "none"
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
