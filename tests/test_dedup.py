"""The content hash: what makes two texts exact duplicates."""

from __future__ import annotations

from news_etl import dedup


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
