"""Duplicate detection: content hashes (exact) and MinHash + LSH (near).

Exact duplicates share :func:`content_hash`: the title and body after NFKC,
case folding, and removal of whitespace and punctuation, so a reprint that
only changed quotes, dashes, spacing or letter case hashes the same.

Near duplicates (a reprint with a sentence changed) are found with datasketch
MinHash signatures over word shingles and locality-sensitive hashing. The LSH
bands live in PostgreSQL (``minhash_bands``), so any process of any run finds
articles stored by another. Bands are tuned for recall (20 bands of 6 rows:
a pair at Jaccard 0.9 becomes a candidate with probability 1 - 3e-7, at 0.8
0.998, at 0.7 0.92, at 0.3 only 0.015); each candidate is then checked with the Jaccard estimated from the
stored signatures (cheap, drops chance band collisions) and finally with the
exact Jaccard of the two shingle sets, so no pair below the threshold is ever
linked, whatever the estimate's noise.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import MinHash

NUM_PERM = 128
BANDS = 20
ROWS = 6  # 120 of the 128 values are banded
SHINGLE_WORDS = 3
DEFAULT_THRESHOLD = 0.9
# Candidates whose estimated Jaccard is this far below the threshold are
# dropped before the exact check (the estimate's sd at J=0.9 is ~0.027).
ESTIMATE_MARGIN = 0.12
_SEED = 20_240_401
_SCHEME = "affine32"  # 32-bit values: a stored signature is 4 bytes per permutation

_ASCII_FOLD = (string.punctuation + string.whitespace).encode()
# Non-ASCII punctuation and separators dropped by the fold: U+00A0-U+00BF (NBSP « » § ° ...),
# U+2000-U+206F (dashes, quotes, ellipsis, thin spaces), U+3000-U+303F (CJK punctuation).
# This runs on every article of every batch, so it works on UTF-8 bytes with one pattern per
# lead byte: a pattern with a literal first byte is searched for at memchr speed, and a text
# without that lead byte skips its pattern (bench/load_bench.py).
_NON_ASCII_PUNCT = (
    (b"\xc2", re.compile(rb"\xc2[\xa0-\xbf]")),
    (b"\xe2", re.compile(rb"\xe2(?:\x80[\x80-\xbf]|\x81[\x80-\xaf])")),
    (b"\xe3", re.compile(rb"\xe3\x80[\x80-\xbf]")),
)


def _drop_non_ascii_punct(data: bytes, replacement: bytes) -> bytes:
    for lead, punct in _NON_ASCII_PUNCT:
        if lead in data:
            data = punct.sub(replacement, data)
    return data


def _is_folded_away(code: int) -> bool:
    """Whether the fold drops this character (after case folding): the definition of both paths."""
    return (code < 0x80 and chr(code) in string.punctuation + string.whitespace or 0xA0 <= code < 0xC0
            or 0x2000 <= code < 0x2070 or 0x3000 <= code < 0x3040)


# The fold by table lookup, for long texts (numpy's fixed cost loses on a title):
# each UTF-16 code unit of the NFKC text is replaced by its case fold, by 0 when
# the fold drops it (or by a space, for word splitting). Characters whose case
# fold is not one BMP character (ß -> ss, surrogate halves of characters beyond
# the BMP, NUL) are marked _NOT_BY_TABLE and send the whole text down the plain path.
# Invariant: both paths give the same bytes (tests/unit/test_dedup.py checks every BMP character);
# the table exists only for speed on article bodies (bench/load_bench.py).
_NOT_BY_TABLE = 0xFFFF
_TABLE_MIN_CHARS = 200


@lru_cache(maxsize=1)
def _fold_tables() -> tuple[np.ndarray, np.ndarray]:
    """(dropping, spacing): uint16 tables of 65,536 entries, built once per process (~40 ms)."""
    dropping = np.empty(0x10000, dtype=np.uint16)
    for code in range(0x10000):
        folded = chr(code).casefold() if not 0xD800 <= code < 0xE000 else ""
        # NUL is kept by the fold, but 0 is the table's "dropped": NUL also goes the plain way.
        if len(folded) != 1 or ord(folded) in (0, _NOT_BY_TABLE) or ord(folded) > 0xFFFF \
                or 0xD800 <= ord(folded) < 0xE000 or code == _NOT_BY_TABLE:
            dropping[code] = _NOT_BY_TABLE
        elif _is_folded_away(ord(folded)):
            dropping[code] = 0
        else:
            dropping[code] = ord(folded)
    spacing = np.where(dropping == 0, np.uint16(0x20), dropping)
    return dropping, spacing


def _fold_by_table(normalized: str, table: np.ndarray, *, drop: bool) -> bytes | None:
    """The folded UTF-8 of an NFKC text by table lookup, or None when the table cannot do it."""
    units = np.frombuffer(normalized.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    folded = table.take(units)
    if folded.max(initial=0) == _NOT_BY_TABLE:
        return None
    if drop:
        folded = folded[folded != 0]
    return folded.tobytes().decode("utf-16-le").encode("utf-8")


def _fold(text: str) -> bytes:
    """NFKC, casefold, then drop whitespace and punctuation (as UTF-8 bytes, for speed)."""
    normalized = unicodedata.normalize("NFKC", text)
    if len(normalized) >= _TABLE_MIN_CHARS:
        folded = _fold_by_table(normalized, _fold_tables()[0], drop=True)
        if folded is not None:
            return folded
    return _fold_plain(normalized)


def _fold_plain(normalized: str) -> bytes:
    """:func:`_fold` of an NFKC text by str and bytes methods: the definition the table must match."""
    data = normalized.casefold().encode("utf-8", "surrogatepass").translate(None, _ASCII_FOLD)
    return _drop_non_ascii_punct(data, b"")


def normalized_text(text: str) -> str:
    """The text as :func:`content_hash` sees it (for explanations and tests)."""
    return _fold(text).decode("utf-8", "surrogatepass")


def content_hash(title: str, body: str) -> str:
    """SHA-256 (hex) of the normalized title and body: equal for exact duplicates."""
    digest = hashlib.sha256(_fold(title))
    digest.update(b"\x00")  # keeps "ab"+"c" apart from "a"+"bc"
    digest.update(_fold(body))
    return digest.hexdigest()


def raw_digest(title: str, body: str) -> bytes:
    """A 16-byte digest of the exact title and body: a fast "nothing changed" test for reruns.

    xxh3-128 over UTF-16LE: the test needs speed, not a cryptographic hash, and
    UTF-16 is the cheapest encoding of Cyrillic text (bench/load_bench.py, the
    rerun). Raises UnicodeEncodeError on a lone surrogate.
    """
    return raw_digest_utf16(title.encode("utf-16-le"), body.encode("utf-16-le"))


def raw_digest_utf16(title: bytes, body: bytes) -> bytes:
    """:func:`raw_digest` of a title and body already encoded as UTF-16LE."""
    digest = xxhash.xxh3_128(title)
    digest.update(b"\x00\x00\x00\x00")  # keeps "ab"+"c" apart from "a"+"bc"
    digest.update(body)
    return digest.digest()


_SPACE_TABLE = bytes.maketrans(_ASCII_FOLD, b" " * len(_ASCII_FOLD))
_WORD_HASHES: dict[bytes, int] = {}


def words(text: str) -> list[bytes]:
    """Word tokens of ``text`` (NFKC, case-folded, UTF-8), punctuation and whitespace as separators."""
    normalized = unicodedata.normalize("NFKC", text)
    if len(normalized) >= _TABLE_MIN_CHARS:
        spaced = _fold_by_table(normalized, _fold_tables()[1], drop=False)
        if spaced is not None:
            return spaced.split()
    return _words_plain(normalized)


def _words_plain(normalized: str) -> list[bytes]:
    """:func:`words` of an NFKC text by str and bytes methods: the definition the table must match."""
    data = normalized.casefold().encode("utf-8", "surrogatepass")
    return _drop_non_ascii_punct(data.translate(_SPACE_TABLE), b" ").split()


def _word_hashes(tokens: list[bytes]) -> np.ndarray:
    get = _WORD_HASHES.get
    values = [get(t) for t in tokens]
    if None in values:
        if len(_WORD_HASHES) > 2_000_000:  # bound the cache; a news vocabulary is far smaller
            _WORD_HASHES.clear()
        for n, value in enumerate(values):
            if value is None:
                # blake2b: stable across processes and interpreters (unlike hash()); 63 bits
                # so numpy converts the ints without the slow unsigned path.
                digest = hashlib.blake2b(tokens[n], digest_size=8).digest()
                values[n] = _WORD_HASHES[tokens[n]] = int.from_bytes(digest, "little") >> 1
    return np.array(values, dtype=np.int64).view(np.uint64)


_P = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
              dtype=np.uint64)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads every input bit over all 64 output bits.
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _MIX1
        x = x ^ (x >> np.uint64(27))
        x = x * _MIX2
        return x ^ (x >> np.uint64(31))


def shingle_ids(text: str, k: int = SHINGLE_WORDS) -> np.ndarray:
    """Distinct 64-bit ids of the ``k``-word shingles of ``text`` (a short text gives one)."""
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashes = _word_hashes(tokens)
    n = max(1, len(tokens) - k + 1)
    with np.errstate(over="ignore"):
        mixed = np.zeros(n, dtype=np.uint64)
        for j in range(min(k, len(tokens))):
            mixed += hashes[j:j + n] * _P[j % len(_P)]
    return np.unique(_splitmix(mixed))


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[int]:
    """The set of ``k``-word shingle ids of ``text``."""
    return set(shingle_ids(text, k).tolist())


def jaccard(a: set, b: set) -> float:
    """Exact Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> np.ndarray:
    # Generated once per process; the fixed seed makes them the same everywhere.
    return MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME).permutations


