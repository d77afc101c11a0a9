"""Matching: which stored article each item of a batch is, by identity.

An article's identity is (source, source article id) when the source numbers
its articles, else its URL: the canonical URL of a stored article, or one of
the other URLs it was seen under (``article_urls``). The keys of the items
go to the server in one COPY (no bodies) and come back matched in one
statement; a rerun then needs no content hash when the stored exact-text
digest is the item's. The keys stay on the server for the whole batch: each
round matches its own, and the run ledger takes their URLs from there
(``ledger.record_keyed_outcomes``) instead of receiving them a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from news_etl.load.batch import Item
from news_etl.pgcopy import NULL, array_literal, bytea, copy_lines, escape, temp_table

KEYS_TABLE = "load_keys"  # (i: item index, source_key, sid, url, raw: raw digest) per valid item
_KEYS_COLUMNS = ("i", "source_key", "sid", "url", "raw")

# For each key of load_keys of this round, the stored article its source id names (sid_*) and the one its
# URL names (url_*), when there is one. The URL is looked up only when the source id found
# nothing or an article with another canonical URL. LIMIT 1 keeps each LATERAL subquery an
# index lookup (the unique constraints allow one row anyway): without it the planner, which
# knows nothing of the temporary table, may join it to all of articles by hashing.
MATCH_STORED = """
SELECT k.i,
       s.article_id            AS sid_article_id,
       s.content_hash          AS sid_content_hash,
       s.raw_digest = k.raw    AS sid_same_text,
       s.canonical_url = k.url AS sid_canonical,
       u.article_id            AS url_article_id,
       u.source_key            AS url_source_key,
       u.source_article_id     AS url_source_article_id,
       u.content_hash          AS url_content_hash,
       u.raw_digest = k.raw    AS url_same_text
FROM load_keys k
LEFT JOIN LATERAL (
    SELECT a.article_id, a.content_hash, a.raw_digest, a.canonical_url
    FROM articles a
    WHERE a.source_key = k.source_key AND a.source_article_id = k.sid
    LIMIT 1
) s ON true
LEFT JOIN LATERAL (
    SELECT * FROM (
        SELECT a.article_id, a.source_key, a.source_article_id, a.content_hash, a.raw_digest
        FROM articles a WHERE a.canonical_url = k.url
        UNION ALL
        SELECT a.article_id, a.source_key, a.source_article_id, a.content_hash, a.raw_digest
        FROM article_urls x JOIN articles a ON a.article_id = x.article_id WHERE x.url = k.url
    ) by_url
    WHERE s.article_id IS NULL OR s.canonical_url <> k.url
    LIMIT 1
) u ON true
WHERE k.i = ANY(%(round)s::int[]) AND (s.article_id IS NOT NULL OR u.article_id IS NOT NULL)
"""


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """One row of :data:`MATCH_STORED`, its columns by name."""

    i: int
    sid_article_id: int | None
    sid_content_hash: str | None
    sid_same_text: bool | None
    sid_canonical: bool | None
    url_article_id: int | None
    url_source_key: str | None
    url_source_article_id: str | None
    url_content_hash: str | None
    url_same_text: bool | None


_FIELDS = tuple(StoredMatch.__slots__)


def send_keys(cur, items: Sequence[Item]) -> None:
    """Put the keys of a batch's items in :data:`KEYS_TABLE` (one COPY, no bodies), replacing any before."""
    temp_table(cur, KEYS_TABLE, "i int, source_key text, sid text, url text, raw bytea")
    copy_lines(cur, KEYS_TABLE, _KEYS_COLUMNS, map(_key_line, items))


def _key_line(item: Item) -> str:
    a = item.article
    sid = escape(a.source_article_id) if a.source_article_id else NULL
    return f"{item.index}\t{escape(a.source_key)}\t{sid}\t{escape(a.url)}\t{bytea(item.raw_digest)}\n"


def stored_matches(cur, items: Sequence[Item]) -> dict[int, StoredMatch]:
    """:data:`MATCH_STORED` for ``items`` (their keys sent): their matches by item index (unmatched
    items are absent)."""
    cur.execute(MATCH_STORED, {"round": array_literal(it.index for it in items)})
    columns = tuple(d.name for d in cur.description)
    if columns != _FIELDS:  # the statement and the record are edited together
        raise RuntimeError(f"MATCH_STORED returns {columns}, StoredMatch expects {_FIELDS}")
    return {row[0]: StoredMatch(*row) for row in cur.fetchall()}


def match_stored(cur, items: Sequence[Item]) -> list[Item]:
    """Give each item (its key sent) its stored article (or an identity conflict); returns the items
    to defer.

    Items are of one round, with pairwise distinct identities; two of them can
    still resolve to one stored article (its source id and another URL of it):
    the second is deferred to the next round.
    """
    if not items:
        return []
    matches = stored_matches(cur, items)
    claimed: set[int] = set()
    deferred: list[Item] = []
    for item in items:
        m = matches.get(item.index)
        if m is None:
            continue  # a new article
        article_id, stored_hash, same_text = m.sid_article_id, m.sid_content_hash, m.sid_same_text
        if article_id is None:  # found by URL only: the URL must not belong to another identity
            owner = f"URL {item.article.url} belongs to article {m.url_article_id}"
            if m.url_source_key != item.article.source_key:
                item.reject("identity_conflict", f"{owner} of source {m.url_source_key!r}, "
                                                 f"not {item.article.source_key!r}")
                continue
            sid = item.article.source_article_id
            if sid and m.url_source_article_id is not None and m.url_source_article_id != sid:
                item.reject("identity_conflict",
                            f"{owner} with source id {m.url_source_article_id}, not {sid}")
                continue
            article_id, stored_hash, same_text = m.url_article_id, m.url_content_hash, m.url_same_text
        if article_id in claimed:
            deferred.append(item)
            continue
        claimed.add(article_id)
        item.article_id, item.stored_hash, item.same_text = article_id, stored_hash, bool(same_text)
        # Found by source id under a URL stored nowhere: the URL becomes another URL of the article.
        item.add_url = m.url_article_id is None and not m.sid_canonical
    return deferred
