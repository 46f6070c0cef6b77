"""Who may steer a wijk. One place, so every command asks the same question."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    FACILITATOR = "facilitator"
    BUDDY = "buddy"


# The roles given in the bot that steer a wijk (while the person is still in its group).
STEERING = (Role.FACILITATOR, Role.BUDDY)


def is_facilitator(
    *,
    role: str | None,
    telegram_admin: bool,
    anonymous_admin: bool,
    superadmin: bool,
) -> bool:
    """Group admins (also anonymous ones), appointed facilitators, the buddy, super-admins."""
    return superadmin or telegram_admin or anonymous_admin or role in STEERING


def may_appoint(*, telegram_admin: bool, anonymous_admin: bool, superadmin: bool) -> bool:
    """Only the group's own admins (and super-admins) hand out roles."""
    return superadmin or telegram_admin or anonymous_admin
