"""Who may steer a wijk. One place, so every command asks the same question."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    FACILITATOR = "facilitator"
    BUDDY = "buddy"


def is_facilitator(
    *,
    role: str | None,
    telegram_admin: bool,
    anonymous_admin: bool,
    superadmin: bool,
) -> bool:
    """Group admins (also anonymous ones), appointed facilitators, the buddy, super-admins."""
    return superadmin or telegram_admin or anonymous_admin or role in (Role.FACILITATOR, Role.BUDDY)


def may_appoint(*, telegram_admin: bool, anonymous_admin: bool, superadmin: bool) -> bool:
    """Only the group's own admins (and super-admins) hand out roles."""
    return superadmin or telegram_admin or anonymous_admin
