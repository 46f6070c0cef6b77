"""The meeting calendar file: parsed back with icalendar, checked property by property."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Component

from buddybot.domain.ics import PRODID, MeetingEvent, filename, meeting_ics

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
STAMP = datetime(2025, 11, 1, 9, 15, tzinfo=UTC)


def meeting(**changes: object) -> MeetingEvent:
    base = MeetingEvent(
        uid="meeting-42@buddybot",
        sequence=0,
        title="Moestuin op het plein",
        start=datetime(2025, 12, 10, 18, 30, tzinfo=UTC),  # 19:30 in Amsterdam (CET)
        duration=timedelta(hours=2),
        zone="Europe/Amsterdam",
        place="Buurthuis De Ster",
        details="We kiezen samen de plek.",
        organiser="Anna de Vries",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def parse(event: MeetingEvent, stamp: datetime = STAMP) -> tuple[Calendar, Component]:
    calendar = Calendar.from_ical(meeting_ics(event, stamp=stamp))
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def local_start(vevent: Component) -> datetime:
    start = vevent.decoded("DTSTART")
    assert isinstance(start, datetime)
    return start


@pytest.mark.parametrize(
    ("start_utc", "offset_hours"),
    [
        (datetime(2025, 12, 10, 18, 30, tzinfo=UTC), 1),  # winter: CET
        (datetime(2025, 7, 10, 17, 30, tzinfo=UTC), 2),  # summer: CEST
    ],
)
def test_local_start_is_1930_in_the_wijk_zone(start_utc: datetime, offset_hours: int) -> None:
    _, vevent = parse(meeting(start=start_utc))
    start = local_start(vevent)
    assert (start.hour, start.minute) == (19, 30)
    assert start.utcoffset() == timedelta(hours=offset_hours)
    assert start == start_utc
    assert vevent["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert vevent["DTEND"].params["TZID"] == "Europe/Amsterdam"
    assert vevent.decoded("DTEND") == start_utc + timedelta(hours=2)


def test_raw_lines_carry_tzid_and_local_wall_clock() -> None:
    raw = meeting_ics(meeting(), stamp=STAMP).decode()
    assert "DTSTART;TZID=Europe/Amsterdam:20251210T193000\r\n" in raw
    assert "DTEND;TZID=Europe/Amsterdam:20251210T213000\r\n" in raw
    assert "DTSTAMP:20251101T091500Z\r\n" in raw


def test_start_given_in_another_zone_is_converted() -> None:
    start = datetime(2025, 12, 10, 13, 30, tzinfo=ZoneInfo("America/New_York"))
    _, vevent = parse(meeting(start=start))
    assert local_start(vevent).replace(tzinfo=None) == datetime(2025, 12, 10, 19, 30)


def test_dtend_is_start_plus_duration_across_a_dst_change() -> None:
    # the night the clocks go back: 23:00 CEST + 5 hours real time = 03:00 CET
    start = datetime(2025, 10, 25, 21, 0, tzinfo=UTC)
    _, vevent = parse(meeting(start=start, duration=timedelta(hours=5)))
    end = vevent.decoded("DTEND")
    # (aware datetimes sharing one tzinfo subtract as wall clocks, so compare in UTC)
    assert end.astimezone(UTC) - local_start(vevent).astimezone(UTC) == timedelta(hours=5)
    assert end.astimezone(AMSTERDAM).replace(tzinfo=None) == datetime(2025, 10, 26, 3, 0)


def test_vtimezone_has_standard_and_daylight() -> None:
    calendar, _ = parse(meeting())
    [timezone] = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Amsterdam"
    assert timezone.walk("STANDARD")
    assert timezone.walk("DAYLIGHT")
    offsets = {sub.decoded("TZOFFSETTO") for sub in timezone.subcomponents}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}
    # the zone comes before the event that uses it
    names = [sub.name for sub in calendar.subcomponents]
    assert names == ["VTIMEZONE", "VEVENT"]


def test_calendar_header_and_planned_status() -> None:
    calendar, vevent = parse(meeting())
    assert calendar["PRODID"] == PRODID == "-//buddybot//buddy in de wijk//NL"
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "PUBLISH"
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent["UID"] == "meeting-42@buddybot"
    assert vevent.decoded("SEQUENCE") == 0
    assert vevent["SUMMARY"] == "Moestuin op het plein"
    assert vevent["LOCATION"] == "Buurthuis De Ster"
    assert vevent.decoded("DTSTAMP") == STAMP
    assert "URL" not in vevent


def test_dtstamp_is_utc_whatever_zone_it_is_given_in() -> None:
    stamp = datetime(2025, 11, 1, 10, 15, tzinfo=AMSTERDAM)
    raw = meeting_ics(meeting(), stamp=stamp).decode()
    assert "DTSTAMP:20251101T091500Z\r\n" in raw


def test_same_input_gives_the_same_bytes() -> None:
    assert meeting_ics(meeting(), stamp=STAMP) == meeting_ics(meeting(), stamp=STAMP)


def test_reschedule_keeps_uid_and_raises_sequence() -> None:
    first = meeting()
    moved = dataclasses.replace(first, sequence=1, start=datetime(2026, 1, 14, 18, 30, tzinfo=UTC))
    _, before = parse(first)
    calendar, after = parse(moved)
    assert before["UID"] == after["UID"] == "meeting-42@buddybot"
    assert (before.decoded("SEQUENCE"), after.decoded("SEQUENCE")) == (0, 1)
    assert calendar["METHOD"] == "PUBLISH"
    assert after["STATUS"] == "CONFIRMED"
    assert local_start(after).replace(tzinfo=None) == datetime(2026, 1, 14, 19, 30)


def test_cancel_variant() -> None:
    _, planned = parse(meeting(sequence=1))
    calendar, cancelled = parse(meeting(sequence=2, cancelled=True))
    assert calendar["METHOD"] == "CANCEL"
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["UID"] == planned["UID"]
    assert cancelled.decoded("SEQUENCE") > planned.decoded("SEQUENCE")
    # still a complete event, so an app that shows it knows which one is off
    assert local_start(cancelled) == local_start(planned)
    assert cancelled["SUMMARY"] == planned["SUMMARY"]


def test_location_commas_and_semicolons_are_escaped() -> None:
    place = "Buurthuis, zaal 2; achterom"
    raw = meeting_ics(meeting(place=place), stamp=STAMP).decode()
    assert "LOCATION:Buurthuis\\, zaal 2\\; achterom\r\n" in raw
    _, vevent = parse(meeting(place=place))
    assert vevent["LOCATION"] == place


def test_multiline_description_with_html_and_emoji_round_trips() -> None:
    details = "Neem mee: <b>schep</b> & handschoenen 🌱\nKoffie ☕, thee; koek\r\nTot dan!"
    raw = meeting_ics(meeting(details=details, organiser=""), stamp=STAMP)
    text = raw.decode("utf-8")
    unfolded = text.replace("\r\n ", "")
    assert "\\n" in unfolded
    assert "\\, thee\\; koek" in unfolded
    assert "<b>schep</b> & handschoenen 🌱" in unfolded  # not HTML-escaped: it is plain text
    _, vevent = parse(meeting(details=details, organiser=""))
    assert vevent["DESCRIPTION"] == details.replace("\r\n", "\n")


def test_emoji_and_html_in_title_round_trip() -> None:
    title = "Repair café 🔧 <i>voor iedereen</i>, ook jij; echt"
    _, vevent = parse(meeting(title=title))
    assert vevent["SUMMARY"] == title


def test_organiser_is_in_the_description_not_a_property() -> None:
    _, vevent = parse(meeting(organiser="Anna de Vries"))
    assert "ORGANIZER" not in vevent
    assert vevent["DESCRIPTION"] == "We kiezen samen de plek.\n\nOrganisatie: Anna de Vries"
    _, english = parse_with_label("Organiser")
    assert str(english["DESCRIPTION"]).endswith("\n\nOrganiser: Anna de Vries")
    _, anonymous = parse(meeting(organiser=""))
    assert anonymous["DESCRIPTION"] == "We kiezen samen de plek."


def parse_with_label(label: str) -> tuple[Calendar, Component]:
    calendar = Calendar.from_ical(meeting_ics(meeting(), stamp=STAMP, organiser_label=label))
    return calendar, calendar.walk("VEVENT")[0]


def test_empty_place_and_details_are_left_out() -> None:
    _, vevent = parse(meeting(place="  ", details="", organiser=""))
    assert "LOCATION" not in vevent
    assert "DESCRIPTION" not in vevent


def test_url_when_given() -> None:
    _, vevent = parse(meeting(url="https://t.me/c/123/456"))
    assert vevent["URL"] == "https://t.me/c/123/456"


def test_control_characters_are_dropped() -> None:
    _, vevent = parse(meeting(title="Koffie\x00\x07 ochtend\x1b", details="a\tb"))
    assert vevent["SUMMARY"] == "Koffie ochtend"
    assert str(vevent["DESCRIPTION"]).startswith("a\tb")


def test_crlf_line_endings_and_folding() -> None:
    long_details = "Een heel lang verhaal over de moestuin met tomaten en bonen. " * 20
    raw = meeting_ics(meeting(details=long_details, title="Ééééé 🌱" * 30), stamp=STAMP)
    assert raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # folded
    _, vevent = parse(meeting(details=long_details))
    assert str(vevent["DESCRIPTION"]).startswith(long_details.strip())


@pytest.mark.parametrize(
    "change",
    [
        {"start": datetime(2025, 12, 10, 19, 30)},  # naive
        {"duration": timedelta(0)},
        {"duration": timedelta(hours=-1)},
        {"sequence": -1},
        {"uid": " "},
        {"zone": "Europe/Nergenshuizen"},
        {"zone": "../etc/passwd"},
    ],
)
def test_bad_input_raises_value_error(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        meeting_ics(meeting(**change), stamp=STAMP)


def test_naive_stamp_raises_value_error() -> None:
    with pytest.raises(ValueError):
        meeting_ics(meeting(), stamp=datetime(2025, 11, 1, 9, 15))


# --- filename -------------------------------------------------------------------------

SAFE = re.compile(r"^[a-z0-9-]+\.ics$")


@pytest.mark.parametrize(
    ("title", "number", "expected"),
    [
        ("Moestuin op het plein", 3, "bijeenkomst-3-moestuin-op-het-plein.ics"),
        ("Moestuin op het plein!", 3, "bijeenkomst-3-moestuin-op-het-plein.ics"),
        ("Één café, één crèche", 7, "bijeenkomst-7-een-cafe-een-creche.ics"),
        ("  Buurt   BBQ  ", 1, "bijeenkomst-1-buurt-bbq.ics"),
        ("<b>Vet</b> & zo; ../../etc", 2, "bijeenkomst-2-b-vet-b-zo-etc.ics"),
        ("Straßenfest", 4, "bijeenkomst-4-strassenfest.ics"),
        ("🌱🌱🌱", 5, "bijeenkomst-5.ics"),
        ("", 6, "bijeenkomst-6.ics"),
    ],
)
def test_filename(title: str, number: int, expected: str) -> None:
    assert filename(title, number) == expected


def test_long_filename_is_cut_at_a_word() -> None:
    title = "Een hele lange titel over de moestuin op het plein achter de basisschool"
    name = filename(title, 123)
    assert len(name) <= 60
    assert SAFE.match(name)
    assert name.startswith("bijeenkomst-123-een-hele-lange-titel")
    assert "--" not in name
    assert not name.removesuffix(".ics").endswith("-")
    assert (
        title.casefold()
        .replace(" ", "-")
        .startswith(name.removeprefix("bijeenkomst-123-").removesuffix(".ics"))
    )


def test_long_single_word_filename_is_cut_hard() -> None:
    name = filename("x" * 200, 9)
    assert len(name) == 60
    assert SAFE.match(name)


@pytest.mark.parametrize(
    "title",
    ["Koffie ☕ & taart 🍰", "Ørestad / Zuid\\Noord", "a\x00b\nc", "İstanbul-avond", "  -  "],
)
def test_filename_is_always_safe(title: str) -> None:
    name = filename(title, 10)
    assert SAFE.match(name), name
    assert len(name) <= 60
    assert "--" not in name


def test_filename_rejects_negative_number() -> None:
    with pytest.raises(ValueError):
        filename("x", -1)


# -- hostile text: it stays inside its value ----------------------------------------------------

INJECTIONS = [
    "\nBEGIN:VEVENT\nSUMMARY:evil\nEND:VEVENT\n",
    "\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\n",
    "\rATTACH:http://evil\r",
    "\u2028BEGIN:VALARM\u2029",
    "\x85ORGANIZER:x",
    ";", ",", ":", "\\", "\\n", "\\;", '"', "=", "\t", " ", "\n ", "\x00", "\x1c", "\x7f", "\x9b",
    "DESCRIPTION;LANGUAGE=en:x", "💡", "مرحبا", "x" * 80,
]  # fmt: skip
hostile = st.lists(
    st.one_of(st.sampled_from(INJECTIONS), st.text(st.characters(exclude_categories=("Cs",)))),
    max_size=8,
).map("".join)


def _expected(text: str) -> str:
    """What a text value reads as after the round trip (line breaks as "\\n", no controls)."""
    text = re.sub("[\x85\u2028\u2029]", "\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]", "", text)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(title=hostile, place=hostile, details=hostile, organiser=hostile, label=hostile)
def test_hostile_text_never_makes_a_property_or_a_component(
    title: str, place: str, details: str, organiser: str, label: str
) -> None:
    event = meeting(title=title, place=place, details=details, organiser=organiser)
    data = meeting_ics(event, stamp=STAMP, organiser_label=label)
    # every reader, also one that splits lines on any Unicode line break, sees one event
    lines = data.decode("utf-8").replace("\r\n ", "").splitlines()
    assert [line for line in lines if line.startswith("BEGIN:")] == [
        "BEGIN:VCALENDAR", "BEGIN:VTIMEZONE", "BEGIN:STANDARD", "BEGIN:DAYLIGHT",
        "BEGIN:STANDARD", "BEGIN:VEVENT",
    ]  # fmt: skip
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in lines]
    vevent_names = names[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]
    allowed = {"UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION"}
    assert set(vevent_names) <= allowed | {"DESCRIPTION", "STATUS"}, vevent_names
    calendar = Calendar.from_ical(data)
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE", "VEVENT"]
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == _expected(title)
    if _expected(place).strip():
        assert str(vevent["LOCATION"]) == _expected(place)
    if "DESCRIPTION" in vevent:
        assert _expected(details).strip() in str(vevent["DESCRIPTION"])


def test_a_url_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        meeting_ics(meeting(url="https://x.nl/\nBEGIN:VEVENT"), stamp=STAMP)
