"""Title, publication time and author of a page without selectors: the generic extractor's choices.

The page's declarations (``news_etl.metadata``: JSON-LD, <meta>, microdata, the
reader the site parser uses too) are evidence; the visible page decides where
they disagree: the headline shown in an ``h1``/``h2`` that a declaration matches,
a byline element when nothing is declared, a time shown next to the headline
when the declared value is only a day. Dates go through the project's one date
parser (``news_etl.dates``) with the source's zone and language. Every rule is
measured by ``make bench-extraction`` (news-metadata/ and publication-dates/).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from copy import deepcopy
from datetime import datetime, timedelta
from itertools import islice
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement

from news_etl.dates import DateParseError, PageDate, read_page_date
from news_etl.metadata import BYLINE_PREFIX, PageMetadata, clean_authors

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _words(text: str) -> list[str]:
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
    return lowered.replace(" ", "") in labels or bool(labels & set(_words(part)))


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
    text = _clean(node.text_content())
    for child in node.iterdescendants():
        inner = _clean(child.text_content()) if isinstance(child.tag, str) else ""
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
    """``heading`` without a "Kicker: " glued before a headline the page also declares alone.

    Only a declared headline counts (not the <title>, whose site-name stripping is a guess).
    """
    lowered = {_clean(d).casefold() for d in declared}
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
    title_tag = _strip_site_name(_clean(node.text_content()), site_names) if node is not None else ""
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


# ---------------------------------------------------------------- date

_DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})/(\d{2})/")


TEXT_DATE = re.compile(
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
    # A date and time printed right under the headline (the page's own dateline), before
    # dates in elements merely named for them: those are often the day's date in the header.
    for heading in islice(tree.iter("h1", "h2"), 3):
        for sibling in islice(heading.itersiblings(), 2):
            text = _clean(" ".join(sibling.itertext())) if isinstance(sibling.tag, str) else ""
            if len(text) <= 80 and (match := TEXT_DATE.search(text)) and _CLOCK.search(match.group(0)):
                yield text[match.start():], "dateline"
    # Visible dates in elements named for them ("date", "published", "byline"), short text only.
    for node in tree.xpath('.//*[contains(@class, "date") or contains(@class, "publish") or '
                           'contains(@class, "byline") or contains(@class, "time")][not(*[4])]')[:20]:
        text = _clean(node.text_content())
        if 6 <= len(text) <= 80 and re.search(r"\d", text):
            yield BYLINE_PREFIX.sub("", text), "markup"


def page_date(tree: HtmlElement, metadata: PageMetadata, *, url: str | None, tz: str, language: str | None,
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
            # "Veröffentlicht am 13. Mai 2026 um 15:44", "erstellt: 01. April 2025, 15:25".
            unlabelled = _DATE_LABEL.sub("", text, count=1)
            try:
                parsed = read(unlabelled) if unlabelled != text else None
            except DateParseError:
                parsed = None
            if parsed is None:
                continue
        if not zone_is_known and isinstance(parsed.at.tzinfo, ZoneInfo) and (
                offset := _page_offset(metadata, tz)):
            # A time without an offset on a site of unknown zone: the page's own offset, stated
            # on its other times, is a better guess than the stand-in zone.
            wall = parsed.at.replace(tzinfo=None)
            parsed = PageDate(datetime.fromisoformat(wall.isoformat() + offset), parsed.date_only)
        if not parsed.date_only and _CLOCK.search(text):
            # A full timestamp on the same day beats a bare day found earlier.
            if day_only is None or abs(parsed.at - day_only[0].at).total_seconds() < 36 * 3600:
                if not zone_is_known and parsed.at.utcoffset() == timedelta(0):
                    parsed = _shown_offset(tree, parsed)
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


_CLOCK = re.compile(r"\d:\d\d")
# A label before a date shown on the page: "Published:", "Veröffentlicht am", "Publié le".
_DATE_LABEL = re.compile(r"^[^\d:]{0,40}?(?::\s*|\s(?:am|on|le|el|il|den|op|at|vom|du|del|em)\s+)", re.I)


def _shown_offset(tree: HtmlElement, parsed: PageDate) -> PageDate:
    """A UTC instant as the page shows it in its own offset (a ``<time datetime>`` of the same instant).

    Servers serialize in UTC what the page displays in local time; the local offset keeps
    the page's own day and wall clock.
    """
    for node in islice(tree.iterfind(".//time[@datetime]"), 20):
        text = _clean(node.get("datetime"))
        if not _ISO_OFFSET.search(text):
            continue
        try:
            shown = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            continue
        if shown.utcoffset() and shown == parsed.at:
            return PageDate(shown, parsed.date_only)
    return parsed


_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*[+-]\d{2}:?\d{2}$")
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


def page_author(tree: HtmlElement, metadata: PageMetadata, url: str | None) -> tuple[str | None, str]:
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


__all__ = ["TEXT_DATE", "page_author", "page_date", "page_title"]
