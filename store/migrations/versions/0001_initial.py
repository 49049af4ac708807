"""The store's first tables: vendor accounts, trigger tokens, company connections and their
credentials, and the vendor reference index.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migrations spell out plain column types instead of importing store.tables, so they keep meaning
# what they meant when the models change. store.tables.UtcDateTime is DateTime(timezone=True).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vendor_accounts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("adapter", sa.String(64), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("package_settings", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_vendor_accounts_name")),
    )
    op.create_table(
        "trigger_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_trigger_tokens_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_trigger_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_trigger_tokens_vendor_account_id"), "trigger_tokens", ["vendor_account_id"]
    )
    op.create_table(
        "company_connections",
        sa.Column("company_id", sa.String(255), nullable=False),
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("consent_email", sa.String(320), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "connected",
                "disconnected",
                name="connection_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("connected_at", TIMESTAMP, nullable=False),
        sa.Column("disconnected_at", TIMESTAMP, nullable=True),
        sa.Column("trigger_token_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_company_connections_vendor_account_id_vendor_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["trigger_token_id"],
            ["trigger_tokens.id"],
            name=op.f("fk_company_connections_trigger_token_id_trigger_tokens"),
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_company_connections")),
    )
    op.create_index(
        op.f("ix_company_connections_vendor_account_id"),
        "company_connections",
        ["vendor_account_id"],
    )
    op.create_table(
        "partner_credentials",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("company_id", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company_connections.company_id"],
            name=op.f("fk_partner_credentials_company_id_company_connections"),
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_partner_credentials")),
    )
    op.create_index(
        op.f("ix_partner_credentials_company_id"), "partner_credentials", ["company_id"]
    )
    op.create_table(
        "smartrecruiters_credentials",
        sa.Column("company_id", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company_connections.company_id"],
            name=op.f("fk_smartrecruiters_credentials_company_id_company_connections"),
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_smartrecruiters_credentials")),
    )
    op.create_table(
        "vendor_references",
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("vendor_ref", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_vendor_references_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint(
            "vendor_account_id", "vendor_ref", name=op.f("pk_vendor_references")
        ),
    )


def downgrade() -> None:
    for table in (
        "vendor_references",
        "smartrecruiters_credentials",
        "partner_credentials",
        "company_connections",
        "trigger_tokens",
        "vendor_accounts",
    ):
        op.drop_table(table)
