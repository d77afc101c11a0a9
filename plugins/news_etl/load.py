"""Deduplicate and load parsed articles into PostgreSQL, one transaction per batch.

For each batch: validate (bad records become ``rejected`` and the rest goes
on), take an advisory lock per source (two loaders of one source queue
instead of racing; locks are taken in key order, so they cannot deadlock),
then

1. ship only identities and a digest of the exact text (no bodies) and match
   them against stored articles; the matching statement itself writes the
   ledger rows of unchanged articles, so a rerun of them ends here, having
   written nothing but those rows;
2. for the rest compute the normalized content hash: a known article whose
   hash changed is ``updated`` (old version to ``article_revisions``), a new
   article whose hash is stored is ``duplicate_exact`` (looked up by the
   matching statement already when the hash was computed ahead);
3. check new articles for near-duplicates (MinHash LSH, ``news_etl.dedup``);
4. COPY the new rows straight into ``articles`` with ids taken from its
   sequence (one write of each body), with the row-by-row
   ``ON CONFLICT DO NOTHING`` insert as fallback if a constraint objects;
5. record every URL's outcome in the run ledger.

Uniqueness is the database's job (constraints of ``articles`` and
``article_urls``); the lock only avoids wasted work and conflicting updates.

``load_articles`` loads one batch; ``load_batches`` (what the pipeline uses)
loads a sequence of them, each in its own transaction, and prepares the next
batch while the server works on the current one (:class:`WorkAhead`).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg2
from psycopg2.extras import Json

from news_etl import dedup, ledger
from news_etl.errors import Rejected
from news_etl.record import Article

NEAR_POLICIES = ("link", "skip")
# First key of the two-key advisory locks taken per source (second: hashtext(source_key)).
_LOCK_CLASS = 727_004
_NULL = "\\N"  # NULL in COPY's text format
# work_mem of a batch's transaction: its new rows, bodies included, are kept there by the
# statement trigger on articles (2,000 new 3,000-character articles: ~13 MB).
_WORK_MEM = "64MB"


@dataclass(frozen=True)
class LoadSettings:
    """The loader's knobs; the defaults are what the pipeline uses."""

    near_threshold: float = dedup.DEFAULT_THRESHOLD  # Jaccard over word shingles
    near_duplicates: bool = True                     # compute signatures and look for near-duplicates
    future_tolerance: timedelta = timedelta(days=1)  # published_at may be this far ahead of now
    min_body_chars: int = 80                         # shorter bodies are not articles


DEFAULT_SETTINGS = LoadSettings()

Outcome = tuple[str, str, int | None]


# --------------------------------------------------------------------------- validation

def _bad_text(value: Any) -> str | None:
    """Why ``value`` cannot be stored as PostgreSQL text, or None."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"invalid UTF-8 at byte {exc.start}"
        return "bytes instead of text"
    if not isinstance(value, str):
        return f"{type(value).__name__} instead of text"
    try:
        # UTF-16 refuses lone surrogates just as UTF-8 would, and encodes Cyrillic several times faster.
        value.encode("utf-16-le")
    except UnicodeEncodeError as exc:
        return f"lone surrogate {value[exc.start]!r} at character {exc.start}"
    if "\x00" in value:
        return f"NUL character at character {value.index(chr(0))}"
    return None


_TEXT_FIELDS = ("url", "title", "body", "author", "source_key", "source_article_id", "source_name")


def _clean_utf16(article: Article) -> tuple[bytes, bytes] | None:
    """UTF-16LE of the title and body when every text field is a str PostgreSQL takes, else None.

    One encoding per field does the whole check (the encoder refuses lone
    surrogates) and is what :func:`dedup.raw_digest_utf16` hashes.
    None means "look closer" (:func:`_text_problem`), not necessarily "bad".
    """
    title, body = article.title, article.body
    others = (article.url, article.author, article.source_key, article.source_article_id, article.source_name)
    if type(title) is not str or type(body) is not str:
        return None
    for value in others:
        if type(value) is not str and value is not None:
            return None
    joined = "\x01".join([v for v in others if v])
    # str.find is the fastest NUL test measured ("in" and bytes searches are 2-5x slower).
    if body.find("\x00") >= 0 or title.find("\x00") >= 0 or joined.find("\x00") >= 0:
        return None
    try:
        title16, body16 = title.encode("utf-16-le"), body.encode("utf-16-le")
        joined.encode("utf-16-le")
    except UnicodeEncodeError:
        return None
    return title16, body16


def _text_problem(article: Article) -> Rejected | None:
    """The first text field PostgreSQL cannot store, as a rejection, or None."""
    for name in _TEXT_FIELDS:
        problem = _bad_text(getattr(article, name, None))
        if problem:
            return Rejected("load", "invalid_utf8", f"{name}: {problem}")
    return None


def validate_article(article: Article, *, now: datetime | None = None,
                     settings: LoadSettings = DEFAULT_SETTINGS) -> Rejected | None:
    """The reason ``article`` cannot be loaded (a Rejected with stage "load"), or None."""
    return _checked(article, settings)[0] or _future_problem(article, now or datetime.now(UTC), settings)


def _checked(article: Article, settings: LoadSettings) -> tuple[Rejected | None, bytes]:
    """(why ``article`` cannot be loaded or None, the raw digest of its title and body when it can).

    Everything but the date's distance from now (:func:`_future_problem`), which
    is checked when the batch is loaded: this may run a batch ahead.
    """
    utf16 = _clean_utf16(article)
    if utf16 is not None:
        digest = dedup.raw_digest_utf16(*utf16)
    else:
        problem = _text_problem(article)
        if problem is not None:
            return problem, b""
        digest = dedup.raw_digest(article.title, article.body)  # clean after all (see _clean_utf16)
    problem = _content_problem(article, settings)
    return (problem, b"") if problem is not None else (None, digest)


def _content_problem(article: Article, settings: LoadSettings) -> Rejected | None:
    """What is wrong with an article whose text fields are storable, or None."""
    if not article.url:
        return Rejected("load", "no_url", "the article has no URL")
    if not article.source_key:
        return Rejected("load", "no_source", "the article names no source")
    if not (article.title or "").strip():
        return Rejected("load", "no_title", "the title is missing or blank")
    body = article.body or ""
    if len(body) < settings.min_body_chars or len(body.strip()) < settings.min_body_chars:
        body = body.strip()
        return Rejected("load", "body_too_short",
                        f"body has {len(body)} characters, the minimum is {settings.min_body_chars}")
    published = article.published_at
    if not isinstance(published, datetime) or published.tzinfo is None:
        return Rejected("load", "bad_date", f"published_at is not an aware datetime: {published!r}")
    return None


def _future_problem(article: Article, now: datetime, settings: LoadSettings) -> Rejected | None:
    """A rejection when a valid article's published_at is too far ahead of ``now``, else None."""
    published = article.published_at
    if published > now + settings.future_tolerance:
        return Rejected("load", "future_date",
                        f"published_at {published.isoformat()} is more than {settings.future_tolerance} "
                        f"ahead of now ({now.isoformat(timespec='seconds')})")
    return None


