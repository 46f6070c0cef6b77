"""Rows that outlived their use go on a schedule (durations are settings; PRIVACY.md says
how long each is kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_

from buddybot.scheduling.due import Status
from buddybot.services.ideas import HELD
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import DueItem, IdeaEvent, Membership, PartnerInvite, Prompt

FINISHED = [Status.DONE, Status.SKIPPED, Status.FAILED, Status.CANCELLED]


@dataclass(frozen=True, slots=True)
class Retention:
    prompts: timedelta  # a question nobody answered (with what was typed so far), and
    # a helper's news nobody approved or refused (with its text)
    due_items: timedelta  # scheduled work that is finished, with its last error
    left_members: timedelta  # a membership after the person left the group
    invites: timedelta  # a partner's invitation after it was used or expired


@dataclass(frozen=True, slots=True)
class Pruned:
    prompts: int
    due_items: int
    memberships: int
    held_news: int
    invites: int


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
    held = s.execute(
        delete(IdeaEvent).where(IdeaEvent.kind == HELD, IdeaEvent.at < uow.now - keep.prompts)
    )
    # A used or expired invitation opens nothing any more; the partner's link stays.
    invites = s.execute(
        delete(PartnerInvite).where(
            or_(
                PartnerInvite.used_at < uow.now - keep.invites,
                PartnerInvite.expires_at < uow.now - keep.invites,
            )
        )
    )
    return Pruned(
        prompts=prompts.rowcount,  # type: ignore[attr-defined]
        due_items=due_items.rowcount,  # type: ignore[attr-defined]
        memberships=members.rowcount,  # type: ignore[attr-defined]
        held_news=held.rowcount,  # type: ignore[attr-defined]
        invites=invites.rowcount,  # type: ignore[attr-defined]
    )
