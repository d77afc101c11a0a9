"""Duplicates among the new articles of a batch: exact (same content hash) and near (MinHash LSH).

Both look at stored articles and at earlier items of the same batch. The
near-duplicate machinery (signatures, LSH bands, the exact Jaccard check that
keeps any pair below the threshold from being linked) is ``news_etl.dedup``;
its recall and cost are measured by bench/load_bench.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from news_etl import dedup
from news_etl.load.batch import Batch, Item
from news_etl.pgcopy import array_literal

# The first stored article with each content hash: one probe per hash of the
# (content_hash, article_id) index, which gives the lowest id directly.
STORED_WITH_HASH = """
SELECT q.i, a.article_id, a.source_key
FROM unnest(%(indexes)s::int[], %(hashes)s::text[]) AS q(i, content_hash)
CROSS JOIN LATERAL (
    SELECT article_id, source_key FROM articles
    WHERE content_hash = q.content_hash
    ORDER BY article_id LIMIT 1
) a
"""


def mark_exact_duplicates(cur, new: Sequence[Item]) -> list[Item]:
    """Mark new items whose content hash is stored or given earlier in the batch; returns the others."""
    if not new:
        return []
    cur.execute(STORED_WITH_HASH, {"indexes": array_literal(it.index for it in new),
                                   "hashes": array_literal(it.content_hash for it in new)})
    stored = {i: (article_id, source_key) for i, article_id, source_key in cur.fetchall()}
    first_with_hash: dict[str, Item] = {}
    others = []
    for item in new:
        if item.index in stored:
            item.original_id, original_source = stored[item.index]
        elif item.content_hash in first_with_hash:
            item.original = first_with_hash[item.content_hash]
            original_source = item.original.article.source_key
        else:
            first_with_hash[item.content_hash] = item
            others.append(item)
            continue
        item.outcome = "duplicate_exact"
        # Same site, same text, another URL: one article seen under two URLs.
        item.add_url = original_source == item.article.source_key
    return others


def mark_near_duplicates(cur, batch: Batch, new: Sequence[Item]) -> None:
    """Sign the new items and mark those that nearly repeat a stored article or an earlier item.

    Candidates come from shared LSH bands, are filtered by the Jaccard estimated
    from the signatures, and are linked only at an exact Jaccard of the
    shingle sets at or above the threshold.
    """
    if not new:
        return
    threshold = batch.settings.near_threshold
    floor = threshold - dedup.ESTIMATE_MARGIN
    shingle_ids = [dedup.shingle_ids(it.article.body) for it in new]
    for item, ids in zip(new, shingle_ids, strict=True):
        item.signature = dedup.signature("", ids=ids)
    bands = [dedup.band_hashes(it.signature) for it in new]
    found = dedup.candidate_ids(cur, bands)
    signatures = dedup.stored_signatures(cur, set().union(*found))
    close = [{a: signatures[a] for a in ids if a in signatures
              and dedup.estimated_jaccard(item.signature, signatures[a]) >= floor}
             for item, ids in zip(new, found, strict=True)]
    texts = dedup.stored_texts(cur, set().union(*close))  # bodies only of close candidates

    shingle_sets: dict[int, set[int]] = {}  # by item index, built only for items with a close candidate

    def shingles_of(item: Item, ids) -> set[int]:
        if item.index not in shingle_sets:
            shingle_sets[item.index] = set(ids.tolist())
        return shingle_sets[item.index]

    earlier_by_band: dict[int, list[tuple[Item, object]]] = {}
    for item, ids, item_bands, candidates in zip(new, shingle_ids, bands, close, strict=True):
        best: tuple[float, int | None, Item | None] | None = None
        if candidates:
            match = dedup.best_match(item.article.body, item.signature, candidates, texts, threshold,
                                     mine=shingles_of(item, ids))
            if match is not None:
                best = (match.similarity, match.original_article_id, None)
        earlier = {other.index: (other, other_ids) for b in item_bands
                   for other, other_ids in earlier_by_band.get(b, ())}
        for other, other_ids in earlier.values():
            if dedup.estimated_jaccard(item.signature, other.signature) < floor:
                continue
            exact = dedup.jaccard(shingles_of(item, ids), shingles_of(other, other_ids))
            if exact >= threshold and (best is None or exact > best[0]):
                best = (exact, None, other)
        if best is not None:
            item.outcome = "duplicate_near"
            item.similarity, item.original_id, item.original = best
        # Later items can repeat this one only if it is stored.
        if item.outcome is None or batch.near_policy == "link":
            for b in item_bands:
                earlier_by_band.setdefault(b, []).append((item, ids))
