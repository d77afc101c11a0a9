"""news_etl.dates.parse_date: the site's formats, Almaty's 2024-03-01 change, relative days, garbage."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from news_etl.dates import DateParseError, parse_date, read_page_date, to_utc

TZ = "Asia/Almaty"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


ABSOLUTE = [
    # text, expected UTC                                   why
    ("5 ноября 2019 13:15", utc(2019, 11, 5, 7, 15)),      # the sample article, UTC+6
    ("12 марта 2020, 14:05", utc(2020, 3, 12, 8, 5)),      # older markup, comma
    ("27 апреля 2026 17:42", utc(2026, 4, 27, 12, 42)),    # current markup, UTC+5
    ("5 ноября 2019 г. в 13:15", utc(2019, 11, 5, 7, 15)),
    ("05.11.2019 13:15", utc(2019, 11, 5, 7, 15)),
    ("5 ноября 2019", utc(2019, 11, 4, 18, 0)),            # date only: local midnight
    ("  5  ноября\n2019   13:15 ", utc(2019, 11, 5, 7, 15)),
    ("29 февраля 2024 22:30", utc(2024, 2, 29, 16, 30)),   # last UTC+6 evening
    ("29 февраля 2024 23:30", utc(2024, 2, 29, 17, 30)),   # repeated hour: first occurrence, UTC+6
    ("1 марта 2024 00:30", utc(2024, 2, 29, 19, 30)),      # first UTC+5 day, still Feb 29 in UTC
    ("1 марта 2024 10:00", utc(2024, 3, 1, 5, 0)),
    ("31 декабря 2023 23:59", utc(2023, 12, 31, 17, 59)),
    ("2019-11-05T13:15:00+06:00", utc(2019, 11, 5, 7, 15)),  # JSON-LD/meta ISO keeps its offset
    ("2024-02-29T23:30:00+05:00", utc(2024, 2, 29, 18, 30)),  # second occurrence, told by the offset
    ("2024-03-01T00:30:00+05:00", utc(2024, 2, 29, 19, 30)),
    ("2026-04-27T12:42:00Z", utc(2026, 4, 27, 12, 42)),
    ("2019-11-05 13:15", utc(2019, 11, 5, 7, 15)),          # ISO without offset: source's zone
    ("5 Nov 2019 13:15", utc(2019, 11, 5, 7, 15)),          # anything else goes to dateparser
]


@pytest.mark.parametrize(("text", "expected"), ABSOLUTE, ids=[t for t, _ in ABSOLUTE])
def test_absolute_dates(text, expected):
    result = parse_date(text, tz=TZ, languages=["ru", "en"] if "Nov" in text else None)
    assert result == expected
    assert result.tzinfo is not None and result.utcoffset().total_seconds() == 0


# A zone stated in the text wins over the source's (dateparser's formats); text, source zone, expected UTC.
STATED_ZONE = [
    ("Mon, 18 Nov 2019 16:07:38 -0600", "Europe/London", utc(2019, 11, 18, 22, 7, 38)),  # numeric offset
    ("November 19, 2019, 07:47 PM EST", "UTC", utc(2019, 11, 20, 0, 47)),                # next day in UTC
    ("19 Nov 2019 07:09 GMT", TZ, utc(2019, 11, 19, 7, 9)),                              # not Almaty's +6
    ("July 4, 2019 10:00 EDT", "America/New_York", utc(2019, 7, 4, 14, 0)),
    # "IST" is dateparser's Israel time, unless the source's own zone calls itself IST then.
    ("01:38:07 PM IST Nov 20, 2019", "Asia/Kolkata", utc(2019, 11, 20, 8, 8, 7)),        # +05:30
    ("July 4, 2019 10:00 IST", "Europe/Dublin", utc(2019, 7, 4, 9, 0)),                  # Irish summer time
    ("01:38:07 PM IST Nov 20, 2019", "UTC", utc(2019, 11, 20, 11, 38, 7)),               # +02:00
    ("Nov 20, 2019 13:38", "Asia/Kolkata", utc(2019, 11, 20, 8, 8)),                     # no zone stated
    # Names of zones, not of offsets: daylight saving and Almaty's 2024 move are honoured.
    ("July 4, 2019 at 10:00 am ET", "UTC", utc(2019, 7, 4, 14, 0)),                      # EDT, not -5
    ("January 4, 2019 at 10:00 am ET", "UTC", utc(2019, 1, 4, 15, 0)),
    ("July 4, 2019 10:00 PT", "UTC", utc(2019, 7, 4, 17, 0)),
    ("12 March 2024 14:05 ALMT", "UTC", utc(2024, 3, 12, 9, 5)),                         # +5 since March 1
    ("12 March 2023 14:05 ALMT", "UTC", utc(2023, 3, 12, 8, 5)),
    ("5 November 2019 13:15 met", "Asia/Almaty", utc(2019, 11, 5, 7, 15)),               # a word, not MET
]


@pytest.mark.parametrize(("text", "tz", "expected"), STATED_ZONE,
                         ids=[f"{t} ({z})" for t, z, _ in STATED_ZONE])
def test_a_zone_stated_in_the_text_is_honoured(text, tz, expected):
    result = parse_date(text, tz=tz, languages=["en"])
    assert result == expected
    assert result.utcoffset().total_seconds() == 0


MOSCOW_TIME = [
    ("18 ноября 2019, 10:00 МСК", utc(2019, 11, 18, 7, 0)),
    ("18 ноября 2019 в 10:00 (мск)", utc(2019, 11, 18, 7, 0)),
    ("18.11.2019 10:00 по московскому времени", utc(2019, 11, 18, 7, 0)),
    ("12 марта 2013, 10:00 МСК", utc(2013, 3, 12, 6, 0)),   # Moscow was UTC+4 from 2011 to 2014
    ("Nov 18, 2019 10:00 MSK", utc(2019, 11, 18, 7, 0)),      # the Latin abbreviation, through dateparser
]


@pytest.mark.parametrize(("text", "expected"), MOSCOW_TIME, ids=[t for t, _ in MOSCOW_TIME])
def test_moscow_time_on_a_site_elsewhere(text, expected):
    assert parse_date(text, tz=TZ, languages=["ru", "en"]) == expected


def test_moscow_time_for_relative_days_is_moscow_s_day():
    now = utc(2024, 5, 10, 20, 30)  # 01:30 on May 11 in Almaty, still 23:30 on May 10 in Moscow
    assert parse_date("Сегодня 23:00 МСК", tz=TZ, now=now) == utc(2024, 5, 10, 20, 0)


def test_a_relative_date_with_a_zone_counts_back_from_now():
    now = utc(2019, 11, 21, 12, 0)
    assert parse_date("2 hours ago GMT", tz=TZ, languages=["en"], now=now) == utc(2019, 11, 21, 10, 0)
    assert parse_date("2 hours ago", tz=TZ, languages=["en"], now=now) == utc(2019, 11, 21, 10, 0)


# fetched_at (UTC), shown text, expected UTC
RELATIVE = [
    (utc(2024, 5, 10, 19, 30), "Сегодня 00:10", utc(2024, 5, 10, 19, 10)),   # 00:30 in Almaty, May 11
    (utc(2024, 5, 10, 19, 30), "Вчера, 23:50", utc(2024, 5, 10, 18, 50)),    # yesterday = May 10 local
    (utc(2024, 5, 10, 19, 30), "Вчера 14:05", utc(2024, 5, 10, 9, 5)),
    (utc(2024, 5, 10, 17, 0), "Сегодня 17:42", utc(2024, 5, 10, 12, 42)),    # 22:00 local, same day
    (utc(2024, 5, 10, 17, 0), "Вчера, 14:05", utc(2024, 5, 9, 9, 5)),
    (utc(2024, 5, 11, 18, 50), "Сегодня, 23:40", utc(2024, 5, 11, 18, 40)),  # 23:50 local
    (utc(2024, 5, 11, 18, 50), "сегодня в 09:00", utc(2024, 5, 11, 4, 0)),
    (utc(2024, 2, 29, 19, 10), "Вчера, 22:00", utc(2024, 2, 29, 16, 0)),     # fetched Mar 1 00:10 (+5)
    (utc(2024, 2, 29, 19, 10), "Сегодня 00:05", utc(2024, 2, 29, 19, 5)),    # ...yesterday was +6
    (utc(2019, 12, 31, 18, 30), "Сегодня 00:15", utc(2019, 12, 31, 18, 15)),  # 00:30 on Jan 1 in Almaty
    (utc(2019, 12, 31, 18, 30), "Вчера, 23:59", utc(2019, 12, 31, 17, 59)),
]


@pytest.mark.parametrize(("now", "text", "expected"), RELATIVE,
                         ids=[f"{t}@{n:%m-%dT%H:%M}" for n, t, _ in RELATIVE])
def test_relative_dates(now, text, expected):
    assert parse_date(text, tz=TZ, now=now) == expected


GARBAGE = ["", "   ", "мусор", "lorem ipsum dolor", "31 февраля 2024 10:00", "5 ноября 2019 25:99",
           "2024-13-45", "Вчера, 24:61", "45.13.2020 10:00"]


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_is_rejected(text):
    with pytest.raises(DateParseError):
        parse_date(text, tz=TZ, now=utc(2024, 5, 10, 12, 0))


def test_to_utc_uses_the_tz_database_not_a_fixed_offset():
    assert to_utc(datetime(2024, 2, 29, 12, 0), TZ) == utc(2024, 2, 29, 6, 0)
    assert to_utc(datetime(2024, 3, 1, 12, 0), TZ) == utc(2024, 3, 1, 7, 0)


# The offset rule (read_page_date): a declared offset that the tz database does not give the source's
# zone at that wall clock is dropped, and the wall clock is read in the zone; UTC is taken as written.
# text, source zone, expected UTC, recorded disagreement
DECLARED_OFFSETS = [
    ("2024-02-29T10:00:00+06:00", TZ, utc(2024, 2, 29, 4, 0), None),        # Almaty's +6, last day of it
    ("2024-02-29T10:00:00+05:00", TZ, utc(2024, 2, 29, 4, 0), "declared +05:00, Asia/Almaty +06:00"),
    ("2024-03-01T10:00:00+06:00", TZ, utc(2024, 3, 1, 5, 0), "declared +06:00, Asia/Almaty +05:00"),
    ("2024-03-01T10:00:00+05:00", TZ, utc(2024, 3, 1, 5, 0), None),
    ("2023-09-12T06:02:01+06:00", TZ, utc(2023, 9, 12, 0, 2, 1), None),     # Tengrinews JSON-LD, before
    ("2024-03-29T06:02:01+06:00", TZ, utc(2024, 3, 29, 1, 2, 1), "declared +06:00, Asia/Almaty +05:00"),
    ("2023-09-12T06:02:00+05:00", TZ, utc(2023, 9, 12, 0, 2), "declared +05:00, Asia/Almaty +06:00"),
    ("2024-02-29T23:30:00+06:00", TZ, utc(2024, 2, 29, 17, 30), None),      # the repeated hour, either
    ("2024-02-29T23:30:00+05:00", TZ, utc(2024, 2, 29, 18, 30), None),      # occurrence is Almaty's
    ("2024-03-15T05:00:00Z", TZ, utc(2024, 3, 15, 5, 0), None),              # an instant in UTC
    ("2024-03-15T10:00:00", TZ, utc(2024, 3, 15, 5, 0), None),               # no offset: the zone's
    # Another zone, with daylight saving time.
    ("2024-07-01T10:00:00+02:00", "Europe/Berlin", utc(2024, 7, 1, 8, 0), None),
    ("2024-07-01T10:00:00+01:00", "Europe/Berlin", utc(2024, 7, 1, 8, 0),
     "declared +01:00, Europe/Berlin +02:00"),
    ("2024-01-15T10:00:00+01:00", "Europe/Berlin", utc(2024, 1, 15, 9, 0), None),
    ("2024-01-15T10:00:00-05:00", "America/New_York", utc(2024, 1, 15, 15, 0), None),
    ("2024-07-15T10:00:00-05:00", "America/New_York", utc(2024, 7, 15, 14, 0),
     "declared -05:00, America/New_York -04:00"),
]


@pytest.mark.parametrize(("text", "tz", "expected", "disagreement"), DECLARED_OFFSETS,
                         ids=[f"{t} ({z})" for t, z, _, _ in DECLARED_OFFSETS])
def test_a_declared_offset_that_disagrees_with_the_zone_loses_to_the_wall_clock(text, tz, expected,
                                                                                 disagreement):
    found = read_page_date(text, tz=tz)
    assert found.at == expected
    assert found.offset_disagreement == disagreement
    assert found.date_only is False
    if not text.endswith("Z"):  # the local time shown is the one written
        written = datetime.fromisoformat(text).replace(tzinfo=None)
        assert found.at.astimezone(ZoneInfo(tz)).replace(tzinfo=None) == written


def test_without_zone_wins_a_declared_offset_is_kept():
    found = read_page_date("2024-03-01T10:00:00+06:00", tz=TZ, zone_wins=False)
    assert found.at == utc(2024, 3, 1, 4, 0) and found.offset_disagreement is None


# fetched_at (UTC), shown text, expected local time in Almaty, day only
PAGE_FORMS = [
    (utc(2024, 4, 8, 12, 0), "27 марта 2024 | 20:10", datetime(2024, 3, 27, 20, 10), False),
    (utc(2024, 4, 8, 12, 0), "Сегодня | 19:40", datetime(2024, 4, 8, 19, 40), False),
    (utc(2024, 4, 8, 12, 0), "Вчера | 09:05", datetime(2024, 4, 7, 9, 5), False),
    (utc(2024, 4, 8, 20, 0), "Сегодня", datetime(2024, 4, 9, 0, 0), True),   # 01:00 on Apr 9 in Almaty
    (utc(2024, 4, 8, 12, 0), "Вчера", datetime(2024, 4, 7, 0, 0), True),
    (utc(2024, 4, 8, 12, 0), "05 апреля 2024 06:26", datetime(2024, 4, 5, 6, 26), False),
    (utc(2024, 4, 8, 12, 0), "5 апреля 2024", datetime(2024, 4, 5, 0, 0), True),
    (utc(2024, 4, 8, 12, 0), "2024-04-05", datetime(2024, 4, 5, 0, 0), True),
]


@pytest.mark.parametrize(("now", "text", "local", "day_only"), PAGE_FORMS,
                         ids=[t for _, t, _, _ in PAGE_FORMS])
def test_listing_forms_relative_days_and_date_only_values(now, text, local, day_only):
    found = read_page_date(text, tz=TZ, now=now)
    assert found.at.tzinfo is not None
    assert found.at.astimezone(ZoneInfo(TZ)).replace(tzinfo=None) == local
    assert found.date_only is day_only
