"""Loading into real PostgreSQL: identity, revisions, duplicates, rejects, staging, the ledger.

Semantic cases use short hand-written Russian news texts; volume uses
synthetic Russian-like text from ``synthetic_article`` (also used by the
concurrency tests; bench/load_bench.py generates news-like text of its own).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from news_etl import dedup, ledger
from news_etl.load import (
    LoadSettings,
    clear_staged,
    ensure_source,
    load_articles,
    load_batches,
    stage_articles,
    staged_batches,
    validate_article,
)
from news_etl.record import Article
from support.texts import PARK, PARK_FULL, article, russian_text, synthetic_article

# Fixture texts live in support/texts.py (shared with the dedup and concurrency tests).

BANK = (
    "Национальный банк Казахстана сохранил базовую ставку на уровне четырнадцати с половиной "
    "процента годовых с коридором плюс-минус один процентный пункт.\n"
    "Решение объясняется тем, что годовая инфляция замедляется медленнее ожидаемого, а "
    "инфляционные ожидания населения остаются повышенными.\n"
    "Следующее плановое решение по базовой ставке будет объявлено в конце мая в двенадцать "
    "часов по времени Астаны, говорится в сообщении регулятора."
)


@pytest.fixture
def run(conn):
    ensure_source(conn, "tengri", "Tengrinews.kz", "https://tengrinews.kz/")
    ensure_source(conn, "other", "Другой сайт", "https://other.example/")
    ensure_source(conn, "synth", "Синтетика", "https://synth.example/")
    run_id = ledger.start_run(conn, source_key="tengri", kind="cli")
    conn.commit()
    return run_id


def new_run(conn, kind: str = "cli") -> int:
    run_id = ledger.start_run(conn, source_key="tengri", kind=kind)
    conn.commit()
    return run_id


def scalar(conn, sql: str, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def articles_checksum(conn) -> str:
    """md5 over every column of every article row, in id order."""
    return scalar(conn, "SELECT md5(coalesce(string_agg(a::text, E'\\n' ORDER BY article_id), ''))"
                        " FROM articles a")


def all_staged(conn, run_id: int) -> list[Article]:
    return [article for batch in staged_batches(conn, run_id, 1000) for article in batch]


def outcomes_of(result) -> list[str]:
    return [outcome for _url, outcome, _id in result]


# --------------------------------------------------------------------------- tests

def test_new_articles_are_loaded_with_urls_fingerprints_and_ledger(conn, run):
    batch = [synthetic_article(n, source_key="synth", chars=800) for n in range(30)]
    result = load_articles(conn, batch, run_id=run)
    assert outcomes_of(result) == ["new"] * 30
    assert len({article_id for _u, _o, article_id in result}) == 30
    assert scalar(conn, "SELECT count(*) FROM articles") == 30
    assert scalar(conn, "SELECT count(*) FROM articles WHERE raw_digest IS NOT NULL") == 30
    assert scalar(conn, "SELECT array_agg(canonical_url ORDER BY article_id) FROM articles") == \
        [a.url for a in batch]
    assert scalar(conn, "SELECT count(*) FROM article_urls") == 0  # no URL besides the canonical ones
    assert scalar(conn, "SELECT count(*) FROM article_fingerprints") == 30
    assert scalar(conn, "SELECT count(DISTINCT article_id) FROM minhash_bands") == 30
    summary = ledger.finish_run(conn, run, stage_seconds={"load": 0.5})
    conn.commit()
    assert summary.discovered == 30 and summary.outcome_counts == {"new": 30}
    stored = scalar(conn, "SELECT body FROM articles WHERE canonical_url = %s", (batch[3].url,))
    assert stored == batch[3].body


def test_rerun_of_the_same_window_adds_nothing_and_keeps_the_checksum(conn, run):
    rng = random.Random(11)
    batch = [synthetic_article(n, rng=rng, chars=600) for n in range(40)]
    batch += [article("https://tengrinews.kz/kazakhstan_news/park-1/", "Весенняя посадка деревьев", PARK)]
    assert set(outcomes_of(load_articles(conn, batch, run_id=run))) == {"new"}
    ledger.finish_run(conn, run)
    conn.commit()
    before_rows, before_sum = scalar(conn, "SELECT count(*) FROM articles"), articles_checksum(conn)

    rerun = new_run(conn)
    ledger.record_discovered(conn, rerun, [a.url for a in batch])
    result = load_articles(conn, batch, run_id=rerun)
    summary = ledger.finish_run(conn, rerun)
    conn.commit()
    assert outcomes_of(result) == ["unchanged"] * len(batch)
    assert summary.outcome_counts == {"unchanged": len(batch)}
    assert scalar(conn, "SELECT count(*) FROM articles") == before_rows
    assert articles_checksum(conn) == before_sum
    assert scalar(conn, "SELECT count(*) FROM article_revisions") == 0
    # Seen again: the ledger says so, row by row, not the articles table.
    assert scalar(conn, "SELECT count(DISTINCT article_id) FROM run_urls WHERE run_id = %s"
                        " AND outcome = 'unchanged'", (rerun,)) == len(batch)


def test_rerun_without_a_digest_or_with_reformatted_text_is_unchanged_and_learns_the_digest(conn, run):
    # A row without a digest (stored before migration 005) and one whose page now has other
    # spacing: both unchanged by the content hash, and both take the fast path next time.
    first = article("https://tengrinews.kz/news/park-1/", "Весенняя посадка деревьев", PARK, sid="1")
    second = article("https://tengrinews.kz/news/bank-2/", "Нацбанк сохранил ставку", BANK, sid="2")
    load_articles(conn, [first, second], run_id=run)
    with conn.cursor() as cur:
        cur.execute("UPDATE articles SET raw_digest = NULL WHERE source_article_id = '1'")
    conn.commit()
    before = articles_checksum(conn)
    respaced = article(second.url, second.title, second.body.replace(". ", ".  "), sid="2")
    result = load_articles(conn, [first, respaced], run_id=new_run(conn))
    assert outcomes_of(result) == ["unchanged", "unchanged"]
    assert scalar(conn, "SELECT count(*) FROM article_revisions") == 0
    with conn.cursor() as cur:
        cur.execute("SELECT source_article_id, raw_digest FROM articles ORDER BY 1")
        digests = {sid: bytes(raw) for sid, raw in cur.fetchall()}
    assert digests == {"1": dedup.raw_digest(first.title, first.body),
                       "2": dedup.raw_digest(respaced.title, respaced.body)}
    assert before != articles_checksum(conn)  # the digests, and nothing else:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles WHERE body IN (%s, %s)", (first.body, second.body))
        assert cur.fetchone()[0] == 2
    # The third time, the statement that matches them records them.
    third = new_run(conn)
    assert outcomes_of(load_articles(conn, [first, respaced], run_id=third)) == ["unchanged", "unchanged"]
    assert scalar(conn, "SELECT count(*) FROM run_urls WHERE run_id = %s AND outcome = 'unchanged'",
                  (third,)) == 2


def test_one_article_under_two_urls_is_one_row(conn, run):
    first = article("https://tengrinews.kz/kazakhstan_news/posadka-derevev-596101/", "Весенняя посадка", PARK,
                    sid="596101")
    # The same article (same source id) reached through another section.
    second = article("https://tengrinews.kz/events/posadka-derevev-596101/", "Весенняя посадка", PARK,
                     sid="596101")
    result = load_articles(conn, [first, second], run_id=run)
    assert outcomes_of(result) == ["new", "unchanged"]
    assert result[0][2] == result[1][2]
    assert scalar(conn, "SELECT count(*) FROM articles") == 1
    assert scalar(conn, "SELECT canonical_url FROM articles") == first.url
    urls = scalar(conn, "SELECT array_agg(url ORDER BY url) FROM article_urls WHERE article_id = %s",
                  (result[0][2],))
    assert urls == [second.url]  # the other URL it was seen under


def test_same_text_under_another_url_of_the_same_site_without_ids_is_one_row(conn, run):
    first = article("https://tengrinews.kz/news/park/", "Весенняя посадка деревьев", PARK)
    mirror = article("https://tengrinews.kz/amp/park/", "Весенняя  посадка деревьев!",
                     PARK.replace("карагача.", "карагача !"))
    result = load_articles(conn, [first], run_id=run)
    result += load_articles(conn, [mirror], run_id=run)
    assert outcomes_of(result) == ["new", "duplicate_exact"]
    assert scalar(conn, "SELECT count(*) FROM articles") == 1
    assert scalar(conn, "SELECT url FROM article_urls") == mirror.url
    kind, original, kept = ledger_dup(conn)
    assert (kind, original, kept) == ("exact", result[0][2], None)


def ledger_dup(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT kind, original_article_id, article_id FROM duplicates")
        rows = cur.fetchall()
    assert len(rows) == 1
    return rows[0]


def test_exact_reprint_on_another_source_is_recorded_not_loaded(conn, run):
    original = article("https://tengrinews.kz/money/stavka-527215/", "Нацбанк сохранил базовую ставку", BANK,
                       sid="527215")
    reprint = article("https://other.example/finance/stavka/", "НАЦБАНК СОХРАНИЛ БАЗОВУЮ СТАВКУ",
                      BANK.replace("\n", "\n\n").replace("-", " - "), source="other")
    result = load_articles(conn, [original, reprint], run_id=run)
    assert outcomes_of(result) == ["new", "duplicate_exact"]
    assert result[1][2] == result[0][2]  # the ledger points at the stored original
    assert scalar(conn, "SELECT count(*) FROM articles") == 1
    assert scalar(conn, "SELECT count(*) FROM article_urls") == 0  # another site's URL is not an alias
    assert ledger_dup(conn) == ("exact", result[0][2], None)
    assert scalar(conn, "SELECT similarity FROM duplicates") == 1.0


def test_edited_article_is_one_row_and_one_revision(conn, run):
    url = "https://tengrinews.kz/kazakhstan_news/posadka-derevev-596101/"
    first = article(url, "Весенняя посадка деревьев", PARK, sid="596101")
    load_articles(conn, [first], run_id=run)
    created = scalar(conn, "SELECT updated_at FROM articles")
    edited_body = PARK.replace("двенадцати тысяч", "пятнадцати тысяч")
    edited = article(url, "Весенняя посадка деревьев в Алматы", edited_body, sid="596101")
    result = load_articles(conn, [edited], run_id=new_run(conn))
    assert outcomes_of(result) == ["updated"]
    assert scalar(conn, "SELECT count(*) FROM articles") == 1
    with conn.cursor() as cur:
        cur.execute("SELECT title, body, updated_at FROM articles")
        title, body, updated_at = cur.fetchone()
        cur.execute("SELECT title, body, valid_from FROM article_revisions")
        revisions = cur.fetchall()
    assert (title, body) == (edited.title, edited_body)
    assert updated_at > created
    assert revisions == [(first.title, PARK, created)]
    # Seen again unchanged: still one revision.
    assert outcomes_of(load_articles(conn, [edited], run_id=new_run(conn))) == ["unchanged"]
    assert scalar(conn, "SELECT count(*) FROM article_revisions") == 1


def test_reprint_with_a_changed_sentence_is_linked_as_near_duplicate(conn, run):
    original = article("https://tengrinews.kz/kazakhstan_news/park/", "Весенняя посадка деревьев",
                       PARK_FULL, sid="1")
    changed = PARK_FULL.replace(
        "Инвентарь и перчатки выдадут на месте, сообщили в пресс-службе акимата.",
        "Инвентарь и перчатки раздадут волонтёры, уточнили в акимате.")
    reprint = article("https://other.example/city/park/", "В Алматы начали сажать деревья", changed,
                      source="other")
    result = load_articles(conn, [original], run_id=run) + load_articles(conn, [reprint], run_id=run)
    assert outcomes_of(result) == ["new", "duplicate_near"]
    assert result[1][2] not in (None, result[0][2])  # kept as its own article (policy "link")
    with conn.cursor() as cur:
        cur.execute("SELECT kind, article_id, original_article_id, similarity FROM duplicates")
        kind, kept, original_id, similarity = cur.fetchone()
    assert (kind, kept, original_id) == ("near", result[1][2], result[0][2])
    assert 0.9 <= similarity < 1.0
    assert scalar(conn, "SELECT count(*) FROM articles") == 2


def test_near_duplicate_policy_skip_does_not_store_the_copy(conn, run):
    original = article("https://tengrinews.kz/city/park/", "Посадка деревьев", PARK_FULL, sid="7")
    changed = PARK_FULL.replace("двенадцати тысяч", "тринадцати тысяч")
    copy = article("https://other.example/park/", "Деревья", changed, source="other")
    load_articles(conn, [original], run_id=run)
    result = load_articles(conn, [copy], run_id=run, near_policy="skip")
    assert outcomes_of(result) == ["duplicate_near"]
    assert scalar(conn, "SELECT count(*) FROM articles") == 1
    assert scalar(conn, "SELECT article_id IS NULL FROM duplicates") is True


def test_different_stories_on_one_topic_are_not_linked(conn, run):
    rng = random.Random(5)
    a = article("https://tengrinews.kz/a/", "Первая новость", russian_text(rng, 1500), sid="a")
    b = article("https://tengrinews.kz/b/", "Вторая новость", russian_text(rng, 1500), sid="b")
    assert outcomes_of(load_articles(conn, [a, b], run_id=run)) == ["new", "new"]
    assert scalar(conn, "SELECT count(*) FROM duplicates") == 0


def test_near_threshold_is_configurable(conn, run):
    original = article("https://tengrinews.kz/city/park/", "Посадка деревьев", PARK_FULL, sid="7")
    rewritten = PARK_FULL.replace(
        "Экологи напоминают, что одно взрослое дерево за летний сезон задерживает до ста килограммов пыли",
        "Специалисты отмечают, что крупное дерево летом собирает много пыли").replace(
        "В акимате добавили, что карту мест посадки опубликуют на официальном сайте города",
        "Схему озеленения, как пообещали чиновники, выложат в интернете")
    copy = article("https://other.example/park/", "Деревья", rewritten, source="other")
    load_articles(conn, [original], run_id=run)
    strict = load_articles(conn, [copy], run_id=run, commit=False)
    conn.rollback()
    loose = load_articles(conn, [copy], run_id=run, settings=LoadSettings(near_threshold=0.75))
    assert outcomes_of(strict) == ["new"]
    assert outcomes_of(loose) == ["duplicate_near"]
    assert 0.75 <= scalar(conn, "SELECT similarity FROM duplicates") < 0.9


def test_bad_records_are_rejected_with_a_reason_and_the_rest_loads(conn, run):
    good = article("https://tengrinews.kz/good/", "Нацбанк сохранил ставку", BANK, sid="1")
    no_title = article("https://tengrinews.kz/no-title/", "  ", PARK, sid="2")
    future = article("https://tengrinews.kz/future/", "Из будущего", PARK.replace("Акимат", "Город"), sid="3",
                     published=datetime.now(UTC) + timedelta(days=3))
    soon = article("https://tengrinews.kz/soon/", "Через час", PARK.replace("Акимат", "Власти"), sid="4",
                   published=datetime.now(UTC) + timedelta(hours=1))
    short = article("https://tengrinews.kz/short/", "Коротко", "Подробности позже.", sid="5")
    surrogate = article("https://tengrinews.kz/broken/", "Сломанный текст", PARK + " \udc8f", sid="6")
    nul = article("https://tengrinews.kz/nul/", "Нулевой символ", PARK.replace("Акимат", "Ак\x00имат"),
                  sid="8")
    batch = [good, no_title, future, soon, short, surrogate, nul]
    result = load_articles(conn, batch, run_id=run)
    assert outcomes_of(result) == ["new", "rejected", "rejected", "new", "rejected", "rejected", "rejected"]
    with conn.cursor() as cur:
        cur.execute("SELECT url, stage, reason FROM rejects ORDER BY reject_id")
        rejects = cur.fetchall()
        cur.execute("SELECT url, reason FROM run_urls WHERE outcome = 'rejected' ORDER BY url")
        in_ledger = cur.fetchall()
    assert rejects == [(no_title.url, "load", "no_title"), (future.url, "load", "future_date"),
                       (short.url, "load", "body_too_short"), (surrogate.url, "load", "invalid_utf8"),
                       (nul.url, "load", "invalid_utf8")]
    assert sorted(in_ledger) == sorted((url, reason) for url, _stage, reason in rejects)
    assert scalar(conn, "SELECT count(*) FROM articles") == 2
    summary = ledger.finish_run(conn, run)
    assert summary.outcome_counts == {"new": 2, "rejected": 5}


def test_limits_are_configurable(conn, run):
    settings = LoadSettings(min_body_chars=2000, future_tolerance=timedelta(minutes=5))
    soon = article("https://tengrinews.kz/soon/", "Через час", BANK, sid="4",
                   published=datetime.now(UTC) + timedelta(hours=1))
    result = load_articles(conn, [soon], run_id=run, settings=settings)
    assert outcomes_of(result) == ["rejected"]
    assert scalar(conn, "SELECT reason FROM rejects") == "body_too_short"
    ok = article("https://tengrinews.kz/ok/", "Ставка", BANK, sid="5")
    result = load_articles(conn, [ok], run_id=run, settings=LoadSettings(min_body_chars=100))
    assert outcomes_of(result) == ["new"]


def test_unknown_source_is_rejected_not_a_crash(conn, run):
    stray = article("https://nowhere.example/x/", "Заголовок", BANK, source="nowhere")
    good = article("https://tengrinews.kz/good/", "Нацбанк", BANK.replace("банк", "Банк"), sid="1")
    result = load_articles(conn, [stray, good], run_id=run)
    assert outcomes_of(result) == ["rejected", "new"]
    assert scalar(conn, "SELECT reason FROM rejects") == "unknown_source"


def test_repeats_inside_one_batch(conn, run):
    a = article("https://tengrinews.kz/a-596101/", "Посадка деревьев", PARK, sid="596101")
    a_edit = article("https://tengrinews.kz/a-596101/", "Посадка деревьев",
                     PARK.replace("субботу", "воскресенье"), sid="596101")
    b = article("https://tengrinews.kz/b/", "Нацбанк", BANK, sid="9")
    b_copy = article("https://other.example/b/", "Нацбанк", BANK, source="other")
    result = load_articles(conn, [a, b, a_edit, b_copy], run_id=run)
    assert outcomes_of(result) == ["new", "new", "updated", "duplicate_exact"]
    assert scalar(conn, "SELECT count(*) FROM articles") == 2
    assert scalar(conn, "SELECT count(*) FROM article_revisions") == 1
    # The ledger has one row per URL: the last word for the URL given twice.
    assert scalar(conn, "SELECT count(*) FROM run_urls WHERE run_id = %s", (run,)) == 3


def test_failed_batch_leaves_nothing_behind(conn, run):
    batch = [synthetic_article(n, chars=500) for n in range(5)]
    with pytest.raises(ValueError):
        load_articles(conn, batch, run_id=run, near_policy="keep-both")
    assert scalar(conn, "SELECT count(*) FROM articles") == 0
    # A run id that does not exist breaks the ledger write at the very end: all rolled back.
    import psycopg2

    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        load_articles(conn, batch, run_id=run + 999)
    assert scalar(conn, "SELECT count(*) FROM articles") == 0
    assert scalar(conn, "SELECT count(*) FROM article_urls") == 0


def test_staging_hands_articles_between_tasks(conn, run):
    good = article("https://tengrinews.kz/good/", "Нацбанк сохранил ставку", BANK, sid="1")
    good.extraction = {"title": "json-ld"}
    good.fetched_at = datetime(2024, 4, 2, 7, 0, tzinfo=UTC)
    broken = article("https://tengrinews.kz/broken/", "Сломанный\udc8f", PARK, sid="2")
    assert stage_articles(conn, run, [good, broken]) == 2
    stage_articles(conn, run, [good])  # a retried task replaces, never doubles
    conn.commit()
    staged = all_staged(conn, run)
    assert staged == [good, broken]
    result = load_articles(conn, staged, run_id=run)
    assert outcomes_of(result) == ["new", "rejected"]
    assert clear_staged(conn, run) == 2
    conn.commit()
    assert all_staged(conn, run) == []


def test_url_of_another_sources_article_is_an_identity_conflict(conn, run):
    # A row stored for one source holds the canonical URL that an article of another source claims.
    clash_url = "https://other.example/news/park/"
    with conn.cursor() as cur:
        cur.execute("INSERT INTO articles (source_key, source_article_id, canonical_url, title, published_at,"
                    " body, content_hash) VALUES ('tengri', '900', %s, 'Чужая запись', now(), %s, 'x')",
                    (clash_url, BANK))
    conn.commit()
    before = scalar(conn, "SELECT md5(string_agg(a::text, '' ORDER BY article_id)) FROM articles a")
    clash = article(clash_url, "Посадка деревьев", PARK_FULL, source="other")
    fine = article("https://other.example/news/bank/", "Ставка", BANK.replace("Национальный", "Главный"),
                   source="other")
    result = load_articles(conn, [clash, fine], run_id=run)
    assert outcomes_of(result) == ["rejected", "new"]
    with conn.cursor() as cur:
        cur.execute("SELECT reason, detail FROM run_urls WHERE url = %s", (clash_url,))
        reason, detail = cur.fetchone()
        assert reason == "identity_conflict" and "'tengri'" in detail
        cur.execute("SELECT md5(string_agg(a::text, '' ORDER BY article_id)) FROM articles a"
                    " WHERE source_key = 'tengri'")
        assert cur.fetchone()[0] == before  # the stored row is untouched
    assert scalar(conn, "SELECT count(*) FROM articles WHERE source_key = 'other'") == 1
    assert scalar(conn, "SELECT title FROM articles WHERE canonical_url = %s", (clash_url,)) == "Чужая запись"


def test_two_new_articles_claiming_one_url_store_the_first_and_reject_the_other(conn, run):
    # Two new articles of one batch (different source ids) claim one canonical URL: the match finds
    # neither stored, the unique constraint keeps the first, the other is rejected, the rest loads.
    clash_url = "https://tengrinews.kz/news/park-900/"
    first = article(clash_url, "Посадка деревьев", PARK_FULL, sid="900")
    clash = article(clash_url, "Посадка деревьев, версия 2", PARK, sid="901")
    fine = article("https://tengrinews.kz/news/bank/", "Ставка", BANK, sid="902")
    fine.extraction = {"title": "json-ld"}
    result = load_articles(conn, [first, clash, fine], run_id=run)
    assert outcomes_of(result) == ["new", "rejected", "new"]
    with conn.cursor() as cur:
        cur.execute("SELECT source_article_id, title, author, extraction FROM articles ORDER BY article_id")
        assert cur.fetchall() == [("900", "Посадка деревьев", "Айгерим Сапарова", {}),
                                  ("902", "Ставка", "Айгерим Сапарова", {"title": "json-ld"})]
        cur.execute("SELECT outcome, reason FROM run_urls WHERE run_id = %s ORDER BY url", (run,))
        # One row per URL: the URL given twice keeps its last word.
        assert cur.fetchall() == [("new", None), ("rejected", "identity_conflict")]


def stored_rows(conn) -> list[tuple]:
    """Every stored article's content and identity, without ids and load times."""
    with conn.cursor() as cur:
        cur.execute("SELECT source_key, source_article_id, canonical_url, title, published_at, author, body,"
                    " content_hash, raw_digest, extraction FROM articles ORDER BY canonical_url")
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cur.fetchall()]


