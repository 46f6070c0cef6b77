"""Read a meeting time as people write it: "vrijdag 19:30", "morgenavond 8 uur", "tomorrow 8pm".

Pure functions: no I/O and no clock of its own (``now`` is always passed in).

How a text is read (Dutch and English are both accepted, whatever the wijk's language):

1. ``_normalise``: lowercase, one kind of apostrophe, and a small rewrite table for the
   colloquial forms dateparser does not know: parts of the day ("'s avonds", "morgenavond",
   "zaterdagmiddag", "vanavond", "tonight") become a marker such as ``#EVENING`` (upper case,
   so no later rewrite sees a word in it).
2. The pieces are taken out one by one, each by a small regular expression: a relative moment
   ("over 2 uur", "in 90 minutes"), a relative number of days ("in 3 days"), a numeric date
   ("2026-12-05", "05-12-2026", "5/12": day before month), the clock time ("19:30", "19.30",
   "7pm", "8 uur", "half 8", "om 8"), a date with a month name ("5 dec", "December 5"), a day
   word ("morgen", "tomorrow") and a weekday ("vrijdag", "vr", "next tuesday").
3. What is left must be filler ("om", "at", "op", commas). Anything else is handed to
   ``dateparser`` as a last resort for the date only ("a week from now"). We decide ourselves
   whether there is a date and whether there is a time: dateparser silently fills in missing
   parts, and a meeting needs both.

Decisions:

* Preferring the future: a weekday is the next one (today if the time is still ahead), a date
  without a year is this year's or, when that day has gone by, next year's; a time alone is
  today's or, when passed, tomorrow's. A date that names a year, a day word ("gisteren") and a
  date of today whose time has passed are not moved: they give ``WhenError("past")``.
* Ambiguity: digital times ("8:30", "19.30") are read on the 24-hour clock. A bare hour from 1
  to 11 ("8 uur", "at 8", "half 8") with no am/pm and no part of the day is read as the reading
  that falls inside plausible meeting hours, 07:00-21:59 (``MEETING_HOURS``): "2 uur" is 14:00,
  "10 uur" is 10:00; when both readings fall inside (7, 8 and 9 o'clock) and both are still
  ahead, ``WhenError("ambiguous")`` carries both moments. A weekday that does not match the
  date ("vrijdag 5 december" when the 5th is a Saturday) is ambiguous in the same way, with the
  date and the named weekday nearest to it as candidates.
* Night: "2 uur 's nachts" after a named day ("vrijdagnacht 2 uur", "vannacht 2 uur") is the
  small hours after that day, as it is said in Dutch.
* Daylight saving: the wall-clock time is attached with ``zoneinfo`` (``fold=0``) and then
  converted to UTC. A time that does not exist (02:30 on the last Sunday of March in
  Europe/Amsterdam) is read with the offset from before the change, which is the same moment
  as 03:30 summer time: it moves forward by the gap. A time that happens twice (02:30 on the
  last Sunday of October) is the first of the two (still summer time).
* "over 2 uur" / "in 90 minutes" is ``now`` plus that, with seconds dropped.
* Limits: a moment more than ``horizon`` ahead (default ``MAX_AHEAD``, two years; the whole
  last day counts) is ``WhenError("too_far")``, also without a time ("31-12-9999", "over 5000
  jaar"), and so is a number too large for the calendar ("over 999999 weken"). A day that
  does not exist ("31-02", "0-12", "-1 december") is ``WhenError("impossible")``.
* "over 3 jaar" / "in 3 years" is the same day that many years on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from buddybot.i18n import Plural

__all__ = [
    "MAX_AHEAD",
    "MEETING_HOURS",
    "WhenError",
    "WhenErrorKind",
    "format_example",
    "parse_when",
    "span",
]

WhenErrorKind = Literal["unparseable", "past", "no_time", "ambiguous", "too_far", "impossible"]
Part = Literal["morning", "afternoon", "evening", "night"]

# A bare hour ("8 uur") is read as the reading inside these hours; both inside: ambiguous.
MEETING_HOURS = range(7, 22)
# Nobody plans a meeting, an announcement or a vote's end further ahead than this:
# two years (a leap day included), so "over 2 jaar" is still allowed.
MAX_AHEAD = timedelta(days=731)


class WhenError(Exception):
    """Why a text is not a usable meeting time; ``candidates`` is filled for "ambiguous"."""

    kind: WhenErrorKind
    candidates: list[datetime]  # aware UTC, earliest first

    def __init__(self, kind: WhenErrorKind, candidates: Iterable[datetime] = ()) -> None:
        super().__init__(kind)
        self.kind = kind
        self.candidates = sorted(candidates)


def span(horizon: timedelta) -> Plural:
    """How far ahead a date may be, as a person would say it: whole years ("2 jaar" for
    731 days), else whole months, else days (a leap day is not counted against a year)."""
    days = horizon.days
    years = round(days / 365.25)
    if years >= 1 and abs(days - years * 365.25) <= 1:
        return Plural("span.years", years)
    months = round(days / (365.25 / 12))
    if months >= 1 and abs(days - months * 365.25 / 12) <= 1:
        return Plural("span.months", months)
    return Plural("span.days", days)


def format_example(lang: str) -> str:
    """A short example of a meeting time, for error messages."""
    # No weekday with a date: a copied example must parse in any year.
    return "5 December 7:30pm" if lang == "en" else "5 december 19:30"


# --- words -----------------------------------------------------------------------------------

# fmt: off
_WEEKDAYS: dict[str, int] = {
    "maandag": 0, "ma": 0, "monday": 0, "mon": 0,
    "dinsdag": 1, "di": 1, "tuesday": 1, "tues": 1, "tue": 1,
    "woensdag": 2, "wo": 2, "wednesday": 2, "wed": 2,
    "donderdag": 3, "do": 3, "thursday": 3, "thurs": 3, "thu": 3,
    "vrijdag": 4, "vr": 4, "vrij": 4, "friday": 4, "fri": 4,
    "zaterdag": 5, "za": 5, "zat": 5, "saturday": 5, "sat": 5,
    "zondag": 6, "zo": 6, "sunday": 6, "sun": 6,
}
_MONTHS: dict[str, int] = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2,
    "maart": 3, "march": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "augustus": 8, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_DAY_WORDS: dict[str, int] = {
    "vandaag": 0, "today": 0,
    "morgen": 1, "tomorrow": 1,
    "overmorgen": 2, "day after tomorrow": 2, "the day after tomorrow": 2,
    "gisteren": -1, "yesterday": -1,
    "eergisteren": -2,
}
_AMOUNTS: dict[str, float] = {
    "een half": 0.5, "half an": 0.5, "half a": 0.5, "anderhalf": 1.5,
    "een": 1, "één": 1, "a": 1, "an": 1, "one": 1, "twee": 2, "two": 2, "drie": 3,
    "three": 3, "vier": 4, "four": 4, "vijf": 5, "five": 5, "zes": 6, "six": 6,
}
_UNITS: dict[str, timedelta] = {
    "minuten": timedelta(minutes=1), "minuut": timedelta(minutes=1),
    "minutes": timedelta(minutes=1), "minute": timedelta(minutes=1),
    "mins": timedelta(minutes=1), "min": timedelta(minutes=1),
    "kwartier": timedelta(minutes=15),
    "uur": timedelta(hours=1), "uren": timedelta(hours=1), "hours": timedelta(hours=1),
    "hour": timedelta(hours=1), "hrs": timedelta(hours=1), "hr": timedelta(hours=1),
    "dagen": timedelta(days=1), "dag": timedelta(days=1), "days": timedelta(days=1),
    "day": timedelta(days=1),
    "weken": timedelta(weeks=1), "week": timedelta(weeks=1), "weeks": timedelta(weeks=1),
}
_PART_WORDS: dict[str, str] = {
    "ochtend": "MORNING", "morgen": "MORNING", "middag": "AFTERNOON", "avond": "EVENING",
    "nacht": "NIGHT",
}
_PARTS: dict[str, Part] = {
    "MORNING": "morning", "AFTERNOON": "afternoon", "EVENING": "evening", "NIGHT": "night",
}
# fmt: on


def _alt(words: Iterable[str]) -> str:
    """A regex alternation, longest word first so "vrijdag" wins over "vr"."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_DUTCH_WEEKDAYS = "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"
