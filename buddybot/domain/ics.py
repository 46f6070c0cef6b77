"""A calendar file (RFC 5545, ``.ics``) for a neighbourhood meeting.

Pure functions, no I/O and no clock: the DTSTAMP is passed in. The file holds one
VCALENDAR with one VTIMEZONE (the wijk's zone, generated from ``zoneinfo`` so calendar
apps show the right local time on both sides of daylight saving) and one VEVENT.

A planned or moved meeting is ``METHOD:PUBLISH`` / ``STATUS:CONFIRMED``; a cancelled one is
``METHOD:CANCEL`` / ``STATUS:CANCELLED``. A calendar app recognises the update by the same
UID with a higher SEQUENCE, so the caller keeps the UID stable per meeting and adds one to
the sequence on every reschedule or cancellation.

Escaping of text (commas, semicolons, newlines), UTF-8, CRLF line endings and line folding
are left to ``icalendar`` (needs ``Timezone.from_tzinfo``: icalendar 6.1 or newer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone

from buddybot.domain.themes import fold

PRODID = "-//buddybot//buddy in de wijk//NL"
FILENAME_PREFIX = "bijeenkomst"
FILENAME_MAX = 60

# Control characters are not allowed in iCalendar text values (RFC 5545 §3.3.11);
# newlines and tabs are kept (a newline becomes "\n" in the file). C1 controls go too.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
# Line breaks other than CR and LF (NEL, LINE and PARAGRAPH SEPARATOR) become "\n" as well,
# so that no reader that splits lines on them sees a new property or component.
_OTHER_BREAKS_RE = re.compile("[\x85\u2028\u2029]")
_NOT_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class MeetingEvent:
    """One meeting, as it goes into a calendar file."""

    uid: str  # stable per meeting, e.g. "meeting-42@buddybot" (the caller builds it)
    sequence: int  # 0 first; +1 on every reschedule or cancellation
    title: str
    start: datetime  # aware
    duration: timedelta  # positive, e.g. 2 hours
    zone: str  # the wijk's IANA time zone, e.g. "Europe/Amsterdam"
    place: str
    details: str
    organiser: str  # a display name, may be ""
    cancelled: bool = False
    url: str | None = None


def meeting_ics(
    event: MeetingEvent, *, stamp: datetime, organiser_label: str = "Organisatie"
) -> bytes:
    """A VCALENDAR with one VEVENT, as UTF-8 bytes with CRLF line endings.

    ``stamp`` (aware) becomes DTSTAMP, in UTC. The organiser, when given, is mentioned at
    the end of the description as "<organiser_label>: <organiser>" (there is no e-mail
    address, so no ORGANIZER property); pass a translated label for other languages.

    Raises ``ValueError`` for a naive ``start`` or ``stamp``, a duration that is not
    positive, a negative sequence, an empty UID, an unknown time zone or a ``url`` with a
    line break (``icalendar`` refuses it: a URI is not escaped).
    """
    if not event.uid.strip():
        raise ValueError("uid must not be empty")
    if event.sequence < 0:
        raise ValueError(f"sequence must be 0 or more, not {event.sequence}")
    if event.duration <= timedelta(0):
        raise ValueError(f"duration must be positive, not {event.duration}")
    _require_aware(event.start, "start")
    _require_aware(stamp, "stamp")
    zone = _zone(event.zone)

    start = event.start.astimezone(zone)
    end = (event.start + event.duration).astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if event.cancelled else "PUBLISH")
    calendar.add_component(
        Timezone.from_tzinfo(
            zone,
            tzid=event.zone,
            first_date=date(start.year - 1, 1, 1),
            last_date=date(end.year + 2, 1, 1),
        )
    )

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", _text(event.title))
    if event.place.strip():
        vevent.add("location", _text(event.place))
    description = _description(event.details, event.organiser, organiser_label)
    if description:
        vevent.add("description", description)
    if event.url:
        vevent.add("url", _text(event.url).strip())
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    calendar.add_component(vevent)
    ical: bytes = calendar.to_ical()
    return ical


def filename(title: str, number: int) -> str:
    """A safe ASCII filename like "bijeenkomst-3-moestuin-op-het-plein.ics".

    Lowercase, accents stripped, every run of other characters one dash; the title part is
    cut at a dash so the whole name is at most ``FILENAME_MAX`` characters. A title with
    nothing usable gives "bijeenkomst-3.ics".
    """
    if number < 0:
        raise ValueError(f"number must be 0 or more, not {number}")
    head = f"{FILENAME_PREFIX}-{number}"
    slug = _NOT_SLUG_RE.sub("-", fold(title)).strip("-")
    room = FILENAME_MAX - len(head) - len("-") - len(".ics")
    if len(slug) > room:
        cut = slug[: room + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:room]
        slug = slug.strip("-")
    return f"{head}-{slug}.ics" if slug else f"{head}.ics"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error


def _text(value: str) -> str:
    """Line endings normalised to "\\n", control characters other than tab/newline gone.
    ``icalendar`` then escapes newlines, commas, semicolons and backslashes: user text cannot
    start a property or a component ("\\nBEGIN:VEVENT" stays inside the value)."""
    value = _OTHER_BREAKS_RE.sub("\n", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL_RE.sub("", value)


def _description(details: str, organiser: str, label: str) -> str:
    parts = [_text(details).strip()]
    if organiser.strip():
        parts.append(_text(f"{label}: {_text(organiser).strip()}"))
    return "\n\n".join(part for part in parts if part)
