"""Fixture texts for the loader and dedup tests: short hand-written Russian news texts,
and synthetic Russian-like text for volume (``synthetic_article``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from news_etl.record import Article

_SYLLABLES = ("ка", "за", "ни", "то", "ро", "ва", "ли", "мо", "пе", "ст", "ра", "ко", "на", "де", "ми",
              "бо", "ле", "ту", "жи", "ше", "го", "ры", "ча", "вы", "ям", "ор", "ин", "ем", "ус", "аль")
_ENDINGS = ("", "а", "ы", "ов", "ами", "ой", "ий", "ая", "ое", "ого", "ому", "ет", "ют", "ил", "ила")


def _vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words = set()
    while len(words) < size:
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4)))
        words.add(stem + rng.choice(_ENDINGS))
    return sorted(words)


_VOCAB = _vocabulary(random.Random(7))


def russian_text(rng: random.Random, chars: int = 3000) -> str:
    """Russian-looking prose (Cyrillic words, sentences, «quotes», dashes), about ``chars`` long."""
    paragraphs, size = [], 0
    while size < chars:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = [rng.choice(_VOCAB) for _ in range(rng.randint(6, 16))]
            if rng.random() < 0.2:
                words.insert(rng.randint(1, len(words) - 1), "—")
            if rng.random() < 0.15:
                k = rng.randint(0, len(words) - 2)
                words[k] = "«" + words[k]
                words[k + 1] = words[k + 1] + "»"
            sentences.append(" ".join(words).capitalize() + rng.choice(".....!?"))
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph) + 1
    return "\n".join(paragraphs)


def synthetic_article(n: int, *, rng: random.Random | None = None, chars: int = 3000,
                      source_key: str = "synth", with_id: bool = True) -> Article:
    rng = rng or random.Random(n)
    return Article(
        title=russian_text(rng, 40).split(".")[0][:90] + f" {n}",
        published_at=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(minutes=n),
        author="",
        source_name="Синтетика",
        url=f"https://synth.example/news/{n}/",
        body=russian_text(rng, chars),
        source_key=source_key,
        source_article_id=str(n) if with_id else None,
        fetched_at=datetime(2024, 3, 2, tzinfo=UTC),
        extraction={"title": "json-ld", "body": "selectors"},
    )


def article(url: str, title: str, body: str, *, sid: str | None = None, source: str = "tengri",
            published: datetime | None = None) -> Article:
    return Article(title=title, published_at=published or datetime(2024, 4, 2, 6, 30, tzinfo=UTC),
                   author="Айгерим Сапарова", source_name="Tengrinews.kz", url=url, body=body,
                   source_key=source, source_article_id=sid)


PARK = (
    "Акимат Алматы объявил о начале весенней посадки деревьев в парках и скверах города.\n"
    "В этом году коммунальные службы планируют высадить более двенадцати тысяч саженцев клёна, "
    "липы и карагача. Основные работы пройдут в Ауэзовском и Наурызбайском районах.\n"
    "Жителей приглашают присоединиться к субботникам, которые начнутся в ближайшую субботу "
    "в десять часов утра. Инвентарь и перчатки выдадут на месте, сообщили в пресс-службе акимата.\n"
    "Ранее в управлении зелёной экономики рассказали, что за прошлый год в городе погибло около "
    "трёх тысяч деревьев из-за засухи и неправильного полива."
)
# A full-length story: one changed sentence in it is a small edit (Jaccard above 0.9).
PARK_FULL = PARK + (
    "\nПо словам руководителя управления, саженцы закупили в питомниках Алматинской области, "
    "а возраст каждого дерева составляет не менее пяти лет, поэтому они лучше переносят пересадку.\n"
    "Для новых деревьев проложат капельный полив: трубы уже смонтированы вдоль проспекта Абая, "
    "улицы Толе би и в сквере у Дворца Республики. Подрядчик обязан ухаживать за посадками два года "
    "и заменить за свой счёт те деревья, которые не приживутся.\n"
    "Экологи напоминают, что одно взрослое дерево за летний сезон задерживает до ста килограммов пыли "
    "и заметно снижает температуру воздуха на соседних улицах. Особенно важно озеленение для "
    "микрорайонов на окраинах, где деревьев почти нет, а застройка продолжает расти.\n"
    "В акимате добавили, что карту мест посадки опубликуют на официальном сайте города, а каждый "
    "желающий сможет предложить свой двор для озеленения через мобильное приложение.\n"
    "Осенью посадки продолжатся: до конца года в городе планируют высадить ещё около пяти тысяч "
    "деревьев и двадцать тысяч кустарников, в том числе вдоль реки Есентай и на Восточной объездной "
    "дороге, где сейчас идёт реконструкция."
)
