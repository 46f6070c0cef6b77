"""The quiet-idea ladder: when to nudge, and which concrete next step fits the idea.

Rung 1: a short message in the group. Rung 2: privately to the champion(s), or the author
when there is none. Rung 3: privately to the facilitators. After that the idea is left
alone until something happens (any activity starts the ladder again).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from buddybot.domain.lifecycle import State

LAST_RUNG = 3


class Step(StrEnum):
    CHAMPION = "champion"  # no champion yet: ask for one
    HELPERS = "helpers"  # a champion but no helpers: ask for helpers
    PARTNER = "partner"  # a matching partner not linked yet: suggest that partner
    MEETING = "meeting"  # selected but nothing planned: suggest a meeting
    NEWS = "news"  # otherwise: ask for news


def step_for(
    *,
    champions: int,
    helpers: int,
    partner: str | None,
    status: State,
    meeting_planned: bool,
) -> Step:
    if champions == 0:
        return Step.CHAMPION
    if helpers == 0:
        return Step.HELPERS
    if partner is not None:
        return Step.PARTNER
    if status in (State.SELECTED, State.IN_PROGRESS) and not meeting_planned:
        return Step.MEETING
    return Step.NEWS


def _hm(text: str) -> time:
    hour, minute = (int(p) for p in text.split(":"))
    return time(hour, minute)


def in_quiet_hours(local: datetime, start: str, end: str) -> bool:
    """True in the wijk's quiet hours (which may run over midnight, 21:00–09:00)."""
    now, a, b = local.time(), _hm(start), _hm(end)
    if a == b:
        return False
    return (now >= a or now < b) if a > b else (a <= now < b)


def next_allowed(
    now: datetime, zone: str, *, start: str, end: str, days: tuple[int, ...]
) -> datetime:
    """``now`` when a nudge may go out now, else the first moment it may (UTC)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if not days:
        raise ValueError("no days allowed")
    for _ in range(8 * 24 * 4):  # quarter-hour steps, at most eight days ahead
        if local.weekday() in days and not in_quiet_hours(local, start, end):
            return local.astimezone(ZoneInfo("UTC"))
        if in_quiet_hours(local, start, end) and local.weekday() in days:
            # jump to the end of the quiet hours
            end_t = _hm(end)
            candidate = local.replace(hour=end_t.hour, minute=end_t.minute, second=0, microsecond=0)
            local = candidate if candidate > local else candidate + timedelta(days=1)
            continue
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        local = midnight
    raise AssertionError("no allowed moment within eight days")
