"""The one date parser: text shown on a page → aware UTC datetime.

Text is parsed by ``dateparser`` (it knows Russian, Kazakh and English month
names and words like "Сегодня"/"Вчера"); the wall-clock result is then placed
in the source's zone with the standard library's tz database (``zoneinfo``),
never with a fixed offset, so that Asia/Almaty's move from UTC+6 to UTC+5 on
2024-03-01 is honoured. In the repeated hour 23:00–23:59 of 2024-02-29 the
first occurrence (UTC+6) is taken. A zone stated in the text ("-0600",
"GMT", "7:47 PM EST") is honoured, not replaced by the source's.

The formats news sites print most ("5 ноября 2019 13:15", "12 марта 2020,
14:05", "Сегодня 17:42", "Вчера, 14:05", "05.11.2019 13:15") are read by a
small exact pattern first: same results, without dateparser's cost per call
(about 1.4 ms, more than the rest of parsing a page). Anything else goes to
dateparser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


_RU_MONTHS = {name: n for n, name in enumerate(
    ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
     "ноября", "декабря"), 1)}
_RU_ABSOLUTE = re.compile(
    r"^(?P<day>\d{1,2})\s+(?P<month>[а-яё]+)\s+(?P<year>\d{4})(?:\s*(?:г\.|года))?"
    r"(?:\s*,?\s*(?:в\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?$", re.IGNORECASE)
_RU_RELATIVE = re.compile(
    r"^(?P<word>сегодня|вчера|позавчера)\s*,?\s*(?:в\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})$",
    re.IGNORECASE)
_NUMERIC = re.compile(
    r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?:\s*,?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?$")
_DAYS_BACK = {"сегодня": 0, "вчера": 1, "позавчера": 2}


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
    if not languages or "ru" in languages:
        local = _common_format(cleaned, base)
        if local is not None:
            return to_utc(local, tz)
    parsed = dateparser.parse(
        cleaned,
        languages=languages or ["ru"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "past",
            "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day", "month", "year"],
            # Left at its default, dateparser returns an aware time exactly when the
            # text states a zone ("-0600", "GMT", "EST"), naive otherwise.
        },
    )
    if parsed is None:
        raise DateParseError(f"unrecognised date {cleaned!r}")
    if parsed.tzinfo is None:
        return to_utc(parsed, tz)
    return _stated_zone(parsed, tz).astimezone(UTC)


def _stated_zone(parsed: datetime, tz: str) -> datetime:
    """The time in the zone its text stated, preferring the source's zone when the
    stated abbreviation is the one that zone uses then.

    Abbreviations are ambiguous (dateparser reads "IST" as Israel's, while an
    Indian or Irish site means its own); a site writing its own zone's
    abbreviation means its own zone. Numeric offsets are kept as written.
    """
    own = parsed.replace(tzinfo=None).replace(tzinfo=ZoneInfo(tz))
    stated = parsed.tzname()
    if stated and stated[0].isalpha() and not stated.startswith("UTC") and own.tzname() == stated:
        return own
    return parsed


def _common_format(text: str, base: datetime) -> datetime | None:
    """Local wall-clock time of the formats above, None when ``text`` is not one of them."""
    try:
        if match := _RU_RELATIVE.match(text):
            day = base - timedelta(days=_DAYS_BACK[match["word"].lower()])
            return datetime(day.year, day.month, day.day, int(match["hour"]), int(match["minute"]))
        if (match := _RU_ABSOLUTE.match(text)) and match["month"].lower() in _RU_MONTHS:
            month = _RU_MONTHS[match["month"].lower()]
        elif match := _NUMERIC.match(text):
            month = int(match["month"])
        else:
            return None
        return datetime(int(match["year"]), month, int(match["day"]),
                        int(match["hour"] or 0), int(match["minute"] or 0))
    except ValueError as exc:  # 31 февраля, 25:00
        raise DateParseError(f"impossible date {text!r}") from exc
