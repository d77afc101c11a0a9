"""The article record: the one shape every stage after parsing hands on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Article:
    """One news article in the seed-file schema, plus where it came from.

    ``published_at`` is always timezone-aware UTC. ``author`` is ``""`` when the
    page names nobody. ``url`` is the canonical URL of the article.
    """

    title: str
    published_at: datetime
    author: str
    source_name: str
    url: str
    body: str
    # Provenance: not part of the seed file.
    source_key: str = ""
    source_article_id: str | None = None
    fetched_at: datetime | None = None
    # Which layer gave each field, e.g. {"title": "json-ld", "body": "selectors"}.
    extraction: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-safe dict (dates as ISO-8601 strings)."""
        data = dict(self.__dict__)
        data["published_at"] = self.published_at.isoformat()
        data["fetched_at"] = self.fetched_at.isoformat() if self.fetched_at else None
        data["extraction"] = dict(self.extraction)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        values = dict(data)
        values["published_at"] = datetime.fromisoformat(values["published_at"])
        if values.get("fetched_at"):
            values["fetched_at"] = datetime.fromisoformat(values["fetched_at"])
        return cls(**values)
