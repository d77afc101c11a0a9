"""The one date parser: text shown on a page → aware UTC datetime.

Text is parsed by ``dateparser`` (it knows Russian, Kazakh and English month
names and words like "Сегодня"/"Вчера"); the wall-clock result is then placed
in the source's zone with the standard library's tz database (``zoneinfo``),
never with a fixed offset, so that Asia/Almaty's move from UTC+6 to UTC+5 on
2024-03-01 is honoured. In the repeated hour 23:00–23:59 of 2024-02-29 the
first occurrence (UTC+6) is taken.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class DateParseError(ValueError):
    """The text is not a date we can place in time."""


def to_utc(local: datetime, tz: str) -> datetime:
    """Attach ``tz`` to a naive wall-clock time (or convert an aware one) and return UTC."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def parse_date(text: str, *, tz: str, languages: list[str] | None = None,
               now: datetime | None = None) -> datetime:
    """Parse ``text`` as shown by a source in zone ``tz``; return aware UTC.

    ``now`` (aware) anchors relative words such as "Сегодня 17:42" or
    "Вчера, 14:05": they are taken relative to ``now`` in the source's zone.
    ISO-8601 strings with an offset keep their offset.
    """
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise DateParseError("empty date")
    if _ISO.match(cleaned):
        try:
            parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DateParseError(f"bad ISO date {cleaned!r}") from exc
        return to_utc(parsed, tz)
    base = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    parsed = dateparser.parse(
        cleaned,
        languages=languages or ["ru"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "past",
            "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day", "month", "year"],
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if parsed is None:
        raise DateParseError(f"unrecognised date {cleaned!r}")
    if parsed.tzinfo is not None:  # the text carried its own offset
        return parsed.astimezone(UTC)
    return to_utc(parsed, tz)
