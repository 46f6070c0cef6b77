"""Queries shared by several services, and the few statements SQLite and PostgreSQL write
differently. Services call these by what they do; none of them asks which database it is."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table, bindparam, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from buddybot.storage.models import Base, Membership, Partner, Person, Wijk


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore(
    session: Session, model: type[Base], values: dict[str, Any], keys: list[str]
) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING, so two replicas creating one row never
    collide. True when this call inserted the row."""
    stmt = _inserting(_dialect(session), model, tuple(values), tuple(keys))
    return session.execute(stmt, values).first() is not None


def upsert(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    keys: list[str],
    columns: list[str],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns: the row exists afterwards with
    these values, whoever wrote it first (an RSVP, a vote)."""
    session.execute(_upserting(_dialect(session), model, tuple(keys), tuple(columns)), values)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Both statements are built once per shape (support presses, RSVPs and votes run them):
# the values come as bind parameters.
@functools.cache
def _inserting(
    dialect: str, model: type[Base], columns: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(_table(model))
        .values({c: bindparam(c) for c in columns})
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*inspect(model).primary_key)
    )


@functools.cache
def _upserting(
    dialect: str, model: type[Base], keys: tuple[str, ...], columns: tuple[str, ...]
) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(_table(model))
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
    )


_WIJK_BY_CHAT = select(Wijk).where(Wijk.tg_chat_id == bindparam("chat"))
_PERSON_BY_TG = select(Person).where(Person.tg_user_id == bindparam("user"))
_MEMBERSHIP = select(Membership).where(
    Membership.wijk_id == bindparam("wijk"), Membership.person_id == bindparam("person")
)


def wijk_by_chat(session: Session, tg_chat_id: int) -> Wijk | None:
    return session.scalars(_WIJK_BY_CHAT, {"chat": tg_chat_id}).one_or_none()


def person_by_tg(session: Session, tg_user_id: int) -> Person | None:
    return session.scalars(_PERSON_BY_TG, {"user": tg_user_id}).one_or_none()


def membership(session: Session, wijk_id: int, person_id: int) -> Membership | None:
    return session.scalars(_MEMBERSHIP, {"wijk": wijk_id, "person": person_id}).one_or_none()


def lock_partner(session: Session, partner_id: int) -> Partner | None:
    """The partner, read anew under a row lock on PostgreSQL (SQLite transactions are one at
    a time already): the invitations of one partner are made and used one after another."""
    return session.scalar(
        select(Partner)
        .where(Partner.id == partner_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def lock_wijk(session: Session, wijk_id: int) -> None:
    """Serialise numbering in one wijk across replicas: a row lock on PostgreSQL; SQLite
    transactions are one at a time already. SQLAlchemy renders FOR UPDATE only where the
    database has it."""
    session.execute(select(Wijk.id).where(Wijk.id == wijk_id).with_for_update())
