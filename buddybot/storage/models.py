"""SQLAlchemy models. The schema only changes through a migration in ``migrations/``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from buddybot.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Wijk(Base):
    """One neighbourhood = one group chat. Keyed by a surrogate id: the chat id can change."""

    __tablename__ = "wijk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg_chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    title: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The omgevingsfoto: identity, rhythm, social structure, channels, places (free text).
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Person(Base):
    """A Telegram user, across wijken. An erased person keeps no name."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    # Chosen with /taal; None means: follow Telegram's language_code.
    language: Mapped[str | None] = mapped_column(String(8))
    tg_language_code: Mapped[str | None] = mapped_column(String(16))
    # True once the person opened a private chat with the bot (so it may write to them).
    private_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    # False: show this person on idea cards as a count only, never by name.
    show_name: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # True: a champion of a similar idea may contact this person (asked in private).
    contact_ok: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # True: this person asked for no more reminders about quiet ideas.
    no_nudges: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ErasedPerson(Base):
    """Someone who asked to be forgotten: a keyed hash (HMAC) of their Telegram id, no more.

    It lets the bot recognise them without storing who they are, so that a mere message does
    not store them again; only an action that needs them (/start, support, a vote) does."""

    __tablename__ = "erased_person"

    tg_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime]


class NamedMessage(Base):
    """A message the bot sent to a group that only announced this person (a new champion,
    news by them, a new role). Deleted, or blanked, when the person is forgotten."""

    __tablename__ = "named_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"), index=True)
    tg_chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]


class Membership(Base):
    """Person x wijk, with the role the bot gave them (Telegram admins are checked live)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("wijk_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="resident")
    left: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update changes nothing."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)


class DueItem(Base):
    """One piece of scheduled work. The tick claims due rows atomically and delivers them."""

    __tablename__ = "due_item"
    __table_args__ = (Index("ix_due_item_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    wijk_id: Mapped[int | None] = mapped_column(
        ForeignKey("wijk.id", ondelete="CASCADE"), index=True
    )
    # Makes scheduling idempotent: the same reminder is never planned twice.
    key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]


class Idea(Base):
    """An idea of a wijk. ``number`` is what people see: #3 of one wijk is not #3 of another."""

    __tablename__ = "idea"
    __table_args__ = (
        UniqueConstraint("wijk_id", "number"),
        Index("ix_idea_wijk_status_activity", "wijk_id", "status", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    # Entered by a facilitator for someone at an offline evening: that someone's name.
    on_behalf_of: Mapped[str | None] = mapped_column(String(100))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # The time of the newest IdeaEvent; kept by ideas.record() so "quiet" is one indexed query.
    last_activity_at: Mapped[datetime]
    # The quiet-idea ladder: the next rung is due at ``nudge_due_at`` (indexed, so the tick
    # reads only what is due); any activity resets it.
    nudge_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    nudge_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # The newest card message in the group, edited in place when counts change.
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(Integer)


class Involvement(Base):
    """A person behind an idea: supporter, helper or champion (wijkkampioen)."""

    __tablename__ = "involvement"
    __table_args__ = (UniqueConstraint("idea_id", "person_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # A champion waiting for a facilitator's confirmation (when the wijk asks for that).
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class IdeaEvent(Base):
    """The activity log of an idea: every action, by whom, when."""

    __tablename__ = "idea_event"
    __table_args__ = (Index("ix_idea_event_idea_at", "idea_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class Prompt(Base):
    """The bot asked someone a question; their reply to that message is the answer.

    Kept in the database so a restart between question and answer loses nothing."""

    __tablename__ = "prompt"
    __table_args__ = (UniqueConstraint("tg_chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg_chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    wijk_id: Mapped[int | None] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Meeting(Base):
    """A neighbourhood meeting. ``sequence`` goes up with every move or cancel (calendar files
    and reminders follow it)."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("wijk_id", "number"),
        Index("ix_meeting_wijk_status_starts", "wijk_id", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    place: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    # draft (waiting for the facilitator's "Klopt"), planned, moved, cancelled, held
    status: Mapped[str] = mapped_column(String(16), default="draft")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(Integer)


class Rsvp(Base):
    __tablename__ = "rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(8))  # yes, maybe, no
    at: Mapped[datetime]


class Announcement(Base):
    """A text the bot posts in the group at a set time, once or every week.

    Weekly ones keep their local weekday and time, so a daylight-saving change does not
    move them an hour."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    next_at: Mapped[datetime]
    weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    local_time: Mapped[str] = mapped_column(String(5))  # "19:30" in the wijk's zone
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done, cancelled
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class Poll(Base):
    """A vote in the group: a Telegram poll the bot closes itself at the deadline."""

    __tablename__ = "poll"
    __table_args__ = (UniqueConstraint("wijk_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # Telegram's poll id: poll_answer updates carry no chat, only this.
    tg_poll_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    tg_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(300))
    # [{"text": "...", "idea_id": 12 | None}, ...]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    counts: Mapped[list[int]] = mapped_column(JSON, default=list)
    voters: Mapped[int] = mapped_column(Integer, default=0)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, open, closed
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class PollVote(Base):
    """Who voted for what, for open (non-anonymous) votes only."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    option_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    at: Mapped[datetime]


class Partner(Base):
    """A partner of the wijk's sociale alliantie: who they are and what they offer."""

    __tablename__ = "partner"
    __table_args__ = (UniqueConstraint("wijk_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    offer: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    # The partner's own Telegram account, so the bot can tell them about linked ideas.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class PartnerInvite(Base):
    """A single-use invitation for a partner to link their own Telegram account.

    Only a hash of the secret in the link is stored: the database alone cannot be used
    to open it. ``replaces_person_id``: the account the partner was linked to when a
    facilitator asked for this invitation; using it may replace that link and no other."""

    __tablename__ = "partner_invite"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    replaces_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class IdeaPartner(Base):
    __tablename__ = "idea_partner"
    __table_args__ = (UniqueConstraint("idea_id", "partner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    at: Mapped[datetime]


class Nudge(Base):
    """One rung of the quiet-idea ladder that was sent (never sent twice)."""

    __tablename__ = "nudge"
    __table_args__ = (Index("ix_nudge_wijk_sent", "wijk_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    wijk_id: Mapped[int] = mapped_column(ForeignKey("wijk.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))  # champion, helpers, partner, meeting, news
    sent_at: Mapped[datetime]
