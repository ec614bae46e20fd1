"""derive queue: tickets whose events are stored but not yet derived

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derive_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ticket", sa.String(length=200), nullable=False),
        sa.Column("queued_at_us", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("derive_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_derive_queue_ticket"), ["ticket"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("derive_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_derive_queue_ticket"))
    op.drop_table("derive_queue")
