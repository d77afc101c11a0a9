"""Loader benchmark: new articles, unchanged rerun, near-duplicates, memory.

Creates its own database (``news_etl_bench_load_<random>``) on the server of
NEWS_ETL_DATABASE_URL (or the embedded PostgreSQL), migrates it, and drops it
at the end. Every measured path is the project's loader (``load_batches`` as
the pipeline calls it, or ``load_articles`` for one batch) in batches of
``settings.LOAD_BATCH_SIZE``. Every floor is a ratio to a baseline measured
in the same run, because the machine is shared.

1. new articles: 100,000 synthetic Russian articles (3,000-character bodies),
   near-duplicate checks off (measured in 3), in a fresh process;
   baseline: one INSERT per row into a copy of ``articles`` (same columns and
   indexes, PostgreSQL's default body storage), measured before and after the
   loader and averaged. Each loader phase runs three times; the median counts.
2. unchanged rerun: the same 100,000 again; same baseline.
3. near-duplicates: 1,000,000 stored articles (skeleton rows with random LSH
   bands, plus real originals stored by the loader), then planted reprints
   (Jaccard >= 0.9), near misses (< 0.8) and fresh articles. Recall of the
   planted ones, links below 0.8, and cost per article (load with checks -
   load without) against a plain datasketch MinHash of the same bodies.
4. memory: peak RSS of the process that loads 100,000 articles against the
   one that loads 10,000 (batches are generated lazily).

Prints each figure with PASS/FAIL and exits 1 when a floor is missed.

    .venv/bin/python bench/load_bench.py [--quick] [--articles N] [--stored N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg2.errors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from datasketch import MinHash  # noqa: E402
from news_etl import db, dedup, ledger  # noqa: E402
from news_etl.load import LoadSettings, ensure_source, load_articles, load_batches  # noqa: E402
from news_etl.record import Article  # noqa: E402
from news_etl.settings import LOAD_BATCH_SIZE  # noqa: E402

BODY_CHARS = 3000
_EPOCH = datetime(2022, 1, 1, tzinfo=UTC)
POOL = 997  # generated texts the measures of new articles and reruns are made from
NO_NEAR = LoadSettings(near_duplicates=False)
# Floors, each a ratio to a baseline measured in the same run.
NEW_FLOOR = 2.0      # new articles/s >= 2x one INSERT per row
RERUN_FLOOR = 10.0   # unchanged rerun articles/s >= 10x one INSERT per row
RECALL_FLOOR = 0.99  # planted near-duplicates (Jaccard >= 0.9) linked to their original
# Near-duplicate checks may cost at most this many times a plain datasketch MinHash of the
# same body: the project's goal of 1 ms per article where datasketch takes 0.55 ms.
NEAR_COST_CEILING = 1 / 0.55
MEMORY_CEILING = 1.10  # peak RSS loading 100,000 articles <= 1.10x loading 10,000

# --------------------------------------------------------------------------- synthetic Russian news

# News vocabulary in several grammatical forms; the first words are the most
# frequent (the generator draws them with Zipf-like weights, as in real text).
_NEWS_WORDS = """
и в на по с не что о за из для как к это также года году его по словам при после до все
ещё уже более около тысяч миллионов процентов человек время области города республики страны
сообщает сообщили заявил заявила отметил отметила рассказал рассказали подчеркнул уточнили
пресс-служба пресс-службе министерства министерство акимата аким акимат правительство правительства
президент президента депутаты депутатов мажилиса сената комитета комиссии управления ведомства
полиции полицейские суд суда прокуратуры прокуратура граждан жителей жители населения региона
Казахстана Казахстане Алматы Астаны Астане Шымкента Караганды Актобе Атырау Павлодара Костаная
Семея Тараза Уральска Кызылорды Туркестана Петропавловска Кокшетау Талдыкоргана Экибастуза
дорога дороги дорог строительство строительства ремонт ремонта школы школ больницы больниц
детей дети родителей учителей врачей пациентов студентов водителей пассажиров работников
компании компаний предприятия предприятий бизнеса инвесторов банка банков рынка цены цен тенге
доллара нефти газа угля зерна пшеницы урожая экспорта импорта бюджета налогов тарифов услуг
проекта проекты программы программа закона законопроекта поправки решения решение вопрос вопросы
мероприятия встречи встречу совещания заседании форума переговоров соглашения договора визита
новый новые новых крупный крупных местных местные государственной государственных областного
городского районного национального международного первый второй третий последний ближайшие
важно необходимо планируется планируют начались завершились продолжаются прошли пройдут состоится
будет будут было были стало может могут должны должен нужно можно выросли снизились увеличилось
сократилось составил составила составило превысил достигла открыли открылся запустили построили
выделили направили получили получат провели проведут задержали возбуждено расследование
произошло произошёл пострадали погибли госпитализированы эвакуировали спасатели пожарные
погода погоды снег дождь ветер мороз жара температура градусов синоптики прогноз предупреждение
матч матча команда команды сборная сборной чемпионата турнира победу победил счётом игроков
тренер болельщиков стадионе сезона очков медаль золото серебро бронзу спортсмены спортсменов
фильм фестиваль выставка концерт театра музея книги автор авторов культуры искусства истории
интернет приложение сервис платформы данных цифровых технологий системы сети связи мобильной
января февраля марта апреля мая июня июля августа сентября октября ноября декабря
понедельник вторник среду четверг пятницу субботу воскресенье утром днём вечером ночью
сегодня вчера завтра ранее позже сейчас теперь впервые снова вновь только лишь даже именно
"""
_WORDS = _NEWS_WORDS.split()
_PLACES = ("Алматы", "Астане", "Шымкенте", "Караганде", "Актобе", "Атырау", "Павлодаре", "Костанае",
           "Семее", "Таразе", "Уральске", "Кызылорде", "Туркестане", "Петропавловске", "Кокшетау")
_NAMES = ("Асель Нурланова", "Ерлан Касымов", "Дина Омарова", "Тимур Жумабаев", "Айгуль Сейткали",
          "Марат Ахметов", "Жанна Бекова", "Руслан Исмаилов", "Сауле Абенова", "Бауыржан Токаев")


class Generator:
    """Synthetic Russian news articles, the same for the same (seed, number)."""

    def __init__(self, seed: int = 2024) -> None:
        numbers = [str(n) for n in range(1, 400)]
        self.vocab = np.array(_WORDS + numbers, dtype=object)
        weights = np.concatenate([1.0 / np.arange(1, len(_WORDS) + 1) ** 0.7, np.full(len(numbers), 0.002)])
        cdf = np.cumsum(weights) / weights.sum()
        # Drawing from a table of 2**16 words is much faster than weighted sampling.
        self.table = self.vocab[np.searchsorted(cdf, (np.arange(1 << 16) + 0.5) / (1 << 16))]
        self.seed = seed

    def words(self, rng: np.random.Generator, count: int) -> list[str]:
        return self.table[rng.integers(0, len(self.table), size=count)].tolist()

    def text(self, rng: np.random.Generator, chars: int) -> str:
        """Paragraphs of sentences of 6-18 words (capitals, commas, «quotes», dashes), ``chars`` long."""
        words = self.words(rng, chars // 5)
        count = len(words)
        for at in rng.integers(1, count - 1, size=count // 20).tolist():
            words[at] += ","
        for at in rng.integers(1, count - 2, size=count // 80).tolist():
            words[at] = f"«{words[at]}"
            words[at + 1] = f"{words[at + 1]}»"
        for at in rng.integers(1, count, size=count // 60).tolist():
            words[at] = f"— {words[at]}"
        ends = np.cumsum(rng.integers(6, 19, size=count // 6 + 1))
        for n, end in enumerate(ends[ends < count].tolist()):
            # "\x01" marks a paragraph end, every fourth sentence.
            words[end - 1] = words[end - 1].rstrip(",") + (".\x01" if n % 4 == 3 else ".")
            words[end] = words[end].capitalize()
        text = " ".join(words).replace("\x01 ", "\n")[:chars].rstrip(",«—\x01 ")
        return text[0].upper() + text[1:] + "."

    def article(self, n: int, *, source_key: str = "bench", chars: int = BODY_CHARS) -> Article:
        rng = np.random.default_rng([self.seed, n])
        place = _PLACES[n % len(_PLACES)]
        body = f"В {place} {self.text(rng, chars - len(place) - 3)}"
        title = " ".join(self.words(rng, 8))
        return Article(
            title=f"{title[0].upper()}{title[1:]} в {place}",
            published_at=datetime(2022, 1, 1, tzinfo=UTC) + timedelta(minutes=n % 1_000_000),
            author=_NAMES[n % len(_NAMES)] if n % 4 else "",
            source_name="Бенчмарк",
            url=f"https://bench.example/news/{n}/",
            body=body,
            source_key=source_key,
            source_article_id=str(n),
            fetched_at=datetime(2024, 6, 1, tzinfo=UTC),
            extraction={"title": "json-ld", "body": "selectors"},
        )

    def batches(self, start: int, count: int, size: int = LOAD_BATCH_SIZE) -> Iterator[list[Article]]:
        """Articles start..start+count-1, generated one batch at a time (memory stays flat)."""
        for first in range(start, start + count, size):
            yield [self.article(n) for n in range(first, min(first + size, start + count))]

    def pooled(self, n: int) -> Article:
        """Article ``n`` made from one of ``POOL`` generated articles, its number written into its text.

        Every text is still distinct (own content hash, own identity), but making
        one costs a string copy instead of :meth:`article`'s ~120 us.
        """
        if not hasattr(self, "_pool"):
            self._pool = [self.article(k) for k in range(POOL)]
        model = self._pool[n % POOL]
        # The number replaces as many characters, so every body has the same length.
        tag = f" Материал {n}."
        return Article(
            title=f"{model.title} ({n})", published_at=_EPOCH + timedelta(minutes=n % 1_000_000),
            author=model.author, source_name=model.source_name, url=f"https://bench.example/news/{n}/",
            body=model.body[:-len(tag)] + tag, source_key=model.source_key, source_article_id=str(n),
            fetched_at=model.fetched_at, extraction=dict(model.extraction))

    def pooled_batches(self, start: int, count: int, size: int = LOAD_BATCH_SIZE) -> Iterator[list[Article]]:
        """:meth:`batches` of :meth:`pooled` articles."""
        for first in range(start, start + count, size):
            yield [self.pooled(n) for n in range(first, min(first + size, start + count))]


def edited(article: Article, rng: np.random.Generator, changes: int, vocab: np.ndarray, *,
           url: str, source_key: str) -> Article:
    """A reprint of ``article`` on another site with ``changes`` words replaced by others."""
    words = article.body.split(" ")
    for at in rng.choice(len(words), size=min(changes, len(words)), replace=False).tolist():
        replacement = words[at]
        while replacement == words[at]:
            replacement = str(vocab[rng.integers(len(vocab))])
        words[at] = replacement
    return Article(title=f"Перепечатка: {article.title}", published_at=article.published_at, author="",
                   source_name="Перепечатки", url=url, body=" ".join(words), source_key=source_key,
                   source_article_id=None, fetched_at=article.fetched_at, extraction={"body": "generic"})


# --------------------------------------------------------------------------- results

@dataclass
class Result:
    measure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: str = ""
    passed: bool | None = None  # None: information only

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def print_table(results: list[Result]) -> None:
    header = f"{'measure':<42} {'value':>12} {'baseline':>12} {'ratio':>8}  {'floor':<9} verdict"
    print(header)
    print("-" * len(header))
    for r in results:
        baseline = f"{r.baseline:12,.2f}" if r.baseline is not None else f"{'-':>12}"
        ratio = f"{r.ratio:7.2f}x" if r.ratio is not None else f"{'-':>8}"
        verdict = "info" if r.passed is None else "PASS" if r.passed else "FAIL"
        print(f"{r.measure:<42} {r.value:12,.2f} {baseline} {ratio}  {r.goal:<9} {verdict}")
        print(f"    {r.unit}" + (f"; baseline: {r.baseline_name}" if r.baseline_name else ""))


# --------------------------------------------------------------------------- database

def prepare(conn) -> None:
    """Sources of the bench; the run ledger needs them."""
    for key, name in (("bench", "Бенчмарк"), ("reprints", "Перепечатки"), ("archive", "Архив")):
        ensure_source(conn, key, name, f"https://{key}.example/", timezone="Asia/Almaty")
    conn.commit()


def checkpoint(conn) -> None:
    """Start a measure with no dirty pages of the previous one left to write (CHECKPOINT needs
    superuser or pg_checkpoint; without it the measure starts as it is)."""
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CHECKPOINT")
    except psycopg2.errors.InsufficientPrivilege:
        pass
    finally:
        conn.autocommit = False


def empty_tables(conn) -> None:
    """Forget every loaded article (between measures that need an empty store)."""
    with conn.cursor() as cur:
        cur.execute("TRUNCATE articles, article_urls, article_fingerprints, minhash_bands, duplicates,"
                    " article_revisions, run_urls, rejects, ingest_runs CASCADE")
    conn.commit()


# --------------------------------------------------------------------------- baseline: INSERT per row

_COLUMNS = ("source_key", "source_article_id", "canonical_url", "title", "published_at", "author", "body",
            "content_hash", "extraction", "fetched_at")


def insert_baseline(conn, gen: Generator, count: int) -> float:
    """Rows per second of one INSERT per row into a copy of ``articles``, a commit per batch.

    The copy has the columns, checks and indexes of ``articles`` and PostgreSQL's
    default body storage, as the baseline was first defined (issue 4); the
    storage of ``articles`` itself is the loader's choice.

    Content hashes are computed outside the timing: the baseline is the database work alone.
    """
    sql = f"INSERT INTO bench_insert ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
    elapsed = 0.0
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_insert")
        cur.execute("CREATE TABLE bench_insert (LIKE articles INCLUDING ALL)")
        cur.execute("ALTER TABLE bench_insert ALTER COLUMN body SET STORAGE EXTENDED,"
                    " ALTER COLUMN body SET COMPRESSION DEFAULT")
        conn.commit()
        for batch in gen.pooled_batches(0, count):
            rows = [(a.source_key, a.source_article_id, a.url, a.title, a.published_at, a.author, a.body,
                     dedup.content_hash(a.title, a.body), json.dumps(a.extraction), a.fetched_at)
                    for a in batch]
            started = time.perf_counter()
            for row in rows:
                cur.execute(sql, row)
            conn.commit()
            elapsed += time.perf_counter() - started
        cur.execute("DROP TABLE bench_insert")
        conn.commit()
    return count / elapsed


# ------------------------------------------------------------------- 1, 2, 4: the loader, in a fresh process

def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(batches: Iterator[list[Article]], spent: list[float]) -> Iterator[list[Article]]:
    """``batches``, the seconds spent making them added to ``spent[0]``."""
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        spent[0] += time.perf_counter() - started
        if batch is None:
            return
        yield batch


PASSES = 3  # each loader phase is measured this many times and the median counts (a shared machine)


def child_load(url: str, count: int) -> dict:
    """In a fresh process: load ``count`` new articles (``PASSES`` times, the tables emptied
    between), then the same again unchanged (``PASSES`` times); times and peak RSS.

    The time spent generating articles is left out of the loader's.
    """
    gen = Generator()
    conn = db.connect(url)
    report: dict = {"count": count, "as_expected": True, "new": [], "rerun": []}
    for phase in ["new"] * PASSES + ["rerun"] * PASSES:
        if phase == "new":
            empty_tables(conn)
            prepare(conn)
        checkpoint(conn)
        run_id = ledger.start_run(conn, source_key="bench", kind="cli")
        conn.commit()
        outcomes: dict[str, int] = {}
        generating = [0.0]
        started = time.perf_counter()
        for result in load_batches(conn, timed(gen.pooled_batches(0, count), generating), run_id=run_id,
                                   settings=NO_NEAR):
            for _url, outcome, _id in result:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        report[phase].append(time.perf_counter() - started - generating[0])
        ledger.finish_run(conn, run_id)
        conn.commit()
        report["as_expected"] &= outcomes == {"new" if phase == "new" else "unchanged": count}
    report["peak_rss_kb"] = peak_rss_kb()
    conn.close()
    return report


def run_child(url: str, count: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child-load", url, str(count)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the loading process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- 3. near-duplicates

def build_store(conn, stored: int) -> float:
    """``stored`` skeleton articles with random LSH bands, written in SQL; returns seconds.

    Their bands are uniformly random 64-bit values: what the bands of texts
    unrelated to the queries look like. The two indexes of minhash_bands are
    dropped during the fill and rebuilt from their own definitions (a sorted
    build instead of 20 random insertions per article).
    """
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid),"
                    " (SELECT conname FROM pg_constraint WHERE conindid = indexrelid),"
                    " (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conindid = indexrelid)"
                    " FROM pg_index WHERE indrelid = 'minhash_bands'::regclass")
        indexes = cur.fetchall()
        for index, _definition, constraint, _condef in indexes:
            if constraint:
                cur.execute(f"ALTER TABLE minhash_bands DROP CONSTRAINT {constraint}")
            else:
                cur.execute(f"DROP INDEX {index}")
        cur.execute(
            "INSERT INTO articles (source_key, source_article_id, canonical_url, title, published_at, body,"
            " content_hash) SELECT 'archive', i::text, 'https://archive.example/' || i || '/',"
            " 'Архивная новость ' || i, timestamptz '2015-01-01' + i * interval '5 minutes',"
            " 'Архивная заметка номер ' || i || '.', md5(i::text) FROM generate_series(1, %s) i", (stored,))
        cur.execute("INSERT INTO minhash_bands (band_hash, article_id)"
                    " SELECT hashint8extended(article_id, band), article_id"
                    f" FROM articles, generate_series(1, {dedup.BANDS}) band"
                    " WHERE source_key = 'archive'")
        for _index, definition, constraint, condef in indexes:
            if constraint:
                cur.execute(f"ALTER TABLE minhash_bands ADD CONSTRAINT {constraint} {condef}")
            else:
                cur.execute(definition)
    conn.commit()
    old_autocommit = conn.autocommit
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE articles, minhash_bands")
    conn.autocommit = old_autocommit
    return time.perf_counter() - started


@dataclass
class Query:
    article: Article
    kind: str                       # near (planted, changes 1-7), miss (changes 20-60), fresh
    original: int | None = None     # index of the original it was made from
    jaccard: float = 0.0            # true Jaccard with that original


def near_duplicates(conn, gen: Generator, *, originals: int, near: int, misses: int, fresh: int
                    ) -> tuple[list[Result], dict]:
    """Store real originals, then load planted reprints with and without near-duplicate checks."""
    first_id = 50_000_000  # far from the ids of other measures
    stored_ids: dict[int, int] = {}   # original index -> article_id
    run_id = ledger.start_run(conn, source_key="bench", kind="cli")
    conn.commit()
    for batch in gen.batches(first_id, originals):
        for n, (_url, outcome, article_id) in enumerate(load_articles(conn, batch, run_id=run_id)):
            assert outcome == "new", outcome
            stored_ids[int(batch[n].source_article_id) - first_id] = article_id
    ledger.finish_run(conn, run_id)
    conn.commit()

    rng = np.random.default_rng(99)
    queries: list[Query] = []
    picks = rng.choice(originals, size=near + misses, replace=near + misses > originals).tolist()
    for k, original in enumerate(picks):
        source = gen.article(first_id + original)
        kind = "near" if k < near else "miss"
        changes = int(rng.integers(1, 8)) if kind == "near" else int(rng.integers(20, 61))
        copy = edited(source, rng, changes, gen.vocab, url=f"https://reprints.example/{k}/",
                      source_key="reprints")
        truth = dedup.jaccard(dedup.shingles(source.body), dedup.shingles(copy.body))
        queries.append(Query(copy, kind, original, truth))
    for k in range(fresh):
        queries.append(Query(gen.article(first_id + originals + k), "fresh"))
    order = rng.permutation(len(queries)).tolist()
    queries = [queries[i] for i in order]
    used = {q.original for q in queries if q.original is not None}
    bodies = {i: gen.article(first_id + i).body for i in used}

    # The same batches with and without near-duplicate checks, each twice (best kept), rolled back.
    with_near = without = 0.0
    links: dict[str, tuple[int, float]] = {}  # url -> (original article_id, similarity)
    for first in range(0, len(queries), LOAD_BATCH_SIZE):
        batch = [q.article for q in queries[first:first + LOAD_BATCH_SIZE]]
        times = {True: [], False: []}
        for near_on in (False, True, False, True):
            run_id = ledger.start_run(conn, source_key="reprints", kind="cli")
            conn.commit()
            started = time.perf_counter()
            load_articles(conn, batch, run_id=run_id, commit=False,
                          settings=LoadSettings() if near_on else NO_NEAR)
            times[near_on].append(time.perf_counter() - started)
            if near_on:
                with conn.cursor() as cur:
                    cur.execute("SELECT url, original_article_id, similarity FROM duplicates"
                                " WHERE run_id = %s AND kind = 'near'", (run_id,))
                    links.update({url: (original, sim) for url, original, sim in cur.fetchall()})
            conn.rollback()
        with_near += min(times[True])
        without += min(times[False])

    # Datasketch's plain MinHash of the same bodies (3-word shingles as strings): the baseline.
    sample = [q.article.body for q in queries[:1000]]
    started = time.perf_counter()
    for body in sample:
        tokens = dedup.words(body)
        minhash = MinHash(num_perm=dedup.NUM_PERM)
        minhash.update_batch([b" ".join(tokens[i:i + 3]) for i in range(max(1, len(tokens) - 2))])
    datasketch_ms = (time.perf_counter() - started) * 1000 / len(sample)

    article_of = {v: k for k, v in stored_ids.items()}
    planted = [q for q in queries if q.original is not None and q.jaccard >= 0.9]
    found = sum(1 for q in planted if links.get(q.article.url, (None,))[0] == stored_ids[q.original])
    below = 0
    by_url = {q.article.url: q for q in queries}
    for url, (original_id, _sim) in links.items():
        original = article_of.get(original_id)
        truth = 0.0 if original is None else dedup.jaccard(dedup.shingles(by_url[url].article.body),
                                                           dedup.shingles(bodies.get(original) or ""))
        below += truth < 0.8
    recall = found / len(planted) if planted else 1.0
    per_article_ms = (with_near - without) * 1000 / len(queries)
    counts = {kind: sum(q.kind == kind for q in queries) for kind in ("near", "miss", "fresh")}
    facts = {"queries": len(queries), "planted_ge_0.9": len(planted), "found": found, "links": len(links),
             "links_below_0.8": below, "gray_zone": sum(1 for q in queries if 0.8 <= q.jaccard < 0.9),
             "total_ms_with_near": with_near * 1000 / len(queries),
             "total_ms_without": without * 1000 / len(queries), **counts}
    results = [
        Result("near-dup recall, planted Jaccard >= 0.9", recall * 100,
               f"% of {len(planted):,} planted copies linked to their original",
               goal=f">= {RECALL_FLOOR:.0%}", passed=recall >= RECALL_FLOOR),
        Result("near-dup links with Jaccard < 0.8", below, f"links of {len(links):,} made", goal="0",
               passed=below == 0),
        Result("near-dup cost per article", per_article_ms,
               "ms/article (load with checks - load without), round trips included",
               datasketch_ms, "datasketch MinHash alone, same bodies (ms/article)",
               f"<= {NEAR_COST_CEILING:.2f}x", per_article_ms <= datasketch_ms * NEAR_COST_CEILING),
    ]
    return results, facts


# --------------------------------------------------------------------------- main

def run(conn, url: str, args: argparse.Namespace) -> list[Result]:
    gen = Generator()
    count, small = args.articles, max(2 * LOAD_BATCH_SIZE, args.articles // 10)
    print(f"{count:,} articles of {BODY_CHARS:,} characters, batches of {LOAD_BATCH_SIZE:,}; "
          f"near-duplicates against {args.stored:,} stored articles", flush=True)

    step = time.perf_counter()
    checkpoint(conn)
    before = insert_baseline(conn, gen, count)
    big = run_child(url, count)
    empty_tables(conn)
    prepare(conn)
    checkpoint(conn)
    after = insert_baseline(conn, gen, count)
    baseline = (before + after) / 2
    print(f"  INSERT per row {before:,.0f} and {after:,.0f} rows/s; loader, {count:,} new + rerun "
          f"({time.perf_counter() - step:.0f} s)", flush=True)
    little = run_child(url, small)
    empty_tables(conn)
    prepare(conn)

    insert_name = "one INSERT per row, mean of before and after the loader (rows/s)"
    if not big["as_expected"]:
        print("  UNEXPECTED OUTCOMES: not every article new, then unchanged")
    rates = {phase: sorted(count / seconds for seconds in big[phase]) for phase in ("new", "rerun")}
    new_rate, rerun_rate = (rates[phase][len(rates[phase]) // 2] for phase in ("new", "rerun"))

    def passes(phase: str) -> str:
        return f"articles/s, median of {PASSES} passes ({', '.join(f'{r:,.0f}' for r in rates[phase])})"

    results = [
        Result("new articles", new_rate, passes("new"), baseline, insert_name, f">= {NEW_FLOOR:.0f}x",
               new_rate >= NEW_FLOOR * baseline and big["as_expected"]),
        Result("unchanged rerun", rerun_rate, passes("rerun"), baseline, insert_name,
               f">= {RERUN_FLOOR:.0f}x",
               rerun_rate >= RERUN_FLOOR * baseline and big["as_expected"]),
        Result(f"peak RSS, {count:,} articles", big["peak_rss_kb"] / 1024, "MB",
               little["peak_rss_kb"] / 1024, f"peak RSS with {small:,} articles (MB)",
               f"<= {MEMORY_CEILING:.2f}x", big["peak_rss_kb"] <= MEMORY_CEILING * little["peak_rss_kb"]),
    ]

    step = time.perf_counter()
    originals = max(LOAD_BATCH_SIZE // 2, args.stored // 500)
    build_store(conn, args.stored - originals)
    near_results, facts = near_duplicates(conn, gen, originals=originals, near=max(300, originals // 2),
                                          misses=max(150, originals // 4), fresh=max(450, originals * 3 // 4))
    print(f"  near-duplicates ({time.perf_counter() - step:.0f} s): {json.dumps(facts)}", flush=True)
    return results + near_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 articles, a 50,000-article store")
    parser.add_argument("--articles", type=int, help="new articles to load (default 100,000)")
    parser.add_argument("--stored", type=int, help="stored articles for near-duplicates (default 1,000,000)")
    parser.add_argument("--child-load", nargs=2, metavar=("URL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_load:
        print(json.dumps(child_load(args.child_load[0], int(args.child_load[1]))))
        return 0
    args.articles = args.articles or (10_000 if args.quick else 100_000)
    args.stored = args.stored or (50_000 if args.quick else 1_000_000)

    started = time.perf_counter()
    with db.scratch_database(db.database_url(), "news_etl_bench_load") as url:
        conn = db.connect(url)
        try:
            db.migrate(conn)
            prepare(conn)
            results = run(conn, url, args)
        finally:
            conn.close()
    print()
    print_table(results)
    missed = [r.measure for r in results if r.passed is False]
    print(f"\n{'FAIL: ' + ', '.join(missed) if missed else 'PASS: every floor holds'}"
          f" ({time.perf_counter() - started:.0f} s)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
