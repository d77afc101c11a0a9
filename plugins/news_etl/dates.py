"""The one date parser: text shown on a page → aware UTC datetime.

Text is parsed by ``dateparser`` (it knows Russian, Kazakh and English month
names and words like "Сегодня"/"Вчера"); the wall-clock result is then placed
in the source's zone with the standard library's tz database (``zoneinfo``),
never with a fixed offset, so that Asia/Almaty's move from UTC+6 to UTC+5 on
2024-03-01 is honoured. In the repeated hour 23:00–23:59 of 2024-02-29 the
first occurrence (UTC+6) is taken. A zone stated in the text ("-0600",
"GMT", "7:47 PM EST", Moscow time as "10:00 МСК") is honoured, not replaced
by the source's.

The formats news sites print most ("5 ноября 2019 13:15", "12 марта 2020,
14:05", "Сегодня 17:42", "Вчера, 14:05", "05.11.2019 13:15") are read by a
small exact pattern first: same results, without dateparser's cost per call
(about 1.4 ms, more than the rest of parsing a page). The pipe forms of listings
("27 марта 2024 | 20:10", "Сегодня | 19:40") and a bare "Сегодня"/"Вчера" (a day,
no time) are read there too. Anything else goes to dateparser.

A declared offset is evidence, not truth: ``read_page_date`` (what the parsers
call for a configured source) checks an ISO-8601 offset against the tz database
at that wall clock, and when they disagree the wall clock read in the source's
zone wins and the disagreement is returned for the extraction details. Sites
print constant offsets (Tengrinews: +06:00 in JSON-LD, +05:00 in meta, whatever
the date) while their zones move. ``parse_date`` itself keeps a stated offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dateparser

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


_RU_MONTHS = {name: n for n, name in enumerate(
    ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
     "ноября", "декабря"), 1)}
# Between the day and the time: spaces, a comma or a pipe ("27 марта 2024 | 20:10"), "в".
_TIME = r"(?:\s*[,|]?\s*(?:в\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2}))"
_RU_ABSOLUTE = re.compile(
    r"^(?P<day>\d{1,2})\s+(?P<month>[а-яё]+)\s+(?P<year>\d{4})(?:\s*(?:г\.|года))?" + _TIME + "?$",
    re.IGNORECASE)
_RU_RELATIVE = re.compile(r"^(?P<word>сегодня|вчера|позавчера)" + _TIME + "?$", re.IGNORECASE)
_NUMERIC = re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})" + _TIME + "?$")
_DAYS_BACK = {"сегодня": 0, "вчера": 1, "позавчера": 2}
# Russian sites that are not in Moscow's zone still often print Moscow time, marked so
# ("10:00 МСК", "10:00 (мск)", "10:00 по московскому времени"); dateparser knows none of these.
_MOSCOW_TIME = re.compile(r"\s*,?\s*(?:\(\s*мск\s*\)|мск|по\s+московскому\s+времени)$", re.IGNORECASE)


class DateParseError(ValueError):
    """The text is not a date we can place in time."""


def to_utc(local: datetime, tz: str) -> datetime:
    """Attach ``tz`` to a naive wall-clock time (or convert an aware one) and return UTC."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


@dataclass(frozen=True)
class PageDate:
    """A date as a page means it."""

    at: datetime  # aware, in the page's own offset (the source's zone, or an offset the text states)
    date_only: bool  # the text named a day and no time: ``at`` is that day's local midnight
    # Set when a declared offset disagreed with the tz database and the zone won:
    # "declared +06:00, Asia/Almaty +05:00"; None otherwise.
    offset_disagreement: str | None = None


def parse_date(text: str, *, tz: str, languages: list[str] | None = None,
               now: datetime | None = None) -> datetime:
    """Parse ``text`` as shown by a source in zone ``tz``; return aware UTC.

    ``now`` (aware) anchors relative words such as "Сегодня 17:42" or
    "Вчера, 14:05": they are taken relative to ``now`` in the source's zone.
    ISO-8601 strings with an offset keep their offset.
    """
    return _read(text, tz, languages, now)[0].astimezone(UTC)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def read_page_date(text: str, *, tz: str, languages: list[str] | None = None,
                   now: datetime | None = None, zone_wins: bool = True) -> PageDate:
    """``text`` as a source in zone ``tz`` means it; DateParseError if unreadable.

    With ``zone_wins`` (``tz`` is a configured source's zone, not a stand-in), an
    ISO-8601 offset other than UTC's must be the offset ``tz`` has at that wall clock
    (either one, in a repeated hour); otherwise the wall clock is read in ``tz``. UTC
    ("Z", "+00:00") is taken as written: it is how servers serialize an instant, not a
    local clock.
    """
    at, date_only = _read(text, tz, languages, now)
    declared = at.utcoffset()
    if not zone_wins or not isinstance(at.tzinfo, timezone) or not declared:
        return PageDate(at, date_only)
    zone = ZoneInfo(tz)
    wall = at.replace(tzinfo=None)
    expected = {zone.utcoffset(wall.replace(fold=0)), zone.utcoffset(wall.replace(fold=1))}
    if declared in expected:
        return PageDate(at, date_only)
    local = wall.replace(tzinfo=zone)
    return PageDate(local, date_only, f"declared {_offset(declared)}, {tz} {_offset(local.utcoffset())}")