# The MurmurHash3 32-bit finalizer that datasketch's "affine32" scheme applies to each input.
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def signature(text: str, num_perm: int = NUM_PERM, *, ids: np.ndarray | None = None) -> np.ndarray:
    """The MinHash signature (uint32 array of ``num_perm`` values) of ``text``'s shingles.

    The values are exactly those of datasketch's ``MinHash(scheme="affine32",
    seed=_SEED).update_batch`` over the 32-bit folds of the shingle ids (a
    test checks it), computed here as one numpy expression because datasketch
    calls the hash function once per shingle in Python, the slowest step of
    loading otherwise (bench/load_bench.py, near-duplicate cost).
    """
    ids = shingle_ids(text) if ids is None else ids
    a, b = _permutations(num_perm)
    if not len(ids):
        return np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    h = ((ids >> np.uint64(32)) ^ ids).astype(np.uint32)
    s1, m1, s2, m2, s3 = _FMIX32
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    # One row per shingle, one column per permutation; uint32 arithmetic wraps (mod 2**32).
    return (h[:, None] * a + b).min(axis=0)


def signature_bytes(sig: np.ndarray) -> bytes:
    """The stored form of a signature (uint32 little-endian)."""
    return sig.astype("<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<u4").astype(np.uint32)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity estimated from two MinHash signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


