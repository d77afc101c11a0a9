"""Loading a batch in one transaction: validate, lock, match, find duplicates, write, record.

Invariants (tests/db/test_load.py, tests/db/test_load_concurrency.py):

- a batch is stored completely or not at all, ledger rows included;
- every input article gets exactly one outcome in the run ledger;
- several loaders at once never store an article twice: the unique
  constraints of ``articles`` and ``article_urls`` decide, and an advisory lock
  per source makes two loaders of one source queue instead of racing (taken in
  key order, so they cannot deadlock);
- an unchanged article (same identity, same exact text) writes nothing but its
  ledger row.

Articles with one identity are loaded in separate rounds of the same
transaction, in input order, so the later one sees what the earlier one stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from news_etl import dedup, ledger
from news_etl.errors import Rejected
from news_etl.load.batch import DEFAULT_SETTINGS, Batch, Item, LoadSettings, Outcome
from news_etl.load.duplicates import mark_exact_duplicates, mark_near_duplicates
from news_etl.load.match import KEYS_TABLE, match_stored, send_keys
from news_etl.load.validate import validate_batch
from news_etl.load.write import resolve_originals, write_articles, write_urls_and_duplicates
from news_etl.record import Article

# First key of the two-key advisory lock taken per source (second: hashtext(source_key)).
SOURCE_LOCK_CLASS = 727_004


def load_articles(conn, articles: Sequence[Article], *, run_id: int, near_policy: str = "link",
                  commit: bool = True, settings: LoadSettings | None = None) -> list[Outcome]:
    """Deduplicate and load one batch; returns (url, outcome, article_id) per input article.

    One transaction: committed at the end (unless ``commit=False``), rolled
    back on any error. Every article's URL gets its outcome in the run ledger
    in the same transaction.
    """
    batch = Batch(run_id, list(articles), settings or DEFAULT_SETTINGS, near_policy)
    validate_batch(batch)
    try:
        with conn.cursor() as cur:
            _lock_sources(cur, batch)
            pending = list(batch.items.values())
            send_keys(cur, pending)  # the batch's keys stay on the server until its ledger rows are written
            while pending:
                pending = _load_round(cur, batch, pending)
            keyed, full = batch.ledger_rows()
            ledger.record_keyed_outcomes(cur, run_id, KEYS_TABLE, keyed)
            ledger.record_outcomes(cur, run_id, full)
        if commit:
            conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return batch.outcomes()


def load_batches(conn, batches: Iterable[Sequence[Article]], *, run_id: int, near_policy: str = "link",
                 settings: LoadSettings | None = None) -> Iterator[list[Outcome]]:
    """:func:`load_articles` for each batch in turn, yielding each batch's outcomes once committed."""
    for articles in batches:
        yield load_articles(conn, articles, run_id=run_id, near_policy=near_policy, settings=settings)


def _lock_sources(cur, batch: Batch) -> None:
    """Take the batch's source locks (in key order) and reject items of sources not in ``sources``."""
    sources = sorted({item.article.source_key for item in batch.items.values()})
    for key in sources:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SOURCE_LOCK_CLASS, key))
    # A statement of its own, after the locks: it sees what was committed while waiting for them.
    cur.execute("SELECT source_key FROM sources WHERE source_key = ANY(%s)", (sources,))
    known = {key for (key,) in cur.fetchall()}
    for n, item in list(batch.items.items()):
        if item.article.source_key not in known:
            detail = f"source {item.article.source_key!r} is not in sources"
            batch.reject(n, Rejected("load", "unknown_source", detail))


def _identity(article: Article) -> tuple:
    if article.source_article_id:
        return ("id", article.source_key, article.source_article_id)
    return ("url", article.url)


def _load_round(cur, batch: Batch, pending: list[Item]) -> list[Item]:
    """Load the first item of each identity among ``pending``; returns the items left for later."""
    this_round: list[Item] = []
    later: list[Item] = []
    seen: set[tuple] = set()
    for item in pending:
        key = _identity(item.article)
        (later if key in seen else this_round).append(item)
        seen.add(key)
    deferred = match_stored(cur, this_round)
    waiting = {it.index for it in deferred}
    items = [it for it in this_round if it.index not in waiting]

    known = [it for it in items if it.outcome is None and it.article_id is not None]
    for item in known:
        item.content_hash = item.stored_hash if item.same_text else \
            dedup.content_hash(item.article.title, item.article.body)
        item.outcome = "unchanged" if item.content_hash == item.stored_hash else "updated"
    new = [it for it in items if it.outcome is None and it.article_id is None]
    for item in new:
        item.content_hash = dedup.content_hash(item.article.title, item.article.body)
    distinct = mark_exact_duplicates(cur, new)
    if batch.settings.near_duplicates:
        mark_near_duplicates(cur, batch, distinct)
    for item in distinct:
        item.outcome = item.outcome or "new"

    write_articles(
        cur, batch,
        new=[it for it in distinct if it.outcome == "new" or
             (it.outcome == "duplicate_near" and batch.near_policy == "link")],
        changed=[it for it in known if it.outcome == "updated"],
        relearned=[it for it in known if it.outcome == "unchanged" and not it.same_text])
    resolve_originals(items)
    write_urls_and_duplicates(cur, batch, items)
    return sorted(deferred + later, key=lambda it: it.index)
