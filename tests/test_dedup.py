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
