"""Title and author of a page without selectors: the generic extractor's choices.

The page's declarations (``news_etl.metadata``: JSON-LD, <meta>, microdata, the
reader the site parser uses too) are evidence; the visible page decides where
they disagree: the headline shown in an ``h1``/``h2`` that a declaration matches,
a byline element when nothing is declared. The publication time has its own
rules (``news_etl.page_dates``). Every rule is measured by ``make bench-extraction``
(news-metadata/).
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import islice
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from news_etl.metadata import BYLINE_PREFIX, PageMetadata, clean_authors
from news_etl.page_dates import TEXT_DATE

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def clean_text(text: str | None) -> str:
    """``text`` with every run of white space as one space, stripped."""
    return _WS.sub(" ", text or "").strip()


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``: how headlines and lines are compared."""
    return _WORD.findall(text.lower())


# ---------------------------------------------------------------- title

# " | ", " - ", " – " …; "ㅣ" (a Hangul vowel) is how Korean sites draw the bar, spaces or not.
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—·•»:]|-{1,2})\s+|\s*ㅣ\s*")
_BYLINE_PART = re.compile(r"^(?:by|von|par|por|di|door|av)\s+\S", re.I)


def _brand_labels(site_names: list[str]) -> set[str]:
    """The distinctive label of each host ("tageszeitung" of www.tageszeitung.it), lowercased."""
    labels = set()
    for name in site_names:
        host = name.lower().removeprefix("www.")
        if "." in host and " " not in host:
            labels.add(host.split(".")[0])
    return {label for label in labels if len(label) >= 4}


def _is_brand(part: str, site_names: list[str]) -> bool:
    """``part`` names the site: one of its names, or words that spell its host's label."""
    lowered = part.lower()
    if lowered in {s.lower() for s in site_names if s}:
        return True
    labels = _brand_labels(site_names)
    return lowered.replace(" ", "") in labels or bool(labels & set(words(part)))


def _strip_site_name(title: str, site_names: list[str], *, guess: bool = True) -> str:
    """Drop a " | Site" / "Site - " decoration (and a " | by Author") from a <title>-like string.

    With ``guess``, when no part names the site, the longest part is kept if it is most
    of the string (the rest looks like an unknown brand).
    """
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    kept = [p for p in parts if p and not _is_brand(p, site_names) and not _BYLINE_PART.match(p)]
    if len(kept) < len(parts) and kept:
        return " - ".join(kept) if len(kept) > 1 else kept[0]
    if not guess:
        return title
    longest = max(parts, key=len)
    return longest if len(longest) > 0.5 * len(title) else title


def _heading_text(node: HtmlElement) -> str:
    """A heading's text without a date element nested in it (older layouts put one there)."""
    text = clean_text(node.text_content())
    for child in node.iterdescendants():
        inner = clean_text(child.text_content()) if isinstance(child.tag, str) else ""
        if inner and len(inner) <= 40 and TEXT_DATE.search(inner) and text.endswith(inner):
            text = text[: -len(inner)].strip()
        elif inner and len(inner) <= 40 and TEXT_DATE.search(inner) and text.startswith(inner):
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
        parts = [clean_text(c.text_content()) for c in node.iterdescendants() if isinstance(c.tag, str)]
        children = [t for c in node if isinstance(c.tag, str) and (t := clean_text(c.text_content()))]
        if len(children) == 2 and not children[0].endswith(":"):
            # Kicker and headline as the site's own declarations join them ("Topic: Headline").
            parts.insert(0, f"{children[0]}: {children[1]}")
        found.append((text, [p for p in parts if p and p != text]))
    return found


def _overlap(a: str, b: str) -> float:
    """Shared words over all the words of both (1.0: the same words)."""
    sa, sb = set(words(a)), set(words(b))
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _without_kicker(heading: str, declared: list[str]) -> str:
    """``heading`` without a "Kicker: " glued before a headline the page also declares alone.

    Only a declared headline counts (not the <title>, whose site-name stripping is a guess).
    """
    lowered = {clean_text(d).casefold() for d in declared}
    for match in re.finditer(r"[:|–—]\s+", heading):
        rest = heading[match.end():]
        if match.start() <= 60 and rest.casefold() in lowered:
            return rest
    return heading


