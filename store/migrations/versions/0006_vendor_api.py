"""The Vendor API: vendors' API keys, catalogs, orders, reports, webhook deliveries and
idempotency keys.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vendor_api_keys",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_vendor_api_keys_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_vendor_api_keys_key_hash")),
    )
    op.create_index(
        op.f("ix_vendor_api_keys_vendor_account_id"), "vendor_api_keys", ["vendor_account_id"]
    )
    op.create_table(
        "vendor_api_catalogs",
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_vendor_api_catalogs_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("vendor_account_id", name=op.f("pk_vendor_api_catalogs")),
    )
    op.create_table(
        "vendor_api_orders",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(400), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reported", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("closed_reason", sa.String(16), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("has_report", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_vendor_api_orders_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_api_orders")),
        sa.UniqueConstraint("reference", name=op.f("uq_vendor_api_orders_reference")),
    )
    op.create_index(
        "ix_vendor_api_orders_account_updated",
        "vendor_api_orders",
        ["vendor_account_id", "updated_at", "id"],
    )
    op.create_table(
        "vendor_api_reports",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["vendor_api_orders.id"],
            name=op.f("fk_vendor_api_reports_order_id_vendor_api_orders"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_vendor_api_reports")),
    )
    op.create_table(
        "vendor_api_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["vendor_api_orders.id"],
            name=op.f("fk_vendor_api_deliveries_order_id_vendor_api_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_api_deliveries")),
    )
    op.create_index(
        op.f("ix_vendor_api_deliveries_order_id"), "vendor_api_deliveries", ["order_id"]
    )
    op.create_table(
        "vendor_api_idempotency",
        sa.Column("vendor_account_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_vendor_api_idempotency_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("vendor_account_id", "key", name=op.f("pk_vendor_api_idempotency")),
    )
    op.create_index(
        op.f("ix_vendor_api_idempotency_created_at"), "vendor_api_idempotency", ["created_at"]
    )


def downgrade() -> None:
    op.drop_table("vendor_api_idempotency")
    op.drop_table("vendor_api_deliveries")
    op.drop_table("vendor_api_reports")
    op.drop_table("vendor_api_orders")
    op.drop_table("vendor_api_catalogs")
    op.drop_table("vendor_api_keys")
