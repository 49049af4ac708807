"""What every process shares: request paces and leased in-flight slots per credential, and the
order census one worker takes for all.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_paces",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_request_paces")),
    )
    op.create_table(
        "request_slots",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(32), nullable=True),
        sa.Column("leased_until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", "slot", name=op.f("pk_request_slots")),
    )
    op.create_table(
        "order_census",
        sa.Column("figure", sa.String(64), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("figure", name=op.f("pk_order_census")),
    )


def downgrade() -> None:
    op.drop_table("order_census")
    op.drop_table("request_slots")
    op.drop_table("request_paces")