_WEEKDAY = _alt(_WEEKDAYS)
_MONTH = _alt(_MONTHS)
_ORDINAL = r"(?:ste|de|st|nd|rd|th|e)?"
_MERIDIEM = r"(?P<mer>[ap])\.?m\b\.?"
_NOT_BEFORE = r"(?<![\d:./-])"  # a number that is not the tail of a date or a time
_NOT_AFTER = r"(?![\d:/]|[.:]\d)"  # ... nor the head of one

# --- 1. normalising: colloquial forms become markers -----------------------------------------

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[’‘`´]", "'"),
        (r"(\d{4}-\d{1,2}-\d{1,2})t(?=\d)", r"\1 "),  # ISO 2026-12-05T19:30
        (r"(?:'s ?|\bs ?|\b)(?:ochtends|morgens)\b", " #MORNING "),
        (r"(?:'s ?|\bs ?|\b)middags\b", " #AFTERNOON "),
        (r"(?:'s ?|\bs ?|\b)avonds\b", " #EVENING "),
        (r"(?:'s ?|\bs ?|\b)nachts\b", " #NIGHT "),
        (r"\b(?:vanochtend|vanmorgen|this morning)\b", " vandaag #MORNING "),
        (r"\b(?:vanmiddag|this afternoon)\b", " vandaag #AFTERNOON "),
        (r"\b(?:vanavond|tonight|this evening)\b", " vandaag #EVENING "),
        (r"\bvannacht\b", " vandaag #NIGHT "),
        (r"\b(?:in (?:de|the) )?(?:ochtend|morning)\b", " #MORNING "),
        (r"\b(?:in (?:de|the) )?(?:middag|afternoon)\b", " #AFTERNOON "),
        (r"\b(?:in (?:de|the) )?(?:avond|evening)\b", " #EVENING "),
        (r"\b(?:in (?:de|the) |at )?(?:nacht|night)\b", " #NIGHT "),
        (r"\b(?:noon|midday)\b", " 12:00 "),
    )
)
# "morgenavond", "zaterdagmiddag", "maandagmorgen": day word + part of the day in one word
_COMPOUND = re.compile(
    rf"\b(overmorgen|morgen|{_DUTCH_WEEKDAYS})(ochtend|morgen|middag|avond|nacht)\b"
)


def _normalise(text: str) -> str:
    text = text.strip().lower()
    text = _COMPOUND.sub(lambda m: f"{m[1]} #{_PART_WORDS[m[2]]}", text)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


# --- 2. the pieces ---------------------------------------------------------------------------

_AMOUNT = rf"(?P<n>\d{{1,6}}|{_alt(_AMOUNTS)})"
_UNIT = rf"(?P<unit>{_alt(_UNITS)})"
_RELATIVE = re.compile(rf"\b(?:over|in|binnen|within) {_AMOUNT} ?{_UNIT}\b")
_AGO = re.compile(rf"\b{_AMOUNT} ?{_UNIT} (?:geleden|ago)\b")
_YEARS_AHEAD = re.compile(rf"\b(?:over|in|binnen|within) {_AMOUNT} ?(?:jaren|jaar|years|year)\b")

_ISO_DATE = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(
    rf"{_NOT_BEFORE}(?P<d>\d{{1,2}})(?P<sep>[-/])(?P<m>\d{{1,2}})"
    r"(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\d:/-])"
)
_DOTTED_DATE = re.compile(
    rf"{_NOT_BEFORE}(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?P<y>\d{{4}}|\d{{2}})(?![\d:])"
)
_DAY_MONTH = re.compile(
    rf"{_NOT_BEFORE}(?P<d>\d{{1,2}}){_ORDINAL} (?:of )?(?P<mon>{_MONTH})\b\.?"
    r"(?: (?P<y>\d{4})\b)?"
)
_MONTH_DAY = re.compile(
    rf"\b(?P<mon>{_MONTH})\b\.? (?P<d>\d{{1,2}}){_ORDINAL}\b(?:,? (?P<y>\d{{4}})\b)?"
)

# Clock times, most explicit first; the first pattern that matches anywhere wins.
_TIMES: tuple[re.Pattern[str], ...] = (
    re.compile(  # 19:30, 19.30, 19h30, 19u30, 7:30pm, 19.30 uur
        rf"{_NOT_BEFORE}(?P<h>\d{{1,2}})(?P<digital>[:.hu])(?P<m>\d{{2}}){_NOT_AFTER}"
        rf"(?: ?{_MERIDIEM})?(?: ?(?:uur|u|h)\b)?"
    ),
    re.compile(rf"{_NOT_BEFORE}(?P<h>\d{{1,2}}) ?{_MERIDIEM}"),  # 7pm, 7 p.m.
    re.compile(rf"\bhalf (?P<half>\d{{1,2}}){_NOT_AFTER}(?: ?uur\b)?"),  # half 8 = 7:30
    re.compile(rf"{_NOT_BEFORE}(?P<h>\d{{1,2}}) ?(?:uur|u|h|o'?clock)\b"),  # 8 uur, 20u
    re.compile(rf"(?:\b(?:om|at|rond|around|tegen|vanaf|from)|@) (?P<h>\d{{1,2}}){_NOT_AFTER}"),
)
_BARE_HOUR = re.compile(rf"{_NOT_BEFORE}(?P<h>\d{{1,2}}){_NOT_AFTER}")
# "19:30-21:00", "19.30 tot 21 uur": the end of a range is dropped
_RANGE_END = re.compile(
    r" ?(?:-|–|tot|t/m|until|till|to) ?\d{1,2}(?:[:.]\d{2})?(?: ?(?:uur|[ap]\.?m\b\.?))?"
)
_PART = re.compile(r"#(?P<part>MORNING|AFTERNOON|EVENING|NIGHT)\b")
_DAY_WORD = re.compile(rf"\b(?P<word>{_alt(_DAY_WORDS)})\b")
_NEXT_WEEK = r"volgende week|next week|komende week"
_WEEKDAY_RE = re.compile(
    rf"\b(?:(?P<nw>{_NEXT_WEEK}) )?"
    r"(?:(?:this|next|coming|deze|komende|aanstaande|volgende|op|on) )?"
    rf"(?P<wd>{_WEEKDAY})\b\.?(?: (?P<nw2>{_NEXT_WEEK})\b)?"
)
# "-1 december", "-3-12-2026": a negative day (the minus is not part of a range "19:30-21:00")
_NEGATIVE_DAY = re.compile(
    rf"(?<![\w:.])-\d+{_ORDINAL}\s?(?:[-/.]\d|(?:of )?(?:{_MONTH})\b)"
    rf"|\b(?:{_MONTH})\b\.?\s?-\d"
)
_FILLER = re.compile(
    r"\ba\.s\.?|\b(?:om|at|on|op|de|het|the|rond|around|omstreeks|about|ongeveer|circa|ca"
    r"|tegen|vanaf|from|van|uur)\b|[,;:!?().'\"]"
)


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    day_shift: int = 0  # 1 for the small hours after a named night ("vrijdagnacht 2 uur")


@dataclass
class _Day:
    fixed: list[date]  # calendar days named ("5 december", "morgen")
    weekday: int | None = None
    next_week: bool = False

    @property
    def named(self) -> bool:
        """A day is named: a date, a day word or a weekday."""
        return bool(self.fixed) or self.weekday is not None


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """The first match of ``pattern`` and the text without it."""
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, f"{text[: match.start()]} {text[match.end() :]}"


def _amount(word: str) -> float:
    return float(word) if word.isdigit() else _AMOUNTS[word]


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _calendar_day(year: int | None, month: int, day: int, today: date) -> date:
    """The named day; without a year this year's, or next year's when it has gone by."""
    if year is not None:
        return date(year, month, day)
    for candidate_year in (today.year, today.year + 1, today.year + 2, today.year + 3):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:  # 29 February outside a leap year
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"no such day: {day}-{month}")


def _existing_day(year: int | None, month: int, day: int, today: date) -> date:
    """``_calendar_day``, or ``WhenError("impossible")`` for a day no calendar has."""
    try:
        return _calendar_day(year, month, day, today)
    except ValueError:  # "31-02", "0-12", month 13, year 0
        raise WhenError("impossible") from None


def _take_dates(text: str, today: date) -> tuple[list[date], str]:
    days: list[date] = []
    for pattern in (_ISO_DATE, _NUMERIC_DATE, _DOTTED_DATE):
        match, text = _take(pattern, text)
        if match:
            days.append(_existing_day(_year(match["y"]), int(match["m"]), int(match["d"]), today))
    return days, text


def _take_named_dates(text: str, today: date) -> tuple[list[date], str]:
    days: list[date] = []
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        match, text = _take(pattern, text)
        if match:
            month = _MONTHS[match["mon"]]
            days.append(_existing_day(_year(match["y"]), month, int(match["d"]), today))
    return days, text


@dataclass(frozen=True)
class _RawTime:
    hour: int
    minute: int
    meridiem: str | None  # "a" or "p"
    digital: bool  # written with minutes: a 24-hour clock reading


def _take_time(text: str) -> tuple[_RawTime | None, str]:
    for pattern in _TIMES:
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groupdict()
        end = match.end()
        tail = _RANGE_END.match(text, end)
        if tail:
            end = tail.end()
        rest = f"{text[: match.start()]} {text[end:]}"
        if groups.get("half"):
            raw = _RawTime(int(groups["half"]) - 1, 30, None, False)
        else:
            minute = int(groups["m"]) if groups.get("m") else 0
            raw = _RawTime(int(groups["h"]), minute, groups.get("mer"), bool(groups.get("m")))
        if any(other.search(rest) for other in _TIMES):
            raise WhenError("unparseable")  # two times: "19:30 of 20:00"
        return raw, rest
    return None, text


def _take_bare_hour(text: str) -> tuple[_RawTime | None, str]:
    match, rest = _take(_BARE_HOUR, text)
    return (None, text) if match is None else (_RawTime(int(match["h"]), 0, None, False), rest)


def _clocks(raw: _RawTime, part: Part | None, has_day: bool) -> list[_Clock]:
    """The readings of a written time, given am/pm or the part of the day."""
    hour, minute = raw.hour, raw.minute
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WhenError("unparseable")
    if raw.meridiem is not None:
        if 1 <= hour <= 12:
            return [_Clock(hour % 12 + (12 if raw.meridiem == "p" else 0), minute)]
        if raw.meridiem == "p" and hour > 12:  # "19:30 pm"
            return [_Clock(hour, minute)]
        raise WhenError("unparseable")
    shift = 1 if has_day else 0
    if part == "night" and hour == 12:
        return [_Clock(0, minute, shift)]
    if hour == 0 or hour >= 12:
        return [_Clock(hour, minute)]
    if part in ("afternoon", "evening"):
        return [_Clock(hour + 12, minute)]
    if part == "morning":
        return [_Clock(hour, minute)]
    if part == "night":
        return [_Clock(hour, minute, shift)] if hour < 6 else [_Clock(hour + 12, minute)]
    if raw.digital:
        return [_Clock(hour, minute)]
    return [_Clock(h, minute) for h in (hour, hour + 12) if h in MEETING_HOURS]


def _take_day(text: str, today: date) -> tuple[_Day, str]:
    """Day words and weekdays (calendar dates are already out)."""
    day = _Day(fixed=[])
    match, text = _take(_DAY_WORD, text)
    if match:
        day.fixed.append(today + timedelta(days=_DAY_WORDS[match["word"]]))
    match, text = _take(_WEEKDAY_RE, text)
    if match:
        day.weekday = _WEEKDAYS[match["wd"]]
        day.next_week = bool(match["nw"] or match["nw2"])
    return day, text


# --- 3. the moment ---------------------------------------------------------------------------


def _at(day: date, clock: _Clock, zone: ZoneInfo) -> datetime:
    """The wall-clock time on ``day`` in ``zone``, in UTC (fold=0: see the module docstring)."""
    local = datetime.combine(day + timedelta(days=clock.day_shift), time(clock.hour, clock.minute))
    return local.replace(tzinfo=zone).astimezone(UTC)


def _moments(day: _Day, clock: _Clock, now: datetime, zone: ZoneInfo) -> list[datetime]:
    today = now.astimezone(zone).date()
    if day.fixed:
        (fixed,) = day.fixed
        if day.weekday is None or fixed.weekday() == day.weekday:
            return [_at(fixed, clock, zone)]
        nearest = (day.weekday - fixed.weekday()) % 7
        nearest = nearest - 7 if nearest > 3 else nearest
        return [_at(fixed, clock, zone), _at(fixed + timedelta(days=nearest), clock, zone)]
    if day.weekday is not None:
        if day.next_week:
            return [_at(today + timedelta(days=7 + day.weekday - today.weekday()), clock, zone)]
        ahead = (day.weekday - today.weekday()) % 7
        moment = _at(today + timedelta(days=ahead), clock, zone)
        if moment <= now:
            moment = _at(today + timedelta(days=ahead + 7), clock, zone)
        return [moment]
    moment = _at(today, clock, zone)  # a time alone: today, or tomorrow when it has passed
    return [moment if moment > now else _at(today + timedelta(days=1), clock, zone)]


def _choose(moments: Iterable[datetime], now: datetime, limit: datetime) -> datetime:
    """The one moment still ahead; ``limit``: the first moment that is too far."""
    ahead = sorted({moment for moment in moments if moment > now})
    if not ahead:
        raise WhenError("past")
    if ahead[0] >= limit:
        raise WhenError("too_far")
    if len(ahead) > 1:
        raise WhenError("ambiguous", ahead)
    return ahead[0]


def _leftover(text: str) -> str:
    return " ".join(_FILLER.sub(" ", text).split())


def _dateparser_day(text: str, *, now_local: datetime, lang: str) -> date | None:
    """dateparser as a last resort, for the date only ("a week from now", "1st of december")."""
    import dateparser  # type: ignore[import-untyped, unused-ignore]

    languages = ["en", "nl"] if lang == "en" else ["nl", "en"]  # both, the wijk's first
    try:
        found: datetime | None = dateparser.parse(
            text,
            languages=languages,
            settings={
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": now_local.replace(tzinfo=None),
                "DATE_ORDER": "DMY",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
    except Exception:  # a third-party parser on user text must not take the bot down
        return None
    return None if found is None else found.date()


def parse_when(
    text: str, *, now: datetime, zone: str, lang: str, horizon: timedelta = MAX_AHEAD
) -> datetime:
    """The moment `text` means, in the wijk's timezone `zone` (e.g. "Europe/Amsterdam"),
    preferring the future; returned timezone-aware in UTC. `now` is aware (UTC) and is the
    ONLY source of the current time (tests inject it; never call datetime.now()).
    `lang` is "nl" or "en" (the wijk's language); accept both languages regardless.
    A moment more than `horizon` after `now` is refused.

    Raises ``WhenError`` ("unparseable", "past", "no_time", "ambiguous" with candidates,
    "too_far", "impossible"), and
    ``ValueError`` for a naive ``now`` or ``zoneinfo.ZoneInfoNotFoundError`` for an unknown zone.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(zone)
    now = now.astimezone(UTC)
    now_local = now.astimezone(tz)
    rest = _normalise(text)
    if not rest:
        raise WhenError("unparseable")
    if _NEGATIVE_DAY.search(rest):
        raise WhenError("impossible")
    # the whole last day is allowed: "over 2 jaar 19:30" with a horizon of two years
    try:
        last = (now_local + horizon).date()
        limit = _at(last, _Clock(0, 0, day_shift=1), tz)
    except OverflowError:  # a horizon beyond the calendar: no limit
        last, limit = date.max, datetime.max.replace(tzinfo=UTC)
    try:
        moment, rest, today = _take_relative(rest, now, now_local.date())
        if moment is not None:
            return _choose([moment], now, limit)
        raw, part, day = _read(rest, today, now_local, lang)
    except OverflowError:  # "over 999999 weken": beyond the calendar
        raise WhenError("too_far") from None
    except ValueError:
        raise WhenError("unparseable") from None
    if raw is None:
        raise _without_time(day, part, now_local.date(), last)
    try:
        moments = [
            moment
            for clock in _clocks(raw, part, day.named)
            for moment in _moments(day, clock, now, tz)
        ]
    except OverflowError:  # 31-12-9999 23:30 in a zone behind UTC
        raise WhenError("too_far") from None
    return _choose(moments, now, limit)


def _take_relative(text: str, now: datetime, today: date) -> tuple[datetime | None, str, date]:
    """A relative moment ("over 2 uur"): that moment. A relative number of days ("in 3
    days"): the rest of the text, read from that day on. Otherwise the text and ``today``."""
    match, after = _take(_YEARS_AHEAD, text)
    if match is not None and float(_amount(match["n"])).is_integer():  # "over 5000 jaar"
        year = today.year + int(_amount(match["n"]))
        if year > date.max.year:
            raise OverflowError(f"year {year}")
        leap_day = (today.month, today.day) == (2, 29)
        day = today.replace(year=year, day=28) if leap_day else today.replace(year=year)
        return None, f"{after} vandaag", day
    for pattern, sign in ((_RELATIVE, 1), (_AGO, -1)):
        match, after = _take(pattern, text)
        if match is None:
            continue
        unit = _UNITS[match["unit"]]
        delta = sign * _amount(match["n"]) * unit
        if unit < timedelta(days=1):  # minutes or hours: a moment
            if _leftover(after):
                raise WhenError("unparseable")
            return (now + delta).replace(second=0, microsecond=0), after, today
        return None, f"{after} vandaag", today + timedelta(days=delta.days)
    return None, text, today


def _read(
    text: str, today: date, now_local: datetime, lang: str
) -> tuple[_RawTime | None, Part | None, _Day]:
    """The written time, the part of the day and the day, with nothing else left over."""
    days, text = _take_dates(text, today)
    raw, text = _take_time(text)
    named, text = _take_named_dates(text, today)
    part, text = _take_part(text)
    if raw is None and part is not None:  # "friday evening 8": with a part of the day, a number
        raw, text = _take_bare_hour(text)
    day, text = _take_day(text, today)
    day.fixed = [*days, *named, *day.fixed]
    if re.search(rf"\b(?:{_NEXT_WEEK})\b", text):
        raise WhenError("unparseable")  # "volgende week" without a weekday
    leftover = _leftover(text)
    if leftover and not day.named and re.search("[a-z]{3}", leftover):
        found = _dateparser_day(" ".join(text.split()), now_local=now_local, lang=lang)
        if found is not None:
            day.fixed, leftover = [found], ""
    if leftover or len(day.fixed) > 1:
        raise WhenError("unparseable")
    return raw, part, day


def _take_part(text: str) -> tuple[Part | None, str]:
    """The part of the day; said twice it must be the same part ("'s ochtends ... 's avonds")."""
    match, text = _take(_PART, text)
    if match is None:
        return None, text
    if any(other["part"] != match["part"] for other in _PART.finditer(text)):
        raise WhenError("unparseable")
    return _PARTS[match["part"]], _PART.sub(" ", text)


def _without_time(day: _Day, part: Part | None, today: date, last: date) -> WhenError:
    """Why a text without a clock time is no meeting time (``last``: the last day allowed)."""
    if not day.named and part is None:
        return WhenError("unparseable")
    if day.fixed and day.fixed[0] < today:
        return WhenError("past")  # "gisteren": no need to ask for a time
    if day.fixed and day.fixed[0] > last:
        return WhenError("too_far")  # "31-12-9999": no need to ask for a time
    return WhenError("no_time")