def test_load_batches_ends_as_loading_batch_by_batch(conn, run):
    """Mixed batches (new, duplicates, edits, rejects, a URL twice) give the same outcomes and rows
    through load_batches as through load_articles one batch at a time."""
    synth = [synthetic_article(n) for n in range(24)]
    copy_of_3 = Article(**{**synth[3].__dict__, "url": "https://other.example/copy-3/", "source_key": "other",
                           "source_article_id": None, "title": synth[3].title.upper()})
    edit_of_5 = Article(**{**synth[5].__dict__, "body": synth[5].body + " Дополнено."})
    later = datetime.now(UTC) + timedelta(days=9)
    future = Article(**{**synthetic_article(90).__dict__, "published_at": later})
    short = Article(**{**synthetic_article(91).__dict__, "body": "Коротко."})
    broken = Article(**{**synthetic_article(92).__dict__, "body": synthetic_article(92).body + "\udc8f"})
    edit_of_20 = Article(**{**synth[20].__dict__, "body": synth[20].body + " Обновлено."})  # same URL twice
    batches = [synth[:10], synth[10:20] + [copy_of_3, edit_of_5],
               [future, short, broken] + synth[20:] + [edit_of_20]]

    ahead = [outcomes_of(result) for result in load_batches(conn, batches, run_id=run)]
    rows_ahead = stored_rows(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT url, reason FROM rejects ORDER BY url")
        rejects_ahead = cur.fetchall()
        cur.execute("TRUNCATE articles, article_urls, article_fingerprints, minhash_bands, duplicates,"
                    " article_revisions, run_urls, rejects CASCADE")
    conn.commit()
    one_by_one = [outcomes_of(load_articles(conn, batch, run_id=run)) for batch in batches]

    assert ahead == one_by_one
    assert ahead[1][-2:] == ["duplicate_exact", "updated"]
    assert ahead[2][:3] == ["rejected"] * 3
    assert ahead[2][3] == "new" and ahead[2][-1] == "updated"
    assert rejects_ahead == sorted([(future.url, "future_date"), (short.url, "body_too_short"),
                                    (broken.url, "invalid_utf8")])
    assert stored_rows(conn) == rows_ahead and len(rows_ahead) == 24


def test_load_batches_lets_go_of_each_batch_without_the_garbage_collector(conn, run):
    """Nothing of a loaded batch stays alive through a reference cycle (memory flat over a long run)."""
    import gc
    import weakref

    alive: list[weakref.ref] = []

    def batches():
        for k in range(4):
            batch = [synthetic_article(n) for n in range(k * 5, k * 5 + 5)]
            alive.append(weakref.ref(batch[0]))
            yield batch

    gc.collect()
    gc.disable()
    try:
        for outcomes in load_batches(conn, batches(), run_id=run):
            assert outcomes_of(outcomes) == ["new"] * 5
            del outcomes
        assert [ref() for ref in alive] == [None] * 4
    finally:
        gc.enable()


def test_a_url_loaded_again_later_in_the_same_run_keeps_one_ledger_row(conn, run):
    """A run without discovery writes unchanged articles' ledger rows by plain INSERT; a URL it
    recorded in an earlier batch (not the batch's first) makes the batch take the merge instead."""
    first, second, third = (synthetic_article(n) for n in (1, 2, 3))
    edited = Article(**{**second.__dict__, "body": second.body + " Дополнено."})
    batches = [[first, second], [third, first, edited], [first]]
    assert [outcomes_of(result) for result in load_batches(conn, batches, run_id=run)] == [
        ["new", "new"], ["new", "unchanged", "updated"], ["unchanged"]]
    with conn.cursor() as cur:
        cur.execute("SELECT url, outcome FROM run_urls WHERE run_id = %s ORDER BY url", (run,))
        ledger_rows = cur.fetchall()
    assert ledger_rows == sorted([(first.url, "unchanged"), (second.url, "updated"), (third.url, "new")])
    assert scalar(conn, "SELECT count(*) FROM articles") == 3


def test_every_text_column_arrives_as_given_through_the_copy_of_new_articles(conn, run):
    """Every text column of a new article goes through the loader's COPY: COPY's special
    characters, a literal \\N, Cyrillic, NBSP and a character beyond the BMP come back unchanged."""
    tricky = "Тест\\N \\ back\\slash\ttab\r\nline\u00a0nbsp 🙂 \\\\ end"
    article = Article(
        title=f"Заголовок {tricky}", published_at=datetime(2024, 5, 1, 6, 30, tzinfo=UTC),
        author=f"Автор {tricky}", source_name="Синтетика", url="https://synth.example/news/tricky/",
        body=f"{tricky}\n" + russian_text(random.Random(3), 400), source_key="synth",
        source_article_id=f"id\t{tricky}", fetched_at=datetime(2024, 5, 1, 7, tzinfo=UTC),
        extraction={"body": tricky, "title": "json-ld"})
    assert outcomes_of(load_articles(conn, [article], run_id=run)) == ["new"]
    with conn.cursor() as cur:
        cur.execute("SELECT title, author, body, source_article_id, canonical_url, extraction, published_at,"
                    " fetched_at, content_hash FROM articles")
        stored = cur.fetchone()
    assert stored == (article.title, article.author, article.body, article.source_article_id, article.url,
                      article.extraction, article.published_at, article.fetched_at,
                      dedup.content_hash(article.title, article.body))


def test_exact_duplicates_of_stored_articles_and_of_the_previous_batch(conn, run):
    """A copy of an article stored earlier and one of an article of the previous batch are both
    exact duplicates pointing at their originals."""
    from dataclasses import replace

    earlier = synthetic_article(600)
    load_articles(conn, [earlier], run_id=run)
    first = [synthetic_article(n) for n in range(610, 612)]  # two lines: two hashes ahead
    second = [replace(earlier, url="https://synth.example/copy/600/", source_article_id="copy-600"),
              synthetic_article(620), synthetic_article(621),
              replace(first[1], url="https://synth.example/copy/611/", source_article_id="copy-611")]
    results = list(load_batches(conn, [first, second], run_id=new_run(conn)))
    assert outcomes_of(results[1]) == ["duplicate_exact", "new", "new", "duplicate_exact"]
    assert [results[1][0][2], results[1][3][2]] == [
        scalar(conn, "SELECT article_id FROM articles WHERE canonical_url = %s", (earlier.url,)),
        results[0][1][2]]


def test_staged_articles_come_a_batch_at_a_time_across_commits_and_rollbacks(conn, run):
    """The load task reads staged articles through a cursor that survives the loader's commits
    and a dry run's rollbacks, holding one batch at a time."""
    staged = [synthetic_article(n, chars=300) for n in range(5)]
    stage_articles(conn, run, staged)
    conn.commit()
    batches = []
    for n, batch in enumerate(staged_batches(conn, run, 2)):
        batches.append(batch)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.rollback() if n % 2 else conn.commit()
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert [a for batch in batches for a in batch] == staged
    assert all_staged(conn, run) == staged


def test_an_error_in_a_later_batch_keeps_the_committed_batches(conn, run):
    """load_batches commits each batch before the next is read: a failure later loses nothing before it."""
    first = [synthetic_article(n) for n in range(4)]

    def batches():
        yield first
        raise RuntimeError("the staged articles could not be read")

    received = []
    with pytest.raises(RuntimeError, match="could not be read"):
        for outcomes in load_batches(conn, batches(), run_id=run):
            received.append(outcomes_of(outcomes))
    conn.rollback()
    assert received == [["new"] * 4]
    assert scalar(conn, "SELECT count(*) FROM articles") == 4
    assert scalar(conn, "SELECT count(*) FROM run_urls WHERE run_id = %s", (run,)) == 4


def test_ensure_source_creates_and_refreshes_the_sources_row(conn):
    ensure_source(conn, "tengrinews", "Tengrinews.kz", "https://tengrinews.kz/")  # configured: its zone
    ensure_source(conn, "seeded", "Сайт", "https://seeded.example/")  # not configured: the default
    ensure_source(conn, "zoned", "Сайт", "https://zoned.example/", timezone="Asia/Almaty")
    ensure_source(conn, "zoned", "Новое имя", "https://zoned.example/new/")  # keeps its zone
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("SELECT source_key, name, base_url, timezone FROM sources ORDER BY source_key")
        rows = cur.fetchall()
    assert rows == [("seeded", "Сайт", "https://seeded.example/", "UTC"),
                    ("tengrinews", "Tengrinews.kz", "https://tengrinews.kz/", "Asia/Almaty"),
                    ("zoned", "Новое имя", "https://zoned.example/new/", "Asia/Almaty")]


def test_validate_article_names_the_first_problem():
    good = synthetic_article(1)
    assert validate_article(good) is None
    assert validate_article(Article(**{**good.__dict__, "author": "Ав\udc8fтор"})).reason == "invalid_utf8"
    assert validate_article(Article(**{**good.__dict__, "url": ""})).reason == "no_url"
    assert validate_article(Article(**{**good.__dict__, "body": " " * 500 + "коротко"})).reason == \
        "body_too_short"
    naive = Article(**{**good.__dict__, "published_at": datetime(2024, 3, 1)})
    assert validate_article(naive).reason == "bad_date"
    later = datetime.now(UTC) + timedelta(hours=2)
    assert validate_article(Article(**{**good.__dict__, "published_at": later})) is None
    within_an_hour = LoadSettings(future_tolerance=timedelta(hours=1))
    assert validate_article(Article(**{**good.__dict__, "published_at": later}),
                            settings=within_an_hour).reason == "future_date"
