"""The batch record: one batch of articles on its way into the database, and its settings.

Each stage of the loader (validate, match, duplicates, write) reads and fills
in the same :class:`Batch`; at the end it gives every input article exactly
one outcome (:meth:`Batch.rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from news_etl import dedup
from news_etl.errors import Rejected
from news_etl.record import Article

NEAR_POLICIES = ("link", "skip")  # a near-duplicate is stored and linked, or only recorded

Outcome = tuple[str, str, int | None]  # (url, outcome, article_id) per input article


@dataclass(frozen=True)
class LoadSettings:
    """The loader's knobs; the defaults are what the pipeline uses."""

    near_threshold: float = dedup.DEFAULT_THRESHOLD  # Jaccard over word shingles
    near_duplicates: bool = True                     # compute signatures and look for near-duplicates
    future_tolerance: timedelta = timedelta(days=1)  # published_at may be this far ahead of now
    min_body_chars: int = 80                         # shorter bodies are not articles


DEFAULT_SETTINGS = LoadSettings()


def printable(text: Any) -> str:
    """Text safe for the ledger whatever the input (lone surrogates escaped, NULs spelled out)."""
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "backslashreplace")
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")


@dataclass(eq=False, slots=True)
class Item:
    """One valid article of a batch and what the loader finds out about it."""

    index: int                         # position in the batch
    article: Article
    raw_digest: bytes                  # dedup.raw_digest of the exact title and body
    content_hash: str | None = None    # dedup.content_hash, computed when needed
    article_id: int | None = None      # the stored article it is (matched, or inserted)
    stored_hash: str | None = None     # that article's content hash before this load
    same_text: bool = False            # that article's stored text is exactly this one
    add_url: bool = False              # record its URL as another URL of its (original) article
    outcome: str | None = None
    original_id: int | None = None     # the stored article a duplicate repeats ...
    original: Item | None = None       # ... or the earlier item of this batch it repeats
    similarity: float = 1.0            # exact Jaccard for a near-duplicate
    signature: np.ndarray | None = None  # MinHash, when near-duplicates are looked for
    reason: str | None = None          # why a valid article was still rejected
    detail: str | None = None

    def reject(self, reason: str, detail: str) -> None:
        self.outcome, self.reason, self.detail = "rejected", reason, detail
        self.article_id = None

    @property
    def ledger_article_id(self) -> int | None:
        """The article the ledger names: a stored duplicate names its original."""
        if self.outcome in ("duplicate_exact", "duplicate_near") and self.article_id is None:
            return self.original_id
        return self.article_id


@dataclass
class Batch:
    """A batch of articles loaded in one transaction, its valid items and its rejects."""

    run_id: int
    articles: Sequence[Article]
    settings: LoadSettings = DEFAULT_SETTINGS
    near_policy: str = "link"
    items: dict[int, Item] = field(default_factory=dict)          # by position, the valid articles
    rejected: dict[int, Rejected] = field(default_factory=dict)   # by position, found invalid

    def __post_init__(self) -> None:
        if self.near_policy not in NEAR_POLICIES:
            raise ValueError(f"near_policy must be one of {NEAR_POLICIES}, not {self.near_policy!r}")

    def reject(self, index: int, problem: Rejected) -> None:
        self.items.pop(index, None)
        self.rejected[index] = problem

    def rows(self) -> list[tuple[int, str, str, int | None, str | None, str | None, str | None]]:
        """(index, url, outcome, article_id, stage, reason, detail) per input article, in input order."""
        rows = []
        for n, article in enumerate(self.articles):
            if n in self.rejected:
                problem = self.rejected[n]
                url = printable(article.url) or f"(no url #{n})"
                rows.append((n, url, "rejected", None, problem.stage, problem.reason,
                             printable(problem.detail)))
            else:
                item = self.items[n]
                rows.append((n, article.url, item.outcome, item.ledger_article_id, item.reason and "load",
                             item.reason, item.detail))
        return rows

    def ledger_rows(self) -> tuple[list[tuple[int, str, int | None]], list[tuple]]:
        """The batch's rows for the run ledger, one per URL (the last article with a URL has the last word):

        - (index, outcome, article_id) of items recorded without a reason, for
          ``ledger.record_keyed_outcomes`` (their URLs are on the server with their keys);
        - (url, outcome, article_id, stage, reason, detail) of the others, for ``ledger.record_outcomes``.
        """
        last = {row[1]: row for row in self.rows()}.values()
        keyed = [(n, outcome, article_id) for n, _url, outcome, article_id, _stage, reason, _detail in last
                 if reason is None]
        full = [row[1:] for row in last if row[5] is not None]
        return keyed, full

    def outcomes(self) -> list[Outcome]:
        """(url, outcome, article_id) per input article, in input order."""
        return [(url, outcome, article_id) for _n, url, outcome, article_id, *_ in self.rows()]
