"""Queries shared by several services, and the few statements SQLite and PostgreSQL write
differently. Services call these by what they do; none of them asks which database it is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from buddybot.storage.models import Base, Membership, Person, Wijk


def _insert(session: Session, model: type[Base]) -> Any:
    """The dialect's own INSERT, which knows ON CONFLICT (both dialects spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def insert_ignore(
    session: Session, model: type[Base], values: dict[str, Any], keys: list[str]
) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING, so two replicas creating one row never
    collide. True when this call inserted the row."""
    stmt = _insert(session, model).values(values).on_conflict_do_nothing(index_elements=keys)
    inserted = session.execute(stmt.returning(*inspect(model).primary_key)).first()
    return inserted is not None


def upsert(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    keys: list[str],
    columns: list[str],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns: the row exists afterwards with
    these values, whoever wrote it first (an RSVP, a vote)."""
    stmt = _insert(session, model)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
    )
    session.execute(stmt, values)


def locked(session: Session) -> bool:
    """Whether ``SELECT … FOR UPDATE`` takes a row lock here. On SQLite a transaction holds
    the whole database already (it begins IMMEDIATE), so there is nothing more to lock."""
    return session.get_bind().dialect.name == "postgresql"


def wijk_by_chat(session: Session, tg_chat_id: int) -> Wijk | None:
    return session.scalars(select(Wijk).where(Wijk.tg_chat_id == tg_chat_id)).one_or_none()


def person_by_tg(session: Session, tg_user_id: int) -> Person | None:
    return session.scalars(select(Person).where(Person.tg_user_id == tg_user_id)).one_or_none()


def membership(session: Session, wijk_id: int, person_id: int) -> Membership | None:
    return session.scalars(
        select(Membership).where(Membership.wijk_id == wijk_id, Membership.person_id == person_id)
    ).one_or_none()


def lock_wijk(session: Session, wijk_id: int) -> None:
    """Serialise numbering in one wijk across replicas: a row lock on PostgreSQL; SQLite
    transactions are one at a time already. SQLAlchemy renders FOR UPDATE only where the
    database has it."""
    session.execute(select(Wijk.id).where(Wijk.id == wijk_id).with_for_update())
