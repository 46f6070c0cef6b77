"""Meeting times as people write them, Dutch and English, read against a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from buddybot.domain.when import WhenError, format_example, parse_when, span
from buddybot.i18n import t

AMS = "Europe/Amsterdam"
# Wednesday 2 December 2026, 10:00 in Amsterdam (winter time, UTC+1)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
# Tuesday 20 October 2026, 11:00 in Amsterdam (summer time); clocks go back on Sunday the 25th
NOW_OCT = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
# Wednesday 24 March 2027, 10:00 in Amsterdam (winter time); clocks go forward on Sunday the 28th
NOW_MAR = datetime(2027, 3, 24, 9, 0, tzinfo=UTC)
# Sunday 28 March 2027, 01:30 in Amsterdam: half an hour before the clocks go forward
NOW_BEFORE_JUMP = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def when(text: str, now: datetime = NOW, lang: str = "nl", zone: str = AMS) -> datetime:
    return parse_when(text, now=now, zone=zone, lang=lang)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # weekdays: the next one, today if the time is still ahead
        ("vrijdag 19:30", "nl", utc(2026, 12, 4, 18, 30)),
        ("vrijdag om 19.30", "nl", utc(2026, 12, 4, 18, 30)),
        ("vr 19:30", "nl", utc(2026, 12, 4, 18, 30)),
        ("Vrijdag 19u30", "nl", utc(2026, 12, 4, 18, 30)),
        ("vrijdag a.s. om 19.30 uur", "nl", utc(2026, 12, 4, 18, 30)),
        ("woensdag 19:30", "nl", utc(2026, 12, 2, 18, 30)),  # today, still ahead
        ("woensdag 09:30", "nl", utc(2026, 12, 9, 8, 30)),  # today, passed: next week
        ("zo 14:00", "nl", utc(2026, 12, 6, 13, 0)),
        ("volgende week vrijdag 19:30", "nl", utc(2026, 12, 11, 18, 30)),
        ("vrijdag 19:30-21:00", "nl", utc(2026, 12, 4, 18, 30)),  # a range: its start
        # dates with a month name: this year, or next year when gone by
        ("5 december 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("5 dec om 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("december 5 7:30pm", "nl", utc(2026, 12, 5, 18, 30)),
        ("1 december 19:30", "nl", utc(2027, 12, 1, 18, 30)),
        ("zaterdag 5 december 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("5 januari 2027 20:00", "nl", utc(2027, 1, 5, 19, 0)),
        # parts of the day
        ("morgen om 8 uur 's avonds", "nl", utc(2026, 12, 3, 19, 0)),
        ("overmorgen 10 uur", "nl", utc(2026, 12, 4, 9, 0)),
        ("morgenavond 8 uur", "nl", utc(2026, 12, 3, 19, 0)),
        ("zaterdagmiddag 2 uur", "nl", utc(2026, 12, 5, 13, 0)),
        ("morgen 's ochtends 9 uur", "nl", utc(2026, 12, 3, 8, 0)),
        ("vrijdag ’s middags 3 uur", "nl", utc(2026, 12, 4, 14, 0)),
        ("vanavond 8 uur", "nl", utc(2026, 12, 2, 19, 0)),
        ("vrijdagavond 8", "nl", utc(2026, 12, 4, 19, 0)),
        ("morgenochtend half 10", "nl", utc(2026, 12, 3, 8, 30)),
        ("half 8 's avonds", "nl", utc(2026, 12, 2, 18, 30)),
        ("maandagmorgen 9 uur", "nl", utc(2026, 12, 7, 8, 0)),
        ("8:30 's avonds", "nl", utc(2026, 12, 2, 19, 30)),
        ("vrijdagnacht 2 uur", "nl", utc(2026, 12, 5, 1, 0)),  # the small hours after Friday
        # numeric dates, day before month
        ("2026-12-05 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("2026-12-05T19:30", "en", utc(2026, 12, 5, 18, 30)),
        ("05-12-2026 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("5-12 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("5/12 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        ("5.12.2026 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        # English
        ("next tuesday 7pm", "en", utc(2026, 12, 8, 18, 0)),
        ("tomorrow at 8pm", "en", utc(2026, 12, 3, 19, 0)),
        ("Friday 7.30 pm", "en", utc(2026, 12, 4, 18, 30)),
        ("December 5 at 19:30", "en", utc(2026, 12, 5, 18, 30)),
        ("tonight 8pm", "en", utc(2026, 12, 2, 19, 0)),
        ("the day after tomorrow 3pm", "en", utc(2026, 12, 4, 14, 0)),
        ("friday evening 8", "en", utc(2026, 12, 4, 19, 0)),
        ("tomorrow morning at 9", "en", utc(2026, 12, 3, 8, 0)),
        ("friday noon", "en", utc(2026, 12, 4, 11, 0)),
        # either language whatever the wijk speaks
        ("vrijdag 19:30", "en", utc(2026, 12, 4, 18, 30)),
        ("next tuesday 7pm", "nl", utc(2026, 12, 8, 18, 0)),
        # relative
        ("over 2 uur", "nl", utc(2026, 12, 2, 11, 0)),
        ("over een kwartier", "nl", utc(2026, 12, 2, 9, 15)),
        ("in 90 minutes", "en", utc(2026, 12, 2, 10, 30)),
        ("in 3 days 10am", "en", utc(2026, 12, 5, 9, 0)),
        ("over 3 dagen om 19:30", "nl", utc(2026, 12, 5, 18, 30)),
        # dateparser as the last resort for the date
        ("a week from now 19:30", "en", utc(2026, 12, 9, 18, 30)),
        # a time alone: today if still ahead, else tomorrow; bare hours outside meeting hours
        ("19:30", "nl", utc(2026, 12, 2, 18, 30)),
        ("09:30", "nl", utc(2026, 12, 3, 8, 30)),
        ("om 20 uur", "nl", utc(2026, 12, 2, 19, 0)),
        ("2 uur", "nl", utc(2026, 12, 2, 13, 0)),  # 02:00 is no meeting time
        ("12 uur", "nl", utc(2026, 12, 2, 11, 0)),
        ("vandaag 8 uur", "nl", utc(2026, 12, 2, 19, 0)),  # 08:00 has passed
    ],
)
def test_reads_the_moment(text: str, lang: str, expected: datetime) -> None:
    result = when(text, lang=lang)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("vrijdag", "no_time"),
        ("5 december", "no_time"),
        ("morgenavond", "no_time"),
        ("tomorrow", "no_time"),
        ("5 december 's avonds", "no_time"),
        ("gisteren 19:00", "past"),
        ("2020-01-01 10:00", "past"),
        ("today 09:00", "past"),
        ("vandaag 9:59", "past"),
        ("gisteren", "past"),
        ("2 uur geleden", "past"),
        ("2 december 09:00", "past"),  # today, passed: not moved a year
        ("ooit", "unparseable"),
        ("asap", "unparseable"),
        ("", "unparseable"),
        ("   ", "unparseable"),
        ("banaan", "unparseable"),
        ("vrijdag banaan 19:30", "unparseable"),
        ("vrijdag 19:30 of 20:00", "unparseable"),
        # days that do not exist
        ("31-02 19:30", "impossible"),
        ("0-12 19:30", "impossible"),
        ("-1 december 19:30", "impossible"),
        ("-1 december", "impossible"),
        ("December -1 7pm", "impossible"),
        ("-3-12-2027 19:30", "impossible"),
        ("0000-01-01 10:00", "impossible"),
        # more than two years ahead, with or without a time
        ("31-12-9999 19:30", "too_far"),
        ("31-12-9999", "too_far"),
        ("9999-12-31 23:59", "too_far"),
        ("over 5000 jaar", "too_far"),
        ("over 5000 jaar 19:30", "too_far"),
        ("in 5000 years 7pm", "too_far"),
        ("over 999999 jaar", "too_far"),
        ("over 999999 weken", "too_far"),
        ("in 3000 days 7pm", "too_far"),
        ("3 december 2028 19:30", "too_far"),
        ("25:00", "unparseable"),
        ("13 am", "unparseable"),
        ("volgende week 19:30", "unparseable"),
        ("8 uur 's ochtends 's avonds", "unparseable"),
    ],
)
def test_refuses(text: str, kind: str) -> None:
    with pytest.raises(WhenError) as caught:
        when(text)
    assert caught.value.kind == kind
    assert caught.value.candidates == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 december 2028 19:30", utc(2028, 12, 2, 18, 30)),  # the last day of two years
        ("over 2 jaar 19:30", utc(2028, 12, 2, 18, 30)),
        ("over 1 jaar 19:30", utc(2027, 12, 2, 18, 30)),
        ("in 1 year 7:30pm", utc(2027, 12, 2, 18, 30)),
        ("19:30 - 21:00 vrijdag", utc(2026, 12, 4, 18, 30)),  # a range, not a negative day
    ],
)
def test_up_to_two_years_ahead(text: str, expected: datetime) -> None:
    assert when(text) == expected


def test_the_horizon_is_a_parameter() -> None:
    assert when("2 december 2028 19:30") == utc(2028, 12, 2, 18, 30)
    with pytest.raises(WhenError) as caught:
        parse_when("5 januari 2027 19:30", now=NOW, zone=AMS, lang="nl", horizon=timedelta(30))
    assert caught.value.kind == "too_far"
    moment = parse_when("1 januari 2027 19:30", now=NOW, zone=AMS, lang="nl", horizon=timedelta(30))
    assert moment == utc(2027, 1, 1, 18, 30)


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("8 uur", [utc(2026, 12, 2, 19, 0), utc(2026, 12, 3, 7, 0)]),  # 20:00 today, 08:00 tmrw
        ("at 8", [utc(2026, 12, 2, 19, 0), utc(2026, 12, 3, 7, 0)]),
        ("vrijdag 8 uur", [utc(2026, 12, 4, 7, 0), utc(2026, 12, 4, 19, 0)]),
        ("friday at 8", [utc(2026, 12, 4, 7, 0), utc(2026, 12, 4, 19, 0)]),
        ("morgen half 8", [utc(2026, 12, 3, 6, 30), utc(2026, 12, 3, 18, 30)]),
        # the 5th is a Saturday: the date, or the Friday next to it
        ("vrijdag 5 december 19:30", [utc(2026, 12, 4, 18, 30), utc(2026, 12, 5, 18, 30)]),
    ],
)
def test_ambiguous_offers_the_candidates(text: str, candidates: list[datetime]) -> None:
    with pytest.raises(WhenError) as caught:
        when(text)
    assert caught.value.kind == "ambiguous"
    assert caught.value.candidates == candidates


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        # autumn 2026: 19:30 is 17:30 UTC in summer time, 18:30 UTC in winter time
        ("zaterdag 19:30", NOW_OCT, utc(2026, 10, 24, 17, 30)),
        ("zondag 19:30", NOW_OCT, utc(2026, 10, 25, 18, 30)),
        ("25 oktober 02:30", NOW_OCT, utc(2026, 10, 25, 0, 30)),  # doubled hour: the first one
        ("25 oktober 03:30", NOW_OCT, utc(2026, 10, 25, 2, 30)),
        # spring 2027
        ("vrijdag 19:30", NOW_MAR, utc(2027, 3, 26, 18, 30)),
        ("maandag 19:30", NOW_MAR, utc(2027, 3, 29, 17, 30)),
        ("28-3 19:30", NOW_MAR, utc(2027, 3, 28, 17, 30)),
        ("zondag 02:30", NOW_MAR, utc(2027, 3, 28, 1, 30)),  # does not exist: 03:30 summer time
        ("02:30", NOW_BEFORE_JUMP, utc(2027, 3, 28, 1, 30)),
        # seen from December 2026
        ("28 maart 2027 02:30", NOW, utc(2027, 3, 28, 1, 30)),
        ("29 maart 2027 02:30", NOW, utc(2027, 3, 29, 0, 30)),
        ("27 maart 19:30", NOW, utc(2027, 3, 27, 18, 30)),
        ("28 maart 19:30", NOW, utc(2027, 3, 28, 17, 30)),
        ("30 oktober 2027 19:30", NOW, utc(2027, 10, 30, 17, 30)),
        ("31 oktober 2027 19:30", NOW, utc(2027, 10, 31, 18, 30)),
        ("31 oktober 2027 02:30", NOW, utc(2027, 10, 31, 0, 30)),
    ],
)
def test_daylight_saving(text: str, now: datetime, expected: datetime) -> None:
    assert when(text, now=now) == expected


def test_the_zone_decides_the_wall_clock() -> None:
    assert when("vrijdag 19:30", zone="America/New_York") == utc(2026, 12, 5, 0, 30)
    assert when("19:30", zone="Asia/Tokyo") == utc(2026, 12, 2, 10, 30)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse_when("vrijdag 19:30", now=datetime(2026, 12, 2, 10, 0), zone=AMS, lang="nl")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_example_in_error_messages_parses(lang: str) -> None:
    when = parse_when(format_example(lang), now=NOW, zone=AMS, lang=lang)
    assert when == utc(2026, 12, 5, 18, 30)


@pytest.mark.parametrize(
    ("days", "nl", "en"),
    [
        (731, "2 jaar", "2 years"),
        (365, "1 jaar", "1 year"),
        (183, "6 maanden", "6 months"),
        (30, "1 maand", "1 month"),
        (100, "100 dagen", "100 days"),
        (1, "1 dag", "1 day"),
    ],
)
def test_how_far_ahead_is_said_in_years_months_or_days(days: int, nl: str, en: str) -> None:
    within = span(timedelta(days=days))
    assert t("nl", "refusal.when_too_far", text="x", within=within).endswith(f"binnen {nl}.")
    assert t("en", "refusal.when_too_far", text="x", within=within).endswith(f"within {en}.")
