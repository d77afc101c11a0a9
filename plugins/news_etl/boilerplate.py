"""The one lexicon of boilerplate: what inside an article's text block is not the article.

Two kinds of rules, both for every source:

* ``BOILERPLATE_SELECTORS``: blocks recognised by their markup (comments, scripts,
  figures, social-network embeds). The site parser drops them before making
  paragraphs; the generic extractor prunes them before trafilatura. A source adds
  its own site furniture in ``sources.yaml`` (``selectors.noise``).
* ``is_boilerplate(line)``: lines recognised by their words — photo/video/text
  credits, "read also" and "other articles … by the link" pointers, subscription
  promos, the text an embed leaves when its markup is unknown ("Публикация от …
  (@handle)", "View this post on Instagram", "♬ …"), sponsored-content markers.

Every line rule is anchored at the line's start and bounded in length: a credit
or a marker is a short line of its own, and an article sentence that merely
mentions a photo or Telegram stays. The real-page test (tests/unit/test_real_pages.py)
and ``make bench-extraction`` show what these rules keep and drop.
"""

from __future__ import annotations

import re

# Social-network embeds: the post's own text and handle are not the article's.
EMBED_SELECTORS = (
    "blockquote.instagram-media, blockquote.tiktok-embed, blockquote.twitter-tweet, "
    "blockquote.twitter-video, "
    "blockquote.telegram-post, div.fb-post, div.fb-video"
)
# Blocks inside an article that are never its text on any site.
BOILERPLATE_SELECTORS = (
    ".comments, #comments, script, style, noscript, iframe, figure, form, button, svg, " + EMBED_SELECTORS
)

# A credit line names who made or supplied the pictures or the text. Russian credits often
# have no punctuation after the word ("Фото пресс-службы Акорды", "Фото предоставлено МЧС"),
# so a bare Russian credit word starts a credit; other languages need a separator or "by".
_CREDIT = re.compile(
    r"^(?:(?:фото|видео|иллюстраци[яи]|инфографика|коллаж|кадр)(?![\w-])"
    r"|текст\s*(?::|подготовил\w*)"
    r"|(?:photos?|videos?|images?|pictures?|illustrations?|credits?|source of photo|text)"
    r"(?:\s+by\b|\s*[:©|/])"
    r"|©)",
    re.IGNORECASE,
)
_CREDIT_MAX = 100  # characters; "Фото выше и несколько подряд далее - это участок дороги…" is prose

_READ_ALSO = re.compile(
    r"^(?:(?:читайте|смотрите)\s+(?:также|еще|ещё|по теме)\b"
    r"|(?:related(?: articles?| stories| content)?|read more|read also|see more|see also|also read|"
    r"also on \S+|"
    r"more from|don'?t miss|recommended|читайте по теме|по теме)\s*[:|»]"
    r"|(?:другие|все)\s+(?:статьи|материалы|публикации)\b.*\bпо\s+ссылке\W*$)",
    re.IGNORECASE,
)
_READ_ALSO_MAX = 250

_PROMO_START = re.compile(r"^(?:наши новости теперь в|подписывайтесь на|подпишитесь на|присоединяйтесь к)",
                          re.IGNORECASE)
_NETWORK = re.compile(r"whatsapp|telegram|instagram|facebook|youtube|tiktok|вконтакте|дзен", re.IGNORECASE)
_SUBSCRIBE = re.compile(r"подпис|присоединяйтесь|наш\w*\s+(?:канал|telegram|whatsapp)", re.IGNORECASE)
_PROMO_MAX = 300  # promos are one or two sentences; an article paragraph about Telegram is not dropped

# What an embed leaves behind when its markup is not one of EMBED_SELECTORS.
_EMBED_TEXT = re.compile(
    r"^(?:посмотреть эту публикацию в instagram|view this post on instagram"
    r"|(?:публикация|пост) от .*\(@[\w.]+\)$|a post shared by .*\(@[\w.]+\)$"
    r"|@[\w.]+(?:\s|$).*(?:#|♬)|♬ )",
    re.IGNORECASE,
)
_EMBED_MAX = 300

# Sponsored content says so on a line of its own.
_SPONSORED = re.compile(
    r"^(?:pr|реклама|рекламный материал|на правах рекламы|партн[её]рский материал|жарнама|"
    r"advertisement|advertising|ad|sponsored(?: content)?|paid content|промо)\W*$"
    r"|^материал предоставлен\b",
    re.IGNORECASE,
)
_SPONSORED_MAX = 150

# Site furniture that only counts as such at the edges of a text (first two and last four
# lines), where extractors leave it: prose mentioning "subscribe" mid-article stays.
_EDGE_FURNITURE = re.compile(
    r"^(?:related|read more|see more|see also|also on|more from|don'?t miss|recommended|"
    r"читайте также|смотрите также|читайте нас|подписывайтесь)\b"
    r"|\b(?:newsletters?|subscribe to|follow (?:us|\w+(?: \w+)? on)|"
    r"all rights reserved|click here|share (?:this|it) with|like this story|tell us what you think|"
    r"подпис\w+ на|подписывайтесь|наш\w* телеграм\w*|telegram-канал\w*|whatsapp|наши новости теперь)\b",
    re.IGNORECASE,
)
_EDGE_MAX = 250


def is_edge_furniture(line: str) -> bool:
    """A line that is furniture when it opens or closes an extracted text (newsletter, follow us)."""
    return len(line) < _EDGE_MAX and bool(_EDGE_FURNITURE.search(line))


def is_credit(line: str) -> bool:
    """A photo, video or text credit ("Фото: …", "Фото пресс-службы …", "Текст подготовил: …")."""
    return len(line) <= _CREDIT_MAX and bool(_CREDIT.match(line))


def is_boilerplate(line: str) -> bool:
    """True for a line of an article block that is not the article's text."""
    if is_credit(line):
        return True
    if len(line) <= _READ_ALSO_MAX and _READ_ALSO.match(line):
        return True
    if len(line) <= _EMBED_MAX and _EMBED_TEXT.match(line):
        return True
    if len(line) <= _SPONSORED_MAX and _SPONSORED.match(line):
        return True
    if _PROMO_START.match(line):
        return True
    return len(line) <= _PROMO_MAX and bool(_NETWORK.search(line)) and bool(_SUBSCRIBE.search(line))


__all__ = ["BOILERPLATE_SELECTORS", "EMBED_SELECTORS", "is_boilerplate", "is_credit", "is_edge_furniture"]
