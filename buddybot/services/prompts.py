"""Questions the bot asked and waits an answer to (a reply to its message)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select

from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Prompt


def ask(
    uow: UnitOfWork,
    *,
    tg_chat_id: int,
    message_id: int,
    person_id: int,
    wijk_id: int | None,
    kind: str,
    payload: dict[str, Any] | None = None,
) -> None:
    uow.session.add(
        Prompt(
            tg_chat_id=tg_chat_id,
            message_id=message_id,
            person_id=person_id,
            wijk_id=wijk_id,
            kind=kind,
            payload=payload or {},
            created_at=uow.now,
        )
    )


def take(
    uow: UnitOfWork,
    *,
    tg_chat_id: int,
    message_id: int,
    person_id: int | None,
    kind: str | Collection[str],
) -> Prompt | None:
    """The open prompt this message answers, removed so it is answered once; None when the
    message answers no prompt of this kind (or kinds), or somebody else's."""
    kinds = [kind] if isinstance(kind, str) else list(kind)
    prompt = uow.session.scalar(
        select(Prompt).where(
            Prompt.tg_chat_id == tg_chat_id,
            Prompt.message_id == message_id,
            Prompt.kind.in_(kinds),
        )
    )
    if prompt is None or (person_id is not None and prompt.person_id != person_id):
        return None
    # DELETE … RETURNING: of two answers at once (two replicas) only one gets the prompt.
    taken = uow.session.scalar(delete(Prompt).where(Prompt.id == prompt.id).returning(Prompt.id))
    return prompt if taken is not None else None
