"""An External Trigger Token may be limited to one SmartRecruiters company.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tokens issued before stay valid for any company, as they were issued.
    with op.batch_alter_table("trigger_tokens") as table:
        table.add_column(sa.Column("company_id", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trigger_tokens") as table:
        table.drop_column("company_id")
