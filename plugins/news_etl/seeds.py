"""Seed files in and out of the database: ``news-etl seeds load`` / ``seeds export``.

Loaded seed files go through the same loader as crawled pages, so they take
part in deduplication: a file whose URL belongs to a configured source gets
that source's identity (Tengrinews article id 383322), and crawling the same
article later finds it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from news_etl import ledger
from news_etl.canonical import canonical_url
from news_etl.load import ensure_source, load_articles
from news_etl.record import Article
from news_etl.seedfile import SeedFormatError, read_seed_file, seed_file_name, write_seed_file
from news_etl.sources import source_for_url


@dataclass
class SeedLoadResult:
    run_id: int
    files: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)  # "file:line: reason"


def with_identity(article: Article) -> Article:
    """Give a seed article its source identity, as if it had been crawled."""
    source = source_for_url(article.url)
    if source is None:
        host = (urlsplit(article.url).hostname or "unknown").removeprefix("www.")
        return Article(**{**article.__dict__, "source_key": host, "url": canonical_url(article.url)})
    return Article(**{**article.__dict__, "source_key": source.key,
                      "url": canonical_url(article.url, source),
                      "source_article_id": source.article_id(article.url)})


def load_seed_dir(conn, directory: Path) -> SeedLoadResult:
    """Load every ``*.txt`` seed file of ``directory``; bad files are recorded, the rest load.

    The ledger keys a good file by its article URL (as a crawl would) and a bad
    file by its path.
    """
    paths = sorted(Path(directory).glob("*.txt"))
    run_id = ledger.start_run(conn, source_key=None, kind="seeds", params={"dir": str(directory)})
    result = SeedLoadResult(run_id=run_id, files=len(paths))
    counts: Counter[str] = Counter()
    articles: dict[str, Article] = {}
    for path in paths:
        try:
            article = with_identity(read_seed_file(path))
        except (SeedFormatError, ValueError) as exc:  # ValueError: a URL that is not absolute
            ledger.record_discovered(conn, run_id, [str(path)])
            ledger.record_outcome(conn, run_id, str(path), "rejected", stage="seeds",
                                  reason="bad_seed_file", detail=str(exc))
            result.rejected.append(str(exc))
            counts["rejected"] += 1
            continue
        if article.url in articles:  # the same URL twice in one folder: the first file wins
            ledger.record_discovered(conn, run_id, [str(path)])
            ledger.record_outcome(conn, run_id, str(path), "duplicate_exact", stage="seeds",
                                  reason="same_url_in_folder",
                                  detail=f"same URL as an earlier file: {article.url}")
            counts["duplicate_exact"] += 1
            continue
        articles[article.url] = article
    ledger.record_discovered(conn, run_id, list(articles))
    for article in articles.values():
        source = source_for_url(article.url)
        ensure_source(conn, article.source_key, article.source_name,
                      source.base_url if source else f"https://{urlsplit(article.url).hostname}")
    conn.commit()
    if articles:
        counts.update(outcome for _url, outcome, _id in
                      load_articles(conn, list(articles.values()), run_id=run_id))
    result.outcomes = dict(counts)
    ledger.finish_run(conn, run_id)
    conn.commit()
    return result


def export_seed_dir(conn, directory: Path, *, since: date | None = None,
                    source_key: str | None = None) -> list[Path]:
    """Write stored articles as seed files, oldest first; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    since_ts = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None
    written = []
    for index, article in enumerate(stored_articles(conn, since=since_ts, source_key=source_key)):
        path = directory / seed_file_name(index, article)
        write_seed_file(path, article)
        written.append(path)
    return written


def stored_articles(conn, *, since: datetime | None = None, source_key: str | None = None):
    """Stored articles as records, oldest first (streamed: a server-side cursor)."""
    with conn.cursor(name="seed_export") as cur:
        cur.execute(
            """
            SELECT a.title, a.published_at, a.author, s.name, a.canonical_url, a.body,
                   a.source_key, a.source_article_id, a.fetched_at
            FROM articles a JOIN sources s USING (source_key)
            WHERE (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s)
              AND (%(source)s::text IS NULL OR a.source_key = %(source)s OR s.name = %(source)s)
            ORDER BY a.published_at, a.article_id
            """,
            {"since": since, "source": source_key},
        )
        for row in cur:
            yield Article(title=row[0], published_at=row[1].astimezone(UTC), author=row[2],
                          source_name=row[3], url=row[4], body=row[5], source_key=row[6],
                          source_article_id=row[7], fetched_at=row[8])
