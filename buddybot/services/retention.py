"""Rows that outlived their use go on a schedule (durations are settings; PRIVACY.md says
how long each is kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from buddybot.scheduling.due import Status
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import DueItem, Membership, Prompt

FINISHED = [Status.DONE, Status.SKIPPED, Status.FAILED, Status.CANCELLED]


@dataclass(frozen=True, slots=True)
class Retention:
    prompts: timedelta  # a question nobody answered (with what was typed so far)
    due_items: timedelta  # scheduled work that is finished, with its last error
    left_members: timedelta  # a membership after the person left the group


@dataclass(frozen=True, slots=True)
class Pruned:
    prompts: int
    due_items: int
    memberships: int


def prune(uow: UnitOfWork, keep: Retention) -> Pruned:
    """Delete what is older than its retention. A finished due item is never planned again
    once its moment has passed, so its key is not needed to keep a plan from repeating."""
    s = uow.session
    prompts = s.execute(delete(Prompt).where(Prompt.created_at < uow.now - keep.prompts))
    due_items = s.execute(
        delete(DueItem).where(
            DueItem.status.in_(FINISHED),
            DueItem.done_at.is_not(None),
            DueItem.done_at < uow.now - keep.due_items,
        )
    )
    members = s.execute(
        delete(Membership).where(
            Membership.left.is_(True), Membership.last_seen_at < uow.now - keep.left_members
        )
    )
    return Pruned(
        prompts=prompts.rowcount,  # type: ignore[attr-defined]
        due_items=due_items.rowcount,  # type: ignore[attr-defined]
        memberships=members.rowcount,  # type: ignore[attr-defined]
    )
