"""The content hash: what makes two texts exact duplicates."""

from __future__ import annotations

import random

from news_etl import dedup
from support.texts import PARK, PARK_FULL, russian_text


def test_content_hash_ignores_case_spacing_and_punctuation_only():
    body = "Нацбанк сохранил базовую ставку на уровне 14,75 процента годовых. " * 8
    same = body.upper().replace(" ", "  ").replace(",", " , ").replace(".", "\u00a0…")
    other = body.replace("14,75", "14,50")
    assert dedup.content_hash("Ставка", body) == dedup.content_hash("СТАВКА!", same)
    assert dedup.content_hash("Ставка", body) != dedup.content_hash("Ставка", other)
    # Title and body are kept apart: moving a word across the boundary is a change.
    assert dedup.content_hash("Ставка Нацбанк", body[8:]) != dedup.content_hash("Ставка", body)


def test_raw_digest_sees_every_character():
    body = "Нацбанк сохранил базовую ставку. " * 8
    assert dedup.raw_digest("Ставка", body) == dedup.raw_digest("Ставка", body)
    assert dedup.raw_digest("Ставка", body) != dedup.raw_digest("Ставка", body.replace(".", "!", 1))
    assert dedup.raw_digest("Ставка", body) != dedup.raw_digest("Ставк", "а" + body)
    assert len(dedup.raw_digest("Ставка", body)) == 16


def test_folding_drops_exactly_ascii_punctuation_whitespace_and_three_unicode_blocks():
    """What the fold removes is part of every stored content hash: pinned against a plain definition."""
    import string
    import unicodedata

    def dropped(c: str) -> bool:
        code = ord(c)
        return (c in string.punctuation + string.whitespace or 0xA0 <= code < 0xC0
                or 0x2000 <= code < 0x2070 or 0x3000 <= code < 0x3040)

    for code in [*range(0x80, 0x3100), 0x1F600]:
        if 0xD800 <= code < 0xE000:
            continue
        text = f"а{chr(code)}Б"
        expected = "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if not dropped(c))
        assert dedup.normalized_text(text) == expected, hex(code)
    # Word tokens split at the same characters.
    assert dedup.words("Ставка\u2014сохранена\u00abсегодня\u00bb") == [
        w.encode() for w in ("ставка", "сохранена", "сегодня")]


def test_long_texts_fold_to_the_plain_paths_bytes_whatever_character_they_hold():
    """Long texts are folded by table lookup: for every BMP character (lone surrogates, NUL and
    U+FFFF included) and some beyond it, the hash and word paths give the plain paths' bytes."""
    import unicodedata

    lead = "Нацбанк сохранил базовую ставку — 14,75 процента годовых. " * 4
    by_table = 0
    for code in [*range(0x10000), 0x1F600, 0x10400, 0x1D400, 0xE0041]:
        text = f"{lead}а{chr(code)}Б {chr(code)}{chr(code).upper()} конец."
        normalized = unicodedata.normalize("NFKC", text)
        assert len(normalized) >= dedup._TABLE_MIN_CHARS
        assert dedup._fold(text) == dedup._fold_plain(normalized), hex(code)
        assert dedup.words(text) == dedup._words_plain(normalized), hex(code)
        by_table += dedup._fold_by_table(normalized, dedup._fold_tables()[0], drop=True) is not None
    # The table path is the one taken: it declines only characters whose case fold is not one
    # BMP character (ß, ligatures, ...), surrogates, NUL and U+FFFF.
    assert by_table > 0x10000 - 0x800 - 400, by_table


def test_long_texts_take_the_table_path_and_fall_back_when_it_declines():
    body = "Нацбанк сохранил «базовую» ставку — 14,75 процента годовых.\n" * 10
    assert dedup._fold_by_table(body, dedup._fold_tables()[0], drop=True) is not None
    assert dedup.normalized_text(body) == ("нацбанксохранилбазовуюставку1475процентагодовых" * 10)
    assert dedup.words(body)[:3] == [w.encode() for w in ("нацбанк", "сохранил", "базовую")]
    # ß folds to two letters: the table declines, the plain path gives the same answer as for "ss".
    german = "Die Straße bleibt gesperrt, teilte die Polizei mit. " * 10
    assert dedup._fold_by_table(german, dedup._fold_tables()[0], drop=True) is None
    assert dedup.content_hash("Titel", german) == dedup.content_hash("Titel", german.replace("ß", "ss"))
    # A character beyond the BMP (two UTF-16 code units) also goes the plain way, unchanged.
    emoji = body + "\U0001F600"
    assert dedup.normalized_text(emoji) == dedup.normalized_text(body) + "\U0001F600"


def test_signature_is_datasketch_affine32_minhash():
    """dedup.signature computes in numpy what datasketch computes (stored signatures stay valid)."""
    import numpy as np
    from datasketch import MinHash

    rng = random.Random(3)
    for text in ["", "Одно слово", PARK, PARK_FULL, russian_text(rng, 3000)]:
        ids = dedup.shingle_ids(text)
        reference = MinHash(num_perm=dedup.NUM_PERM, seed=dedup._SEED, hashfunc=lambda v: v,
                            scheme="affine32", permutations=dedup._permutations(dedup.NUM_PERM))
        if len(ids):
            reference.update_batch(((ids >> np.uint64(32)) ^ ids).astype(np.uint32))
        assert np.array_equal(dedup.signature(text), reference.hashvalues)
