"""The loader: parsed articles into PostgreSQL, deduplicated, every URL accounted for in the run ledger.

One concern per module, around one batch record (:mod:`.batch`):

- :mod:`.validate`: which articles can be loaded (the rest are rejected with a reason);
- :mod:`.match`: which stored article each one is, by identity (source id, URLs);
- :mod:`.duplicates`: exact (content hash) and near (MinHash LSH) duplicates of new articles;
- :mod:`.write`: the sources row, new and changed articles, other URLs, duplicates;
- :mod:`.loader`: one batch per transaction, with the invariants it keeps;
- :mod:`.stage`: parsed articles kept between Airflow tasks.

The run ledger itself is ``news_etl.ledger``. Speed floors: bench/load_bench.py.
"""

from news_etl.load.batch import DEFAULT_SETTINGS, NEAR_POLICIES, LoadSettings, Outcome
from news_etl.load.loader import load_articles, load_batches
from news_etl.load.stage import clear_staged, stage_articles, staged_batches
from news_etl.load.validate import validate_article
from news_etl.load.write import ensure_source

__all__ = [
    "DEFAULT_SETTINGS",
    "NEAR_POLICIES",
    "LoadSettings",
    "Outcome",
    "clear_staged",
    "ensure_source",
    "load_articles",
    "load_batches",
    "stage_articles",
    "staged_batches",
    "validate_article",
]
