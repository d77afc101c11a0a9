"""Writing a batch: new articles, changed articles (old version kept), other URLs, duplicates.

Everything here runs inside the batch's transaction (``news_etl.load.loader``),
so a batch is stored completely or not at all. Uniqueness is the database's
job: a row a unique constraint refuses (another loader stored it meanwhile
without the source lock, or two items claim one URL) is rejected as an
identity conflict, the rest of the batch is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg2
import psycopg2.errors
from psycopg2.extras import Json

from news_etl import dedup
from news_etl.load.batch import Batch, Item
from news_etl.pgcopy import NULL, bytea, copy_lines, escape, temp_table
from news_etl.sources import SourceConfigError, get_source

# What sources.timezone defaults to in the schema: a source not in sources.yaml gets it.
DEFAULT_TIMEZONE = "UTC"

# The columns a new or changed article version is written with, in COPY order.
_COLUMNS = ("article_id", "source_key", "source_article_id", "canonical_url", "title", "published_at",
            "author", "body", "content_hash", "raw_digest", "extraction", "fetched_at")

# Ids for new articles, taken from the articles' identity sequence (COPY keeps given ids).
NEW_IDS = """
SELECT nextval((SELECT pg_get_serial_sequence('articles', 'article_id'))::regclass)
FROM generate_series(1, %(count)s)
"""

# One new article when the batch's COPY met a unique constraint: a row the constraints
# refuse is left out, and nothing comes back.
INSERT_ONE = f"""
INSERT INTO articles ({", ".join(_COLUMNS)}) OVERRIDING SYSTEM VALUE
VALUES ({", ".join(["%s"] * len(_COLUMNS))})
ON CONFLICT DO NOTHING
RETURNING article_id
"""

_CHANGED_TABLE = "load_changed"
_CHANGED_SQL = ("article_id bigint, source_key text, source_article_id text, canonical_url text,"
                " title text, published_at timestamptz, author text, body text, content_hash text,"
                " raw_digest bytea, extraction jsonb, fetched_at timestamptz")

# Changed articles: the stored version goes to article_revisions, the new one replaces it.
UPDATE_CHANGED = """
INSERT INTO article_revisions (article_id, title, published_at, author, body, content_hash, valid_from,
                               run_id)
SELECT a.article_id, a.title, a.published_at, a.author, a.body, a.content_hash, a.updated_at, %(run_id)s
FROM articles a JOIN load_changed r ON r.article_id = a.article_id;
UPDATE articles a SET title = r.title, published_at = r.published_at, author = r.author, body = r.body,
    content_hash = r.content_hash, raw_digest = r.raw_digest, extraction = r.extraction,
    fetched_at = coalesce(r.fetched_at, a.fetched_at), updated_at = now()
FROM load_changed r WHERE a.article_id = r.article_id
"""


def ensure_source(conn, key: str, name: str, base_url: str, *, timezone: str | None = None) -> None:
    """Create or refresh the ``sources`` row (no commit).

    The time zone, when not given, comes from sources.yaml if the source is
    configured there; otherwise a new row gets ``DEFAULT_TIMEZONE`` and an
    existing row keeps its own.
    """
    if timezone is None:
        try:
            timezone = get_source(key).timezone
        except SourceConfigError:  # an unconfigured source (a seed file's site)
            timezone = None
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sources (source_key, name, base_url, timezone)"
            " VALUES (%(key)s, %(name)s, %(base_url)s, coalesce(%(timezone)s, %(default)s))"
            " ON CONFLICT (source_key) DO UPDATE SET name = EXCLUDED.name, base_url = EXCLUDED.base_url,"
            " timezone = coalesce(%(timezone)s, sources.timezone)",
            {"key": key, "name": name, "base_url": base_url, "timezone": timezone,
             "default": DEFAULT_TIMEZONE})


def write_articles(cur, batch: Batch, new: Sequence[Item], changed: Sequence[Item],
                   relearned: Sequence[Item]) -> None:
    """Store ``new`` items (their ids set, refused ones rejected) and ``changed`` ones (a revision
    each); ``relearned``, unchanged items whose exact text differs, only get their digest stored,
    so the next rerun recognises them without a content hash."""
    if new:
        _insert_new(cur, new)
        signed = [(it.article_id, it.signature) for it in new if it.article_id and it.signature is not None]
        dedup.store_signatures(cur, signed)
    if changed:
        temp_table(cur, _CHANGED_TABLE, _CHANGED_SQL)
        copy_lines(cur, _CHANGED_TABLE, _COLUMNS, map(_line, changed))
        cur.execute(UPDATE_CHANGED, {"run_id": batch.run_id})
        ids = [it.article_id for it in changed]
        if batch.settings.near_duplicates:
            dedup.store_signatures(cur, [(it.article_id, dedup.signature(it.article.body)) for it in changed])
        else:  # the old signature no longer describes the text
            cur.execute("DELETE FROM minhash_bands WHERE article_id = ANY(%s);"
                        " DELETE FROM article_fingerprints WHERE article_id = ANY(%s)", (ids, ids))
    if relearned:
        cur.execute("UPDATE articles a SET raw_digest = q.raw_digest"
                    " FROM unnest(%s::bigint[], %s::bytea[]) AS q(article_id, raw_digest)"
                    " WHERE a.article_id = q.article_id",
                    ([it.article_id for it in relearned],
                     [psycopg2.Binary(it.raw_digest) for it in relearned]))


def _insert_new(cur, items: Sequence[Item]) -> None:
    """New articles in one COPY (each body written once); should a unique constraint refuse
    any row, the COPY is undone and the rows go one by one, the refused ones rejected."""
    cur.execute(NEW_IDS, {"count": len(items)})
    for item, (article_id,) in zip(items, cur.fetchall(), strict=True):
        item.article_id = article_id
    cur.execute("SAVEPOINT new_articles")
    try:
        copy_lines(cur, "articles", _COLUMNS, map(_line, items))
    except psycopg2.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT new_articles")
        for item in items:
            row = _row(item)
            cur.execute(INSERT_ONE, (*row[:9], psycopg2.Binary(row[9]), Json(row[10]), row[11]))
            if cur.fetchone() is None:
                item.reject("identity_conflict",
                            "another article already has this source id or canonical URL")
    cur.execute("RELEASE SAVEPOINT new_articles")


def _row(item: Item) -> tuple:
    """The item's values in ``_COLUMNS`` order."""
    a = item.article
    return (item.article_id, a.source_key, a.source_article_id or None, a.url, a.title, a.published_at,
            a.author or "", a.body, item.content_hash, item.raw_digest, a.extraction or {}, a.fetched_at)


