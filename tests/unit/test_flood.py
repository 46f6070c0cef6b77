"""The per-person flood guard: a limit per minute, one warning, and no memory of people
who went quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from buddybot.handlers.flood import PRUNE_EVERY, WINDOW, FloodGuard

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_over_the_limit_one_warning_then_silence_until_the_minute_is_over() -> None:
    guard = FloodGuard(limit=3)
    answers = [guard.allow(7, T0 + timedelta(seconds=i)) for i in range(6)]
    assert answers == [(True, False)] * 3 + [(False, True), (False, False), (False, False)]
    assert guard.allow(8, T0 + timedelta(seconds=6)) == (True, False)  # others go on
    assert guard.allow(7, T0 + WINDOW + timedelta(seconds=1)) == (True, False)


def test_people_who_went_quiet_are_forgotten() -> None:
    guard = FloodGuard(limit=3)
    for user in range(5 * PRUNE_EVERY):  # a busy city: every resident once
        guard.allow(user, T0)
    assert guard.tracked > PRUNE_EVERY
    later = T0 + WINDOW + timedelta(seconds=1)
    for i in range(PRUNE_EVERY):  # one resident keeps pressing (and gets warned)
        guard.allow(-1, later + timedelta(milliseconds=i))
    assert guard.tracked == 1
    assert guard.allow(-1, later + timedelta(seconds=2)) == (False, False)  # still limited