def _read(text: str, tz: str, languages: list[str] | None, now: datetime | None) -> tuple[datetime, bool]:
    """(aware time in the page's own offset, whether the text is a day without a time)."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise DateParseError("empty date")
    if _ISO.match(cleaned):
        try:
            parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DateParseError(f"bad ISO date {cleaned!r}") from exc
        date_only = len(cleaned) == 10
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))), date_only
    russian = not languages or "ru" in languages
    if russian and (moscow := _MOSCOW_TIME.search(cleaned)) and moscow.start():
        cleaned, tz = cleaned[:moscow.start()], "Europe/Moscow"
    base = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz))
    if russian:
        common = _common_format(cleaned, base.replace(tzinfo=None))
        if common is not None:
            local, date_only = common
            return local.replace(tzinfo=ZoneInfo(tz)), date_only
    parsed = dateparser.parse(
        cleaned,
        languages=languages or ["ru"],
        settings={
            # Aware, so that "2 hours ago GMT" counts back from the same instant as "2 hours ago".
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
        return parsed.replace(tzinfo=ZoneInfo(tz)), False
    return _stated_zone(parsed, cleaned, tz), False


# Names that stand for a zone rather than one offset: dateparser gives them a
# fixed offset (ET is always -5 there, ALMT +6), which is wrong half of the year
# in the US and since 2024-03-01 in Kazakhstan.
_NAMED_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
                "PT": "America/Los_Angeles", "ALMT": "Asia/Almaty", "MSK": "Europe/Moscow"}


def _stated_zone(parsed: datetime, text: str, tz: str) -> datetime:
    """``parsed`` (aware, dateparser's) in the zone its text states.

    A zone abbreviation is honoured only as written in capitals ("met" in a
    sentence is not Middle European Time). Abbreviations are ambiguous
    (dateparser reads "IST" as Israel's, while an Indian or Irish site means
    its own): one that the source's zone uses at that time means the source's
    zone. Numeric offsets ("-0600", "GMT+3") are kept as written.
    """
    stated = parsed.tzname() or ""
    if not stated[:1].isalpha() or stated.startswith("UTC"):
        return parsed
    wall = parsed.replace(tzinfo=None)
    if not re.search(rf"(?<![A-Za-z]){re.escape(stated)}(?![A-Za-z])", text):
        return wall.replace(tzinfo=ZoneInfo(tz))
    if stated in _NAMED_ZONES:
        return wall.replace(tzinfo=ZoneInfo(_NAMED_ZONES[stated]))
    own = wall.replace(tzinfo=ZoneInfo(tz))
    return own if own.tzname() == stated else parsed


def _common_format(text: str, base: datetime) -> tuple[datetime, bool] | None:
    """(local wall-clock time, day only) of the formats above, None when ``text`` is not one of them."""
    try:
        if match := _RU_RELATIVE.match(text):
            day = base - timedelta(days=_DAYS_BACK[match["word"].lower()])
            hour, minute = int(match["hour"] or 0), int(match["minute"] or 0)
            return datetime(day.year, day.month, day.day, hour, minute), match["hour"] is None
        if (match := _RU_ABSOLUTE.match(text)) and match["month"].lower() in _RU_MONTHS:
            month = _RU_MONTHS[match["month"].lower()]
        elif match := _NUMERIC.match(text):
            month = int(match["month"])
        else:
            return None
        return (datetime(int(match["year"]), month, int(match["day"]),
                         int(match["hour"] or 0), int(match["minute"] or 0)), match["hour"] is None)
    except ValueError as exc:  # 31 февраля, 25:00
        raise DateParseError(f"impossible date {text!r}") from exc
