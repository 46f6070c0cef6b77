"""forgetting: erased ids (keyed hash) and the group messages that named a person

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_person",
        sa.Column("tg_hash", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tg_hash", name=op.f("pk_erased_person")),
    )
    op.create_table(
        "named_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("wijk_id", sa.Integer(), nullable=False),
        sa.Column("tg_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_named_message_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wijk_id"],
            ["wijk.id"],
            name=op.f("fk_named_message_wijk_id_wijk"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_message")),
    )
    with op.batch_alter_table("named_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_message_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_named_message_wijk_id"), ["wijk_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("named_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_message_wijk_id"))
        batch_op.drop_index(batch_op.f("ix_named_message_person_id"))
    op.drop_table("named_message")
    op.drop_table("erased_person")
