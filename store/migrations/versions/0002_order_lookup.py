"""Operators find orders: by candidate email (a keyed hash, never the address), by a reference of
the embedded default vendor, and by any vendor reference alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: plain column types, store.tables.UtcDateTime is DateTime(timezone=True).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "candidate_email_index",
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("email_hash", "order_id", name=op.f("pk_candidate_email_index")),
    )
    op.create_table(
        "default_vendor_references",
        sa.Column("vendor_ref", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("vendor", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "vendor_ref", "order_id", name=op.f("pk_default_vendor_references")
        ),
    )
    op.create_index(op.f("ix_vendor_references_vendor_ref"), "vendor_references", ["vendor_ref"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vendor_references_vendor_ref"), table_name="vendor_references")
    op.drop_table("default_vendor_references")
    op.drop_table("candidate_email_index")