def _printable(text: Any) -> str:
    """Text safe for the ledger whatever the input (lone surrogates escaped, NULs dropped)."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "backslashreplace")
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")


# --------------------------------------------------------------------------- sources

def ensure_source(conn, key: str, name: str, base_url: str, *, timezone: str | None = None) -> None:
    """Create or refresh the ``sources`` row (no commit).

    The time zone, when not given, comes from sources.yaml if the source is configured there.
    """
    if timezone is None:
        try:
            from news_etl.sources import get_source

            timezone = get_source(key).timezone
        except Exception:  # an unconfigured source (a seed file's site) keeps the default
            timezone = None
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                    " AND table_name = 'sources' AND column_name = 'timezone'")
        if timezone and cur.fetchone():
            cur.execute("INSERT INTO sources (source_key, name, base_url, timezone) VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT (source_key) DO UPDATE SET name = EXCLUDED.name,"
                        " base_url = EXCLUDED.base_url, timezone = EXCLUDED.timezone",
                        (key, name, base_url, timezone))
        else:
            cur.execute("INSERT INTO sources (source_key, name, base_url) VALUES (%s, %s, %s)"
                        " ON CONFLICT (source_key) DO UPDATE SET name = EXCLUDED.name,"
                        " base_url = EXCLUDED.base_url", (key, name, base_url))


# --------------------------------------------------------------------------- COPY helpers

_copy = ledger.copy_rows
_temp = ledger.empty_temp_table


# --------------------------------------------------------------------------- the batch

@dataclass(slots=True)  # no __dict__: one object per article instead of two, for the GC too
class _Item:
    index: int
    article: Article
    raw: bytes
    hash: str | None = None
    article_id: int | None = None
    stored_hash: str | None = None
    outcome: str | None = None
    original_id: int | None = None       # what it duplicates
    original_index: int | None = None    # ... when that is an earlier item of this batch
    similarity: float = 1.0
    sig: np.ndarray | None = None
    add_url: bool = False
    same_raw: bool = False               # the stored exact text is this one
    reason: str | None = None
    detail: str | None = None
    recorded: bool = False               # its ledger row is written already (unchanged fast path)
    key_line: str = ""                   # its fields for the identity match (_key_line)
    hash_looked_up: bool = False         # the matching statement looked its content hash up ...
    stored_with_hash: tuple[int, str] | None = None  # ... and found (article_id, source_key) with it


@dataclass
class _Batch:
    run_id: int
    settings: LoadSettings
    near_policy: str
    items: dict[int, _Item] = field(default_factory=dict)
    # (url, source_key, article_id, original_article_id, kind, similarity)
    duplicates: list[tuple] = field(default_factory=list)
    single_urls: set[str] = field(default_factory=set)  # URLs given once in the batch
    # Work on this batch done while the previous batch was being inserted, and on the
    # next batch, which this one does while its own rows are being inserted.
    ahead: WorkAhead = field(default_factory=lambda: WorkAhead(()))
    upcoming: WorkAhead = field(default_factory=lambda: WorkAhead(()))
    server_busy: Callable[[], object] = lambda: None  # called as the longest statement is sent
    keys_table_ready: bool = False  # _load_keys is there and empty
    held_urls: dict[str, bool] = field(default_factory=dict)  # whether the run's ledger holds a URL

    def content_hash(self, item: _Item) -> str:
        return self.ahead.content_hash(item.index, item.article) or \
            dedup.content_hash(item.article.title, item.article.body)


class WorkAhead:
    """Per-article work on a batch done before it is loaded, while the server is busy.

    For each article, by its position in the batch: validation (why it cannot
    be loaded, or its exact-text digest; all but the date's distance from now,
    checked at load time) and its line for the identity match
    (``_key_line``); then, for articles that can be loaded, the content hash.
    A helper thread validates the next batch while the server matches the
    current one (every batch needs it, a rerun little else); the hashes are
    computed inside the COPY stream of new articles (:func:`_copy_lines_ahead`),
    as a batch of new articles needs them and a rerun does not. Whatever was
    not done ahead is done when asked for, so a batch loaded without look-ahead
    takes the same code path. Results are kept with the article object they
    were computed from and only ever used for that object.
    """

    def __init__(self, articles: Sequence[Article], settings: LoadSettings = DEFAULT_SETTINGS) -> None:
        self._articles = list(articles)
        self._settings = settings
        self.single_urls = _single_urls(self._articles)
        # Written by the helper thread and the main thread: single list and dict assignments
        # (atomic in CPython); both computing one entry only repeats equal work.
        self._checked: list[tuple[Rejected | None, bytes, str] | None] = [None] * len(self._articles)
        self._hashes: dict[int, str] = {}
        self._to_hash = iter(range(len(self._articles)))

    def is_for(self, articles: Sequence[Article]) -> bool:
        return len(articles) == len(self._articles) and all(
            a is b for a, b in zip(articles, self._articles, strict=True))

    def check_all(self) -> None:
        """Validate every article (the helper thread's work)."""
        for n in range(len(self._articles)):
            self.checked(n)

    def checked(self, n: int) -> tuple[Rejected | None, bytes, str]:
        """(why article ``n`` cannot be loaded or None, its raw digest, its identity key line)."""
        done = self._checked[n]
        if done is None:
            article = self._articles[n]
            problem, raw = _checked(article, self._settings)
            line = "" if problem else _key_line(n, article, raw, article.url in self.single_urls)
            done = self._checked[n] = (problem, raw, line)
        return done

    def compute_one(self) -> None:
        """The content hash of the next loadable article not hashed yet; nothing when all are."""
        n = next(self._to_hash, None)
        if n is not None and self.checked(n)[0] is None:
            article = self._articles[n]
            self._hashes[n] = dedup.content_hash(article.title, article.body)

    def content_hash(self, n: int, article: Article) -> str | None:
        """The content hash computed ahead for article ``n`` if it is this very ``article``."""
        if n < len(self._articles) and self._articles[n] is article:
            return self._hashes.get(n)
        return None


def _single_urls(articles: Sequence[Article]) -> set[str]:
    """The URLs given only once in ``articles``."""
    seen: set[str] = set()
    twice: set[str] = set()
    for article in articles:
        (twice if article.url in seen else seen).add(article.url)
    return seen - twice


def _identity(article: Article) -> tuple:
    if article.source_article_id:
        return ("id", article.source_key, article.source_article_id)
    return ("url", article.url)


def load_articles(conn, articles: Sequence[Article], *, run_id: int, near_policy: str = "link",
                  commit: bool = True, settings: LoadSettings | None = None) -> list[Outcome]:
    """Deduplicate and load one batch; returns (url, outcome, article_id) per input article.

    One transaction: committed at the end (unless ``commit=False``), rolled
    back on any error, so a batch is either all visible or not at all. Every
    article's URL gets its outcome in the run ledger in the same transaction.
    """
    batch = _new_batch(run_id, near_policy, settings)
    return _load_batch(conn, articles, batch, commit=commit)


def load_batches(conn, batches: Iterable[Sequence[Article]], *, run_id: int, near_policy: str = "link",
                 settings: LoadSettings | None = None) -> Iterator[list[Outcome]]:
    """:func:`load_articles` for each batch in turn, yielding each batch's outcomes once committed.

    The loader looks one batch ahead (:class:`WorkAhead`): while the server
    works on a batch, a helper thread computes the next batch's exact-text
    digests, and while it inserts the batch's new articles (the COPY streams)
    the next batch's content hashes are computed, so the two cores work at once
    instead of taking turns.
    """
    batches = iter(batches)
    articles = next(batches, None)
    ahead = WorkAhead(())
    # When a statement returns while the helper still validates, the main thread waits for
    # the GIL until the helper is made to drop it: up to the switch interval, 5 ms by default,
    # per batch. Lowered while loading (restored at the end): a rerun of 30,000 unchanged
    # articles measured 35,700/s with 5 ms and 43,300/s with 0.5 ms (median of 8 each).
    with _switch_interval(_SWITCH_INTERVAL), _older_objects_frozen(), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-ahead") as helper:
        while articles is not None:
            upcoming = next(batches, None)
            batch = _new_batch(run_id, near_policy, settings)
            batch.ahead, batch.upcoming = ahead, WorkAhead(upcoming or (), settings=batch.settings)
            started: list[Future] = []

            # Started when the batch's longest statement is sent: the helper then has the
            # GIL to itself (psycopg2 releases it while waiting), where earlier it would
            # hold up each short round trip by up to the 5 ms switch interval. It must not
            # refer to the batch: that cycle kept batches alive until a full collection
            # (the load bench's peak memory grew with the number of batches).
            def start_helper(work: WorkAhead = batch.upcoming, started: list[Future] = started) -> None:
                if not started:
                    started.append(helper.submit(work.check_all))

            batch.server_busy = start_helper
            # Committed: its outcomes go out before anything of the next batch can fail.
            # (When the load fails, its error goes up; the pool's exit waits for the helper.)
            yield _load_batch(conn, articles, batch, commit=True)
            for future in started:
                future.result()  # an error of the helper is one of the next batch's
            articles, ahead = upcoming, batch.upcoming


_SWITCH_INTERVAL = 0.0005  # seconds


@contextmanager
def _switch_interval(seconds: float) -> Iterator[None]:
    """The interpreter's thread switch interval at most ``seconds`` inside, as it was after."""
    previous = sys.getswitchinterval()
    if previous <= seconds:  # left alone: setting what it reads back can round it down
        yield
        return
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Inside, the garbage collector looks only at objects made since it was entered.

    A full collection traverses every object of the process: 76,000 in the load
    bench, ~45 ms each, 4-5 per 100,000 articles loaded, ~2 us per article (a
    fifth of a rerun's). Frozen (``gc.freeze``), the objects that were there before
    are left out of every collection until the end, when they are unfrozen (and
    collected then if they became garbage meanwhile). A process that froze objects
    itself, or turned the collector off, is left as it is.
    """
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _new_batch(run_id: int, near_policy: str, settings: LoadSettings | None) -> _Batch:
    if near_policy not in NEAR_POLICIES:
        raise ValueError(f"near_policy must be one of {NEAR_POLICIES}, not {near_policy!r}")
    return _Batch(run_id=run_id, settings=settings or DEFAULT_SETTINGS, near_policy=near_policy)


def _load_batch(conn, articles: Sequence[Article], batch: _Batch, *, commit: bool) -> list[Outcome]:
    run_id = batch.run_id
    if not batch.ahead.is_for(articles):  # no look-ahead: the same work, done now
        batch.ahead = WorkAhead(articles, settings=batch.settings)
    ahead = batch.ahead
    batch.single_urls = ahead.single_urls
    rejected: dict[int, Rejected] = {}
    now = datetime.now(UTC)  # "the future" is measured from when the batch is loaded, not read
    for n, article in enumerate(articles):
        problem, raw, key_line = ahead.checked(n)
        problem = problem or _future_problem(article, now, batch.settings)
        if problem is not None:
            rejected[n] = problem
        else:
            batch.items[n] = _Item(n, article, raw, key_line=key_line)
    try:
        with conn.cursor() as cur:
            sources = sorted({item.article.source_key for item in batch.items.values()})
            # One round trip: work_mem for this transaction only (with the default 4 MB the
            # articles trigger's transition table spilled to a temporary file every batch, ~4 us
            # of server CPU per new article), the locks in key order, then the sources (a
            # statement of its own, so it sees what was committed before the locks were granted).
            # The same round trip gets the matching statement's table ready and asks whether the
            # run holds the batch's first URL (see _match_stored).
            first_url = next(iter(batch.items.values())).article.url if batch.items else ""
            statements = ["SET LOCAL work_mem = %s"] + \
                ["SELECT pg_advisory_xact_lock(%s, hashtext(%s))"] * len(sources) + \
                [_KEYS_TABLE_SQL, "SELECT array(SELECT source_key FROM sources WHERE source_key = ANY(%s)),"
                 f" {ledger.HOLDS_URL_SQL}"]
            locks = [v for key in sources for v in (_LOCK_CLASS, key)]
            cur.execute("; ".join(statements), (_WORK_MEM, *locks, sources, run_id, first_url))
            known_sources, held = cur.fetchone()
            batch.keys_table_ready, batch.held_urls = True, {first_url: held}
            if len(known_sources) < len(sources):
                known = set(known_sources)
                for n, item in list(batch.items.items()):
                    if item.article.source_key not in known:
                        rejected[n] = Rejected("load", "unknown_source",
                                               f"source {item.article.source_key!r} is not in sources")
                        del batch.items[n]
            pending = sorted(batch.items)
            while pending:
                pending = _load_round(cur, batch, pending)
            outcomes = _ledger_rows(articles, batch, rejected)
            ledger.record_outcomes(cur, run_id, list(outcomes.values()))
        if commit:
            conn.commit()
    except BaseException:
        conn.rollback()
        raise
    result: list[Outcome] = []
    for n, article in enumerate(articles):
        if n in rejected:
            result.append((_printable(article.url), "rejected", None))
        else:
            item = batch.items[n]
            result.append((article.url, item.outcome, item.article_id))
    return result


def _ledger_rows(articles, batch: _Batch, rejected: dict[int, Rejected]) -> dict[str, tuple]:
    rows: dict[str, tuple] = {}  # by URL: a URL given twice in a batch keeps its last outcome
    for n, article in enumerate(articles):
        if n in rejected:
            problem = rejected[n]
            url = _printable(article.url) or f"(no url #{n})"
            rows[url] = (url, "rejected", None, problem.stage, problem.reason, _printable(problem.detail))
        elif not batch.items[n].recorded:
            item = batch.items[n]
            rows[article.url] = (article.url, item.outcome, item.article_id, item.reason and "load",
                                 item.reason, item.detail)
    return rows


def _load_round(cur, batch: _Batch, indexes: list[int]) -> list[int]:
    """Load items with pairwise distinct identities; returns the items left for another round."""
    this_round: list[_Item] = []
    later: list[int] = []
    seen: set[tuple] = set()
    for n in indexes:
        key = _identity(batch.items[n].article)
        if key in seen:
            later.append(n)
        else:
            seen.add(key)
            this_round.append(batch.items[n])
    later += _match_stored(cur, batch, this_round)
    deferred = set(later)
    items = [item for item in this_round if item.index not in deferred]
    known = [item for item in items if item.article_id is not None and item.outcome is None]
    new = [item for item in items if item.article_id is None and item.outcome is None]
    for item in known:
        if item.hash is None:
            item.hash = batch.content_hash(item)
        item.outcome = "unchanged" if item.hash == item.stored_hash else "updated"
    for item in new:
        item.hash = batch.content_hash(item)
    new = _exact_duplicates(cur, batch, new)
    if batch.settings.near_duplicates:
        _near_duplicates(cur, batch, new)
    for item in new:
        if item.outcome is None:
            item.outcome = "new"
    _insert_new(cur, batch, [i for i in new if i.outcome == "new" or
                             (i.outcome == "duplicate_near" and batch.near_policy == "link")])
    _resolve_batch_originals(batch, new)
    _apply_known(cur, batch, [i for i in known if i.outcome == "updated"],
                 [i for i in known if i.outcome == "unchanged"])
    _write_urls_and_duplicates(cur, batch, items)
    return later


def _match_stored(cur, batch: _Batch, items: list[_Item]) -> list[int]:
    """Find each item's stored article by identity; returns items to defer (same article twice).

    Unchanged articles (same source id or URL, same canonical URL, same exact
    text) are recorded in the ledger by the matching statement itself: a rerun
    ships keys and digests, never bodies, and gets back one flag per article.
    """
    if not items:
        return []
    if not batch.keys_table_ready:  # (it is for the first round)
        cur.execute(_KEYS_TABLE_SQL)
    batch.keys_table_ready = False
    # Content hashes go along when they were computed ahead (a batch after one with new
    # articles: in that batch's COPY stream), so new articles are also looked up as exact
    # duplicates here instead of in a statement of their own (_exact_duplicates).
    hashes = [batch.ahead.content_hash(it.index, it.article) for it in items]
    hashes_sent = False
    for item, content_hash in zip(items, hashes, strict=True):
        if content_hash is not None:
            item.hash_looked_up = hashes_sent = True
    ledger.copy_lines(cur, "_load_keys", ("i", "source_key", "sid", "url", "raw", "single", "h"),
                      (f"{it.key_line}\t{h or _NULL}\n" for it, h in zip(items, hashes, strict=True)))
    # One index probe per key: the LIMIT keeps each LATERAL subquery a lookup (at most one
    # row matches, the unique constraints say so); as a plain join the planner, knowing
    # nothing of the unanalyzed temp table, hashed all of articles every batch. The URL
    # is looked up only when the source id found nothing or an article with another
    # canonical URL (the one-time filter skips the probe): a rerun probes articles once.
    # Unchanged ("fast") rows of a URL given once in the batch get their ledger row here:
    # by a plain INSERT when the run holds no row for the batch's first URL (a run that
    # recorded no URLs at discovery: seed and CLI loads), which costs ~4 us less per row
    # than ON CONFLICT's speculative insertion; should another URL of the batch be in the
    # ledger after all (given in an earlier batch), the statement is repeated with it.
    first_url = items[0].article.url
    held = batch.held_urls.pop(first_url, None)
    if not (ledger.holds_url(cur, batch.run_id, first_url) if held is None else held):
        matched, deferred = ledger.unless_duplicate(
            cur, lambda: _matched(cur, batch, items, conflict="", hashes_sent=hashes_sent))
        if matched:
            return deferred
    return _matched(cur, batch, items, conflict=ledger.OUTCOME_CONFLICT, hashes_sent=hashes_sent)


# The identity match's keys: a temporary table of the session, emptied (ledger.empty_temp_table).
_KEYS_TABLE_SQL = ledger.empty_temp_table_sql(
    "_load_keys", "i int, source_key text, sid text, url text, raw bytea, single bool, h text")


def _matched(cur, batch: _Batch, items: list[_Item], *, conflict: str, hashes_sent: bool) -> list[int]:
    """:func:`_match_stored`'s statement and what it found; ``conflict`` ends its ledger INSERT.

    ``hashes_sent``: whether any key came with a content hash; without, the
    statement leaves the hash lookup out (it would find nothing: 0.2 ms per 2,000).
    """
    if hashes_sent:  # a new article (no identity found) whose content hash came along: is it stored?
        by_hash = (" LEFT JOIN LATERAL (" + _STORED_WITH_HASH.format(
            hash="k.h", also=" AND k.h IS NOT NULL AND s.article_id IS NULL AND u.article_id IS NULL") +
            ") d ON true")
        found_by_hash = "d.article_id AS d_article_id, d.source_key AS d_source"
        or_by_hash = " OR d.article_id IS NOT NULL"
    else:
        by_hash, found_by_hash, or_by_hash = "", "NULL::bigint AS d_article_id, NULL AS d_source", ""
    batch.server_busy()
    cur.execute(
        "WITH m AS MATERIALIZED (SELECT k.i, k.url, s.article_id, s.source_article_id, s.content_hash,"
        "  s.same_raw, s.canonical_url = k.url AS canonical, u.article_id AS u_article_id,"
        "  u.source_article_id AS u_sid, u.content_hash AS u_hash, u.same_raw AS u_same_raw,"
        "  u.source_key AS u_source, k.single AND (s.same_raw AND s.canonical_url = k.url"
        "  OR k.sid IS NULL AND u.same_raw AND u.source_key = k.source_key AND u.canonical) AS fast,"
        f"  {found_by_hash}"
        " FROM _load_keys k"
        " LEFT JOIN LATERAL (SELECT a.article_id, a.source_article_id, a.content_hash,"
        "  a.raw_digest = k.raw AS same_raw, a.canonical_url FROM articles a"
        "  WHERE a.source_key = k.source_key AND a.source_article_id = k.sid LIMIT 1) s ON true"
        " LEFT JOIN LATERAL (SELECT * FROM ("
        "  SELECT a.article_id, a.source_article_id, a.content_hash, a.raw_digest = k.raw AS same_raw,"
        "  a.source_key, true AS canonical FROM articles a WHERE a.canonical_url = k.url"
        "  UNION ALL"
        "  SELECT a.article_id, a.source_article_id, a.content_hash, a.raw_digest = k.raw, a.source_key,"
        "  false FROM article_urls x JOIN articles a ON a.article_id = x.article_id WHERE x.url = k.url) m"
        "  WHERE s.article_id IS NULL OR s.canonical_url <> k.url LIMIT 1) u ON true"
        f"{by_hash}"
        f" WHERE s.article_id IS NOT NULL OR u.article_id IS NOT NULL{or_by_hash}),"
        " fast AS (INSERT INTO run_urls (run_id, url, outcome, article_id)"
        "  SELECT %s, url, 'unchanged', coalesce(article_id, u_article_id) FROM m WHERE fast"
        f" {conflict})"
        # The fast rows come back as one row of two arrays (their positions and article
        # ids): ~0.3 ms less per 2,000 than a row each, on both sides.
        " SELECT NULL::int, true, NULL::bigint, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " NULL, array_agg(i), array_agg(coalesce(article_id, u_article_id)) FROM m WHERE fast"
        " HAVING count(*) > 0"
        " UNION ALL SELECT i, false, article_id, source_article_id, content_hash, same_raw, canonical,"
        " u_article_id, u_sid, u_hash, u_same_raw, u_source, d_article_id, d_source, NULL, NULL FROM m"
        " WHERE fast IS NOT TRUE",
        (batch.run_id,))
    by_sid: dict[int, tuple] = {}
    by_url: dict[int, tuple] = {}
    canonical: set[int] = set()  # items whose URL is their sid match's canonical URL
    items_by_index = {it.index: it for it in items}
    fast: set[int] = set()  # articles recorded unchanged by the statement
    for row in cur.fetchall():
        if row[1]:
            for n, article_id in zip(row[14], row[15], strict=True):
                item = items_by_index[n]
                item.outcome, item.article_id, item.recorded = "unchanged", article_id, True
            fast.update(row[15])
            continue
        if row[2] is not None:
            by_sid[row[0]] = row[2:6]
            if row[6]:
                canonical.add(row[0])
        if row[7] is not None:
            by_url[row[0]] = row[7:12]
        if row[12] is not None:
            items_by_index[row[0]].stored_with_hash = row[12], row[13]
    deferred: list[int] = []
    claimed: set[int] = fast
    for item in items:
        if item.recorded:
            continue
        match = by_sid.get(item.index)
        url_match = by_url.get(item.index)
        if match is None and url_match is not None:
            owner = f"URL {item.article.url} belongs to article {url_match[0]}"
            if url_match[4] != item.article.source_key:
                _conflict(item, f"{owner} of source {url_match[4]!r}, not {item.article.source_key!r}")
                continue
            if url_match[1] is None or not item.article.source_article_id:
                match = url_match[:4]
            elif url_match[1] != item.article.source_article_id:
                _conflict(item, f"{owner} with source id {url_match[1]}, "
                                f"not {item.article.source_article_id}")
                continue
        if match is None:
            continue
        # A URL not stored anywhere becomes an alias of the article it resolves to.
        item.add_url = url_match is None and item.index not in canonical
        article_id, _sid, stored_hash, same_raw = match
        if article_id in claimed:  # two items of this round are one article: one at a time
            deferred.append(item.index)
            continue
        claimed.add(article_id)
        item.article_id = article_id
        item.stored_hash = stored_hash
        if same_raw:
            item.hash = stored_hash
            item.same_raw = True
    return deferred


def _conflict(item: _Item, detail: str) -> None:
    item.outcome, item.reason, item.detail = "rejected", "identity_conflict", detail


def _key_line(index: int, a: Article, raw: bytes, single: bool) -> str:
    """An article's identity keys as COPY fields for ``_load_keys``, all but the content hash
    (known later, if at all) and the newline (no per-value type dispatch)."""
    escape = ledger.escape_copy
    sid = escape(a.source_article_id) if a.source_article_id else _NULL
    return (f"{index}\t{escape(a.source_key)}\t{sid}\t{escape(a.url)}\t\\\\x{raw.hex()}\t"
            f"{'t' if single else 'f'}")


# The first stored article with a content hash: one probe of the (content_hash, article_id)
# index (migration 005 says why). {hash}: the hash's column; {also}: more conditions.
_STORED_WITH_HASH = ("SELECT a.article_id, a.source_key FROM articles a WHERE a.content_hash = {hash}{also}"
                     " ORDER BY a.article_id LIMIT 1")


def _exact_duplicates(cur, batch: _Batch, new: list[_Item]) -> list[_Item]:
    """Mark new items whose content hash is stored (or earlier in the batch); returns the rest."""
    if not new:
        return new
    stored = {it.index: it.stored_with_hash for it in new if it.stored_with_hash is not None}
    not_looked_up = [it for it in new if not it.hash_looked_up]  # by the matching statement
    if not_looked_up:
        # Through the keys table (only its i and h): every temporary table of the session
        # costs each commit ~0.2 ms (ON COMMIT DELETE ROWS empties them all), used or not.
        cur.execute(_KEYS_TABLE_SQL)
        _copy(cur, "_load_keys", ("i", "h"), ((it.index, it.hash) for it in not_looked_up))
        cur.execute("SELECT q.i, a.article_id, a.source_key FROM _load_keys q CROSS JOIN LATERAL ("
                    + _STORED_WITH_HASH.format(hash="q.h", also="") + ") a")
        stored.update((i, (article_id, source_key)) for i, article_id, source_key in cur.fetchall())
    first_with_hash: dict[str, _Item] = {}
    rest = []
    for item in new:
        if item.index in stored:
            item.outcome = "duplicate_exact"
            item.original_id, original_source = stored[item.index]
            # Same site, same text, another URL: one article seen under two URLs.
            item.add_url = original_source == item.article.source_key
        elif item.hash in first_with_hash:
            item.outcome = "duplicate_exact"
            item.original_index = first_with_hash[item.hash].index
            item.add_url = first_with_hash[item.hash].article.source_key == item.article.source_key
        else:
            first_with_hash[item.hash] = item
            rest.append(item)
    return rest


def _near_duplicates(cur, batch: _Batch, new: list[_Item]) -> None:
    """Sign the new items and link (or skip) those that nearly repeat a stored or earlier one."""
    candidates_new = [it for it in new if it.outcome is None]
    if not candidates_new:
        return
    ids = [dedup.shingle_ids(it.article.body) for it in candidates_new]
    for item, shingle_ids in zip(candidates_new, ids, strict=True):
        item.sig = dedup.signature("", ids=shingle_ids)
    bands = [dedup.band_hashes(it.sig) for it in candidates_new]
    stored = dedup.candidate_ids(cur, bands)
    signatures = dedup.stored_signatures(cur, set().union(*stored))
    # Only candidates whose signature is close enough cost a body fetch.
    wanted = set()
    for item, found in zip(candidates_new, stored, strict=True):
        for article_id in found:
            sig = signatures.get(article_id)
            if sig is not None and dedup.estimated_jaccard(item.sig, sig) >= \
                    batch.settings.near_threshold - dedup.ESTIMATE_MARGIN:
                wanted.add(article_id)
    texts = dedup.stored_texts(cur, wanted)
    in_batch: dict[int, list[_Item]] = {}
    floor = batch.settings.near_threshold - dedup.ESTIMATE_MARGIN
    for item, shingle_ids, item_bands, found in zip(candidates_new, ids, bands, stored, strict=True):
        close = {a: signatures[a] for a in found if a in wanted}
        # Exact shingle sets are built only for the few items that have a close candidate.
        mine = set(shingle_ids.tolist()) if close else None
        match = dedup.best_match(item.article.body, item.sig, close, texts, batch.settings.near_threshold,
                                 mine=mine)
        earlier = {id(o): o for b in item_bands for o in in_batch.get(b, ())}
        for other in earlier.values():
            if dedup.estimated_jaccard(item.sig, other.sig) < floor:
                continue
            if mine is None:
                mine = set(shingle_ids.tolist())
            exact = dedup.jaccard(mine, set(dedup.shingle_ids(other.article.body).tolist()))
            if exact >= batch.settings.near_threshold and (match is None or exact > match.similarity):
                match = dedup.NearMatch(-1 - other.index, exact, dedup.estimated_jaccard(item.sig, other.sig))
        if match is not None:
            item.outcome = "duplicate_near"
            item.similarity = match.similarity
            if match.original_article_id < 0:
                item.original_index = -1 - match.original_article_id
            else:
                item.original_id = match.original_article_id
        if item.outcome is None or batch.near_policy == "link":
            for b in item_bands:
                in_batch.setdefault(b, []).append(item)


def _insert_new(cur, batch: _Batch, rows: list[_Item]) -> None:
    if not rows:
        return
    # The sequence looked up once, not once per id (that lookup cost more than the ids):
    # OFFSET 0 keeps the planner from pulling the lookup up into every row (2.1 ms per 1,000 ids
    # instead of 0.2 ms).
    cur.execute("SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence('articles', 'article_id')"
                "::regclass AS seq OFFSET 0) q, generate_series(1, %s)", (len(rows),))
    for item, (article_id,) in zip(rows, cur.fetchall(), strict=True):
        item.article_id = article_id
    # COPY writes the given ids, like INSERT ... OVERRIDING SYSTEM VALUE.
    copied, _ = ledger.unless_duplicate(
        cur, lambda: ledger.copy_lines(cur, "articles", _COPY_COLUMNS, _copy_lines_ahead(batch, rows)))
    if not copied:
        # Someone stored one of these without our lock (or a URL clash across sources):
        # insert one by one and let the constraints decide.
        for item in rows:
            cur.execute(
                f"INSERT INTO articles ({', '.join(_COPY_COLUMNS)}) OVERRIDING SYSTEM VALUE"
                f" VALUES ({', '.join(['%s'] * len(_COPY_COLUMNS))}) ON CONFLICT DO NOTHING"
                " RETURNING article_id", _row(item))
            if cur.fetchone() is None:
                item.article_id, item.sig = None, None
                _conflict(item, "another article already has this source id or canonical URL")
    signed = [item for item in rows if item.article_id is not None and item.sig is not None]
    if signed:
        _copy(cur, "article_fingerprints", ("article_id", "minhash"),
              ((it.article_id, dedup.signature_bytes(it.sig)) for it in signed))
        _copy(cur, "minhash_bands", ("band_hash", "article_id"),
              [(b, it.article_id) for it in signed for b in set(dedup.band_hashes(it.sig))])


# The COPY of new articles: the text columns last, so that one line is the
# other values followed by the text columns escaped in one pass.
_COPY_COLUMNS = ("article_id", "source_article_id", "published_at", "content_hash", "raw_digest",
                 "extraction", "fetched_at", "source_key", "canonical_url", "title", "author", "body")


def _row(item: _Item) -> tuple:
    """A new article's values in ``_COPY_COLUMNS`` order, for the one-by-one INSERT."""
    a = item.article
    return (item.article_id, a.source_article_id, a.published_at, item.hash, psycopg2.Binary(item.raw),
            Json(a.extraction or {}), a.fetched_at, a.source_key, a.url, a.title, a.author or "", a.body)


def _copy_lines_ahead(batch: _Batch, rows: list[_Item]) -> Iterator[str]:
    """The COPY lines of ``rows``, with one article of the next batch prepared after each.

    The COPY streams (the server inserts what it has received while the next
    lines are made), so this work uses time the Python side would otherwise
    spend waiting for the server at the end of the COPY: a row costs the server
    about as much as its line and that work cost Python.
    """
    prepare = True
    for item in rows:
        yield _copy_line(item)
        if prepare:
            try:
                batch.upcoming.compute_one()
            except Exception:  # not this batch's error: the next batch meets it when it is loaded
                prepare = False


def _copy_line(item: _Item) -> str:
    """:func:`_row` as a COPY line, built without a call per value."""
    a = item.article
    # validate_article made these NUL-free str: joined by NULs, escaped with one scan per
    # special character for the whole line instead of one per value, NULs then become tabs.
    text = ledger.escape_copy("\x00".join((a.source_key, a.url, a.title, a.author or "", a.body)))
    return (f"{item.article_id}\t{ledger.copy_value(a.source_article_id)}\t{a.published_at.isoformat()}\t"
            f"{item.hash}\t\\\\x{item.raw.hex()}\t{ledger.copy_value(a.extraction or {})}\t"
            f"{ledger.copy_value(a.fetched_at)}\t"
            f"{text.replace(chr(0), chr(9))}\n")


def _resolve_batch_originals(batch: _Batch, new: list[_Item]) -> None:
    """Items that repeat an earlier item of the batch point at its (now known) article id."""
    for item in batch.items.values():
        if item.original_index is not None and item.original_id is None:
            original = batch.items[item.original_index]
            # An earlier item skipped as a near-duplicate stands for what it repeats.
            item.original_id = original.article_id or original.original_id
        if item.outcome == "duplicate_exact" and item.original_id is None:
            _conflict(item, "repeats an article of this batch that could not be stored")
    del new  # the items are reached through batch.items


def _apply_known(cur, batch: _Batch, updated: list[_Item], unchanged: list[_Item]) -> None:
    # An unchanged article is not written (the ledger records the sighting), except:
    stale = [it for it in unchanged if not it.same_raw]
    if stale:
        # Same content after normalization but other exact text (or no digest yet):
        # remember this text's digest so the next rerun takes the fast path again.
        cur.execute("UPDATE articles a SET raw_digest = q.raw"
                    " FROM unnest(%s::bigint[], %s::bytea[]) AS q(id, raw)"
                    " WHERE a.article_id = q.id AND a.raw_digest IS DISTINCT FROM q.raw",
                    ([it.article_id for it in stale], [psycopg2.Binary(it.raw) for it in stale]))
    if not updated:
        return
    ids = [it.article_id for it in updated]
    cur.execute(
        "INSERT INTO article_revisions (article_id, title, published_at, author, body, content_hash,"
        " valid_from, run_id) SELECT article_id, title, published_at, author, body, content_hash,"
        " updated_at, %s FROM articles WHERE article_id = ANY(%s)", (batch.run_id, ids))
    _temp(cur, "_load_updates", "article_id bigint, title text, published_at timestamptz, author text,"
          " body text, content_hash text, extraction jsonb, fetched_at timestamptz, raw bytea")
    _copy(cur, "_load_updates", ("article_id", "title", "published_at", "author", "body", "content_hash",
                                 "extraction", "fetched_at", "raw"),
          ((it.article_id, it.article.title, it.article.published_at, it.article.author or "",
            it.article.body, it.hash, it.article.extraction or {}, it.article.fetched_at, it.raw)
           for it in updated))
    cur.execute(
        "UPDATE articles a SET title = u.title, published_at = u.published_at, author = u.author,"
        " body = u.body, content_hash = u.content_hash, extraction = u.extraction,"
        " fetched_at = coalesce(u.fetched_at, a.fetched_at), raw_digest = u.raw, updated_at = now()"
        " FROM _load_updates u WHERE a.article_id = u.article_id")
    if batch.settings.near_duplicates:
        dedup.store_signatures(cur, [(it.article_id, dedup.signature(it.article.body)) for it in updated])
    else:  # the old signature no longer describes the text
        cur.execute("DELETE FROM minhash_bands WHERE article_id = ANY(%s)", (ids,))
        cur.execute("DELETE FROM article_fingerprints WHERE article_id = ANY(%s)", (ids,))


def _write_urls_and_duplicates(cur, batch: _Batch, items: list[_Item]) -> None:
    urls = []
    for item in items:
        target = item.article_id if item.outcome in ("new", "updated", "unchanged", "duplicate_near") \
            else item.original_id if item.outcome == "duplicate_exact" else None
        if item.add_url and target is not None:
            urls.append((item.article.url, target))
        if item.outcome in ("duplicate_exact", "duplicate_near") and item.original_id is not None:
            kept = item.article_id if item.outcome == "duplicate_near" else None
            batch.duplicates.append((item.article.url, item.article.source_key, kept, item.original_id,
                                     "exact" if item.outcome == "duplicate_exact" else "near",
                                     round(item.similarity, 4)))
            if kept is None:  # not stored itself: the ledger points at what it repeats
                item.article_id = item.original_id
    if urls:
        _temp(cur, "_load_urls", "url text, article_id bigint")
        _copy(cur, "_load_urls", ("url", "article_id"), urls)
        cur.execute("INSERT INTO article_urls (url, article_id) SELECT DISTINCT ON (url) url, article_id"
                    " FROM _load_urls ON CONFLICT (url) DO NOTHING")
    if batch.duplicates:
        cur.execute(
            "INSERT INTO duplicates (url, source_key, article_id, original_article_id, kind, similarity,"
            " run_id) SELECT u, s, a, o, k, sim, %s FROM unnest(%s::text[], %s::text[], %s::bigint[],"
            " %s::bigint[], %s::text[], %s::real[]) AS q(u, s, a, o, k, sim)"
            " ON CONFLICT (url, original_article_id) DO UPDATE SET similarity = EXCLUDED.similarity,"
            " article_id = EXCLUDED.article_id, kind = EXCLUDED.kind, run_id = EXCLUDED.run_id",
            (batch.run_id, *[list(col) for col in zip(*batch.duplicates, strict=True)]))
        batch.duplicates.clear()


# --------------------------------------------------------------------------- staging for Airflow

def stage_articles(conn, run_id: int, articles: Iterable[Article]) -> int:
    """Keep parsed articles of a run for its load task (a retried task replaces, never doubles).

    No commit: the caller commits with the rest of its task's work.
    """
    rows = [(run_id, _printable(a.url), json.dumps(a.to_dict(), ensure_ascii=True)) for a in articles]
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO staged_articles (run_id, url, payload)"
            " SELECT %s, u, p FROM unnest(%s::text[], %s::text[]) AS q(u, p)"
            " ON CONFLICT (run_id, url) DO UPDATE SET payload = EXCLUDED.payload, staged_at = now()",
            (run_id, [r[1] for r in rows], [r[2] for r in rows]))
    return len(rows)


def staged_batches(conn, run_id: int, size: int) -> Iterator[list[Article]]:
    """The run's staged articles in the order they were staged, ``size`` at a time.

    Read through a server-side cursor, so the load task holds one batch of them
    at a time however many were staged. Commits first: the cursor is declared
    WITH HOLD and committed, so it outlives the loader's commits and rollbacks.
    """
    with conn.cursor(name=f"staged_articles_{run_id}", withhold=True) as cur:
        cur.execute("SELECT payload FROM staged_articles WHERE run_id = %s ORDER BY seq", (run_id,))
        conn.commit()
        while rows := cur.fetchmany(size):
            yield [Article.from_dict(json.loads(payload)) for (payload,) in rows]


def clear_staged(conn, run_id: int) -> int:
    """Drop the run's staged articles (after a successful load); returns how many. No commit."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM staged_articles WHERE run_id = %s", (run_id,))
        return cur.rowcount