_QUOTES = str.maketrans({"’": "'", "‘": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


def _quote_form(title: str, forms: list[str]) -> str:
    """The spelling of ``title`` that most of ``forms`` use when they differ from it only in quotes.

    Pages type the same headline with straight quotes in one place and typographic ones
    in another; the form most of its declarations share is the page's. A tie keeps ``title``.
    """
    plain = title.translate(_QUOTES)
    same = [f for f in forms if f != title and f.translate(_QUOTES) == plain]
    if not same:
        return title
    votes = Counter(f for f in forms if f.translate(_QUOTES) == plain)
    best, count = votes.most_common(1)[0]
    return best if count > votes[title] else title


def _agreed_headline(metadata: PageMetadata, site_names: list[str]) -> str | None:
    """The headline every declaration states (JSON-LD, og:title, twitter:title; two at least)."""
    stated = {_strip_site_name(t, site_names, guess=False) for t, _ in metadata.headlines()}
    return stated.pop() if len(stated) == 1 and len(metadata.headlines()) >= 2 else None


def page_title(tree: HtmlElement, metadata: PageMetadata) -> tuple[str | None, str]:
    """The visible headline when the page's declarations agree with it; else the best declaration.

    Declared titles (JSON-LD headline, og:title, twitter:title, <title>) are evidence:
    social and SEO titles are often reworded or carry the site's name, so a visible
    heading that one of them matches wins, exact agreement first, then a close one.
    When every declaration states the same headline and the visible one is only a
    part of it (a kicker or a suffix shown elsewhere) or a rewording that only the
    <title> shares, the declared headline is the publisher's.
    """
    site_names = metadata.site_names()
    node = tree.find(".//title")
    title_tag = _strip_site_name(clean_text(node.text_content()), site_names) if node is not None else ""
    # A declared headline loses only a part that names the site: unlike the <title>,
    # its other parts are the publisher's headline ("BUDGET 3.0 | Sars gets R4bn…").
    declared = [_strip_site_name(t, site_names, guess=False) if layer != "json-ld" else t
                for t, layer in metadata.headlines()]
    evidence = [t for t in [*declared, title_tag] if t]
    forms = [*declared, title_tag]
    agreed = _agreed_headline(metadata, site_names)
    headings = _visible_headings(tree)
    lowered = {e.casefold() for e in evidence}
    chosen: str | None = None
    for text, parts in headings:
        for candidate in (text, *parts):
            if candidate.casefold() in lowered:
                chosen = _without_kicker(candidate, declared)
                break
        if chosen:
            break
    if chosen is None:
        close = [text for text, _ in headings if any(_overlap(text, e) >= 0.6 for e in evidence)]
        chosen = _without_kicker(close[0], declared) if close else None
    if chosen is not None:
        declared_alike = {d.casefold() for d in declared}
        if agreed and chosen.casefold() not in declared_alike and _overlap(chosen, agreed) >= 0.3:
            return agreed, "declared"
        return _quote_form(chosen, [*forms, chosen]), "h1"
    if declared:
        return declared[0], metadata.headlines()[0][1]
    if title_tag:
        return title_tag, "title-tag"
    h1s = [_heading_text(h) for h in tree.iterfind(".//h1")]
    if len(h1s) == 1 and 3 <= len(h1s[0]) <= 400:
        return h1s[0], "h1"
    return None, "none"


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
    for node in sorted(nodes, key=lambda n: not BYLINE_PREFIX.match(clean_text(n.text_content()))):
        css = node.get("class") or ""
        if _NOT_BYLINE.search(css) and "author" not in css.replace("author-", "").split():
            continue
        text = clean_text(node.text_content())
        if not 0 < len(text) < 80:
            continue
        parent = node.getparent()
        same = [n for n in parent if n.get("class") == css] if parent is not None and css else [node]
        if found := clean_authors([clean_text(n.text_content()) for n in same], organizations, brands):
            return found
    return None


def page_author(tree: HtmlElement, metadata: PageMetadata, url: str | None) -> tuple[str | None, str]:
    """The people the page names as authors; agencies it credits; the publication as a last resort.

    The publication itself is the author only when nobody else is credited anywhere and
    the page names it so (JSON-LD author, or a meta author that is the site's name).
    """
    organizations = metadata.organizations()
    # The site's name as its <title> appends it ("Headline | Site") names the publication too.
    node = tree.find(".//title")
    organizations |= {p.lower() for p in _TITLE_SEPARATORS.split(clean_text(node.text_content()))[1:]
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


__all__ = ["page_author", "page_title"]
