"""Orders are named by their reference (SR's order id and the company), and SR's confirmation of
which company an order id belongs to is kept.

The order indexes held SR's order id; they now hold the order's reference, which for orders
received before references named the company is that same order id, so existing rows stay true.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
# As store.tables.REFERENCE_LENGTH; a migration keeps its own copy,
# since the table may change later.
REFERENCE = sa.String(400)
_OLD_LENGTHS = {
    "vendor_references": 64,
    "default_vendor_references": 128,
    "candidate_email_index": 128,
}


def upgrade() -> None:
    for table in _OLD_LENGTHS:
        # Batch mode: SQLite cannot alter a column in place, so the table is copied.
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "order_id",
                new_column_name="order_reference",
                type_=REFERENCE,
                existing_nullable=False,
            )
    op.create_table(
        "order_owners",
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("company_id", sa.String(255), nullable=False),
        sa.Column("confirmed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_owners")),
    )


def downgrade() -> None:
    op.drop_table("order_owners")
    for table, length in _OLD_LENGTHS.items():
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "order_reference",
                new_column_name="order_id",
                type_=sa.String(length),
                existing_nullable=False,
            )