_to_json = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps would build one per call


def _line(item: Item) -> str:
    """:func:`_row` as a COPY line: each column formatted for its type (the body is most of the bytes)."""
    a = item.article
    sid = escape(a.source_article_id) if a.source_article_id else NULL
    fetched_at = a.fetched_at.isoformat() if a.fetched_at else NULL
    return (f"{item.article_id}\t{escape(a.source_key)}\t{sid}\t{escape(a.url)}\t{escape(a.title)}\t"
            f"{a.published_at.isoformat()}\t{escape(a.author or '')}\t{escape(a.body)}\t{item.content_hash}\t"
            f"{bytea(item.raw_digest)}\t{escape(_to_json(a.extraction or {}))}\t{fetched_at}\n")


def resolve_originals(items: Sequence[Item]) -> None:
    """Duplicates of an earlier item of the batch point at what that item became once written."""
    for item in items:
        if item.original is None:
            continue
        # An earlier item that is itself a duplicate not stored stands for what it repeats.
        item.original_id = item.original.article_id or item.original.original_id
        if item.original_id is None and item.article_id is None:
            item.reject("identity_conflict", "repeats an article of this batch that could not be stored")
        elif item.original_id is None:  # a near-duplicate stored while its original could not be
            item.outcome = "new"


def write_urls_and_duplicates(cur, batch: Batch, items: Sequence[Item]) -> None:
    """Other URLs of stored articles (``article_urls``) and the duplicates found (``duplicates``)."""
    urls: dict[str, int] = {}
    duplicates = []
    for item in items:
        target = item.original_id if item.outcome == "duplicate_exact" else item.article_id
        if item.add_url and target is not None:
            urls.setdefault(item.article.url, target)
        if item.outcome in ("duplicate_exact", "duplicate_near") and item.original_id is not None:
            duplicates.append((item.article.url, item.article.source_key, item.article_id, item.original_id,
                               "exact" if item.outcome == "duplicate_exact" else "near",
                               round(item.similarity, 4)))
    if urls:
        cur.execute("INSERT INTO article_urls (url, article_id)"
                    " SELECT * FROM unnest(%s::text[], %s::bigint[]) ON CONFLICT (url) DO NOTHING",
                    (list(urls), list(urls.values())))
    if duplicates:
        cur.execute(
            "INSERT INTO duplicates (url, source_key, article_id, original_article_id, kind, similarity,"
            " run_id) SELECT u, s, a, o, k, sim, %s FROM unnest(%s::text[], %s::text[], %s::bigint[],"
            " %s::bigint[], %s::text[], %s::real[]) AS q(u, s, a, o, k, sim)"
            " ON CONFLICT (url, original_article_id) DO UPDATE SET similarity = EXCLUDED.similarity,"
            " article_id = EXCLUDED.article_id, kind = EXCLUDED.kind, run_id = EXCLUDED.run_id",
            (batch.run_id, *[list(column) for column in zip(*duplicates, strict=True)]))