_ROW_WEIGHTS = np.array([0x9E3779B97F4A7C15 * (2 * i + 1) % 2**64 for i in range(NUM_PERM)],
                        dtype=np.uint64)


def band_hashes(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> list[int]:
    """One signed 64-bit hash per LSH band (band number mixed in), as stored in ``minhash_bands``."""
    with np.errstate(over="ignore"):
        weighted = (sig[: bands * rows].astype(np.uint64) * _ROW_WEIGHTS[: bands * rows]).reshape(bands, rows)
        x = weighted.sum(axis=1, dtype=np.uint64) + np.arange(1, bands + 1, dtype=np.uint64) * _MIX2
    return _splitmix(x).view(np.int64).tolist()


@dataclass
class NearMatch:
    """A stored article that the new text nearly repeats."""

    original_article_id: int
    similarity: float  # exact Jaccard of the word-shingle sets
    estimated: float   # Jaccard estimated from the MinHash signatures


def candidate_ids(cur, bands_per_item: Sequence[Sequence[int]]) -> list[set[int]]:
    """Stored article ids sharing at least one band with each item (one query for all items)."""
    items: list[int] = []
    hashes: list[int] = []
    for n, bands in enumerate(bands_per_item):
        items.extend([n] * len(bands))
        hashes.extend(bands)
    found: list[set[int]] = [set() for _ in bands_per_item]
    if not hashes:
        return found
    cur.execute(
        "SELECT q.n, b.article_id FROM unnest(%s::int[], %s::bigint[]) AS q(n, band_hash)"
        " JOIN minhash_bands b ON b.band_hash = q.band_hash",
        (items, hashes),
    )
    for n, article_id in cur.fetchall():
        found[n].add(article_id)
    return found


def stored_signatures(cur, article_ids: Iterable[int]) -> dict[int, np.ndarray]:
    ids = sorted(set(article_ids))
    if not ids:
        return {}
    cur.execute("SELECT article_id, minhash FROM article_fingerprints"
                " WHERE article_id = ANY(%s) AND minhash IS NOT NULL", (ids,))
    return {article_id: signature_from_bytes(data) for article_id, data in cur.fetchall()}


def stored_texts(cur, article_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(article_ids))
    if not ids:
        return {}
    cur.execute("SELECT article_id, body FROM articles WHERE article_id = ANY(%s)", (ids,))
    return dict(cur.fetchall())


def best_match(text: str, sig: np.ndarray, candidates: dict[int, np.ndarray],
               texts: dict[int, str], threshold: float, *, mine: set[int] | None = None) -> NearMatch | None:
    """The most similar candidate at or above ``threshold`` (exact Jaccard), if any.

    ``mine``, the shingle set of ``text``, is computed when needed unless given.
    """
    best: NearMatch | None = None
    for article_id, other in candidates.items():
        estimate = estimated_jaccard(sig, other)
        if estimate < threshold - ESTIMATE_MARGIN or article_id not in texts:
            continue
        if mine is None:
            mine = shingles(text)
        exact = jaccard(mine, shingles(texts[article_id]))
        if exact >= threshold and (best is None or exact > best.similarity):
            best = NearMatch(article_id, exact, estimate)
    return best


def store_signatures(cur, items: Sequence[tuple[int, np.ndarray]]) -> None:
    """Save signatures and LSH bands of stored articles (replacing older ones)."""
    if not items:
        return
    ids = [article_id for article_id, _ in items]
    cur.execute("DELETE FROM minhash_bands WHERE article_id = ANY(%s)", (ids,))
    band_rows_ids: list[int] = []
    band_rows_hashes: list[int] = []
    for article_id, sig in items:
        for value in set(band_hashes(sig)):
            band_rows_ids.append(article_id)
            band_rows_hashes.append(value)
    cur.execute(
        "INSERT INTO minhash_bands (band_hash, article_id)"
        " SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
        (band_rows_hashes, band_rows_ids),
    )
    cur.execute(
        "INSERT INTO article_fingerprints (article_id, minhash)"
        " SELECT * FROM unnest(%s::bigint[], %s::bytea[])"
        " ON CONFLICT (article_id) DO UPDATE SET minhash = EXCLUDED.minhash",
        (ids, [signature_bytes(sig) for _, sig in items]),
    )
