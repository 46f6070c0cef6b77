"""Queries shared by several services."""

from __future__ import annotations

import functools
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert

from buddybot.storage.models import Base, Membership, Person, Wijk


class HasSession(Protocol):
    @property
    def session(self) -> AsyncSession: ...


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], keys: list[str]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING, so two replicas creating one row never collide."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    await session.execute(insert_ignoring(dialect, model, tuple(keys)), values)


@functools.cache
def insert_ignoring(dialect: str, model: type[Base], keys: tuple[str, ...]) -> Executable:
    """Built once per table: the values come as parameters (support presses run it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=list(keys))


@functools.cache
def upserting(
    dialect: str, model: type[Base], keys: tuple[str, ...], columns: tuple[str, ...]
) -> Insert:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns, built once per shape: one
    statement instead of a read and a write (an RSVP, a vote)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
    )


async def wijk_by_chat(session: AsyncSession, tg_chat_id: int) -> Wijk | None:
    result = await session.execute(select(Wijk).where(Wijk.tg_chat_id == tg_chat_id))
    return result.scalar_one_or_none()


async def person_by_tg(session: AsyncSession, tg_user_id: int) -> Person | None:
    result = await session.execute(select(Person).where(Person.tg_user_id == tg_user_id))
    return result.scalar_one_or_none()


async def membership(session: AsyncSession, wijk_id: int, person_id: int) -> Membership | None:
    result = await session.execute(
        select(Membership).where(Membership.wijk_id == wijk_id, Membership.person_id == person_id)
    )
    return result.scalar_one_or_none()


async def lock_wijk(uow: HasSession, wijk_id: int) -> None:
    """Serialise numbering in one wijk across replicas (row lock on PostgreSQL; SQLite
    transactions are already one at a time)."""
    session = uow.session
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(select(Wijk.id).where(Wijk.id == wijk_id).with_for_update())
