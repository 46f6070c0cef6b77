"""/instellingen: a facilitator reads and changes the wijk's settings for nudges."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from buddybot.domain import lifecycle
from buddybot.domain.nudges import LAST_RUNG
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller, require_facilitator, wijk_to_change
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Idea, Wijk

ON = {"aan", "on", "ja", "yes"}
OFF = {"uit", "off", "nee", "no"}
HOURS = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")


def show(caller: Caller) -> WijkSettings:
    return WijkSettings.load(require_facilitator(caller).settings)


def change(uow: UnitOfWork, caller: Caller, key: str, value: str) -> WijkSettings:
    wijk = wijk_to_change(uow, require_facilitator(caller))
    current = WijkSettings.load(wijk.settings)
    key, value = key.lower(), value.strip().lower()
    if key in ("herinneringen", "nudges"):
        if value not in ON | OFF:
            raise Refusal("setting_value", setting=key, example="aan / uit")
        updated = current.with_(nudges=value in ON)
    elif key in ("na", "after"):
        try:
            days = float(value.replace(",", "."))
        except ValueError:
            raise Refusal("setting_value", setting=key, example="7") from None
        if not 0.5 <= days <= 60:
            raise Refusal("setting_value", setting=key, example="7")
        updated = current.with_(nudge_after=int(days * 86400))
    elif key in ("stilte", "quiet"):
        match = HOURS.match(value)
        if match is None:
            raise Refusal("setting_value", setting=key, example="21:00-09:00")
        a, b = f"{int(match[1]):02d}:{match[2]}", f"{int(match[3]):02d}:{match[4]}"
        updated = current.with_(quiet_start=a, quiet_end=b)
    elif key in ("dagen", "days"):
        chosen = _days(value)
        if not chosen:
            raise Refusal("setting_value", setting=key, example="ma,di,wo,do,vr")
        updated = current.with_(nudge_days=chosen)
    elif key == "max":
        if not (value.isascii() and value.isdigit()) or int(value) > 10:
            raise Refusal("setting_value", setting=key, example="2")
        updated = current.with_(nudge_cap=int(value))
    else:
        raise Refusal("setting_unknown", setting=key[:20])
    if updated.nudges and not current.nudges:
        _restart_ladders(uow, wijk, timedelta(seconds=updated.nudge_after))
    elif updated.nudge_after != current.nudge_after:
        _move_next_nudges(uow, wijk, timedelta(seconds=updated.nudge_after - current.nudge_after))
    wijk.settings = updated.dump()
    wijk.updated_at = uow.now
    return updated


def _move_next_nudges(uow: UnitOfWork, wijk: Wijk, shift: timedelta) -> None:
    """A new quiet time holds for the ideas that exist too: each open idea's next rung moves
    by the change (an idea 2 days quiet under "na 7" is nudged in 3 days under "na 5"),
    and never into the past: one already due under the new time comes due now."""
    ideas = uow.session.scalars(
        select(Idea).where(
            Idea.wijk_id == wijk.id,
            Idea.nudge_due_at.is_not(None),
            Idea.status.in_([s.value for s in lifecycle.OPEN]),
        )
    )
    for idea in ideas:
        if idea.nudge_due_at is not None:
            idea.nudge_due_at = max(idea.nudge_due_at + shift, uow.now)


DAY_NAMES = [
    ("ma", "mon"), ("di", "tue"), ("wo", "wed"), ("do", "thu"), ("vr", "fri"), ("za", "sat"),
    ("zo", "sun"),
]  # fmt: skip


def _days(value: str) -> tuple[int, ...]:
    """ "ma,di,wo" or "mon tue" → weekday numbers (0 = Monday); empty when unreadable."""
    found: set[int] = set()
    for word in re.split(r"[,\s]+", value.strip()):
        if not word:
            continue
        for i, names in enumerate(DAY_NAMES):
            if any(word.startswith(n) for n in names):
                found.add(i)
                break
        else:
            return ()
    return tuple(sorted(found))


def _restart_ladders(uow: UnitOfWork, wijk: Wijk, after: timedelta) -> None:
    """Nudges back on: a tick that came while they were off left open ideas without a next
    rung. Those with rungs to go are due again ``after`` their last activity (now at
    the earliest)."""
    ideas = uow.session.scalars(
        select(Idea).where(
            Idea.wijk_id == wijk.id,
            Idea.nudge_due_at.is_(None),
            Idea.nudge_level < LAST_RUNG,
            Idea.status.in_([s.value for s in lifecycle.OPEN]),
        )
    )
    for idea in ideas:
        idea.nudge_due_at = max(idea.last_activity_at + after, uow.now)
