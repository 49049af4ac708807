"""The store's tables as SQLAlchemy ORM models.

Every change here needs a migration in `store/migrations/versions`; a test compares the two.
Secrets never sit in a column in plaintext: `*_hash` columns hold keyed hashes and the
credential columns hold Fernet ciphertext (see `store.crypto`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from store.records import ConnectionState

# An order reference: SR's order id (up to 128 characters), ':' and the company id (up to 200).
REFERENCE_LENGTH = 400

# Named constraints, so later migrations can drop or alter them by name on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware datetimes")
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in Python on both databases.

    PostgreSQL stores `timestamptz`. SQLite has no time zones, so it stores the UTC wall time as
    fixed-width text, which still compares and sorts correctly in SQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_into(table: Any, dialect: str) -> Any:
    """An INSERT that can skip or update the rows it conflicts with (ON CONFLICT), which each
    database spells in its own dialect."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every timestamp goes through UtcDateTime, so none can be stored naive by accident.
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class VendorAccountRow(Base):
    """Our account at a vendor, with what its adapter needs to call it."""

    __tablename__ = "vendor_accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    adapter: Mapped[str] = mapped_column(String(64))
    credentials: Mapped[str] = mapped_column(Text)  # encrypted JSON
    package_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class TriggerTokenRow(Base):
    """An External Trigger Token: lets a customer's
    admin connect their company to a vendor account."""

    __tablename__ = "trigger_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vendor_account_id: Mapped[str] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The one SmartRecruiters company it may connect; None: any (one customer's several companies).
    company_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class CompanyConnectionRow(Base):
    """A SmartRecruiters company connected to one of our vendor accounts (the Connect flow)."""

    __tablename__ = "company_connections"

    company_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    vendor_account_id: Mapped[str] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    consent_email: Mapped[str] = mapped_column(String(320))
    state: Mapped[ConnectionState] = mapped_column(
        Enum(
            ConnectionState,
            name="connection_state",
            # A CHECK constraint rather than a PostgreSQL enum type: the same on both databases,
            # and a new state needs no ALTER TYPE.
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda states: [state.value for state in states],
        )
    )
    connected_at: Mapped[datetime]
    disconnected_at: Mapped[datetime | None]
    trigger_token_id: Mapped[str] = mapped_column(ForeignKey("trigger_tokens.id"))

    def activate(
        self, *, vendor_account_id: str, trigger_token_id: str, consent_email: str, at: datetime
    ) -> None:
        self.vendor_account_id = vendor_account_id
        self.trigger_token_id = trigger_token_id
        self.consent_email = consent_email
        self.state = ConnectionState.CONNECTED
        self.connected_at = at
        self.disconnected_at = None

    def deactivate(self, *, at: datetime) -> None:
        self.state = ConnectionState.DISCONNECTED
        self.disconnected_at = at


class PartnerCredentialRow(Base):
    """Credentials we minted for SmartRecruiters to call us on behalf of one company."""

    __tablename__ = "partner_credentials"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    company_id: Mapped[str] = mapped_column(
        ForeignKey("company_connections.company_id"), index=True
    )
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SmartRecruitersCredentialRow(Base):
    """Credentials SmartRecruiters issued to us for one company: we post results with them."""

    __tablename__ = "smartrecruiters_credentials"

    company_id: Mapped[str] = mapped_column(
        ForeignKey("company_connections.company_id"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(Text)  # encrypted
    created_at: Mapped[datetime]


class VendorReferenceRow(Base):
    """Which order a vendor's reference belongs to, for webhooks addressed to the whole account."""

    __tablename__ = "vendor_references"

    vendor_account_id: Mapped[str] = mapped_column(
        ForeignKey("vendor_accounts.id"), primary_key=True
    )
    # Indexed on its own too: operators look an order up by the reference alone (`orders find`).
    vendor_ref: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    order_reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    created_at: Mapped[datetime]


class DefaultVendorReferenceRow(Base):
    """Which order a reference of the embedded default vendor belongs to: its orders have no
    vendor account, so `vendor_references` cannot hold them. For operators' lookups only."""

    __tablename__ = "default_vendor_references"

    vendor_ref: Mapped[str] = mapped_column(String(255), primary_key=True)
    order_reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class CandidateEmailRow(Base):
    """Which orders a candidate's email belongs to, for operators' lookups (`orders find --email`).

    Never the email itself: `email_hash` is an HMAC-SHA256 of the normalised address under a key
    derived from the encryption keys (`store.crypto`), useless to whoever has the table alone.
    """

    __tablename__ = "candidate_email_index"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), primary_key=True)
    created_at: Mapped[datetime]


class OrderOwnerRow(Base):
    """Which company an SR order id belongs to, as SR itself confirmed: SR accepted a result
    update of that order with that company's credentials. Any company can send any order id, so
    only SR's word makes an id one company's."""

    __tablename__ = "order_owners"

    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(255))
    confirmed_at: Mapped[datetime]


class RequestPaceRow(Base):
    """When the next request under one shared rate limit may be sent (`store.limits`)."""

    __tablename__ = "request_paces"

    # A digest of what the limit is for (a credential), never the credential itself.
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Seconds since the epoch on the database's clock, the one clock every process shares.
    next_at: Mapped[float] = mapped_column(Double)


class RequestSlotRow(Base):
    """One of the in-flight slots of a shared concurrency limit (`store.limits`), leased to one
    request until it ends or its lease runs out (a process that died frees its slots so)."""

    __tablename__ = "request_slots"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(32))
    # Seconds since the epoch on the database's clock.
    leased_until: Mapped[float] = mapped_column(Double)


class OrderCensusRow(Base):
    """The latest count of orders in one census figure (`ordering.census`), taken by one worker
    for all: every worker shows these on its metrics endpoint."""

    __tablename__ = "order_census"

    figure: Mapped[str] = mapped_column(String(64), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime]


# The Vendor API (vendors/api_protocol.py): vendors without an adapter of ours, that take orders
# by signed webhook and report on them through our API.


class VendorApiKeyRow(Base):
    """An API key of a vendor account: the keyed hash only; several may be active (rotation)."""

    __tablename__ = "vendor_api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vendor_account_id: Mapped[str] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class VendorApiCatalogRow(Base):
    """The packages a vendor account published (`PUT /vendor/v1/packages`), the whole list."""

    __tablename__ = "vendor_api_catalogs"

    vendor_account_id: Mapped[str] = mapped_column(
        ForeignKey("vendor_accounts.id"), primary_key=True
    )
    packages: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class VendorApiOrderRow(Base):
    """An order as the vendor sees it through the Vendor API: what we sent it, and what it has
    reported since. The adapter reads it as other adapters read their vendor's API."""

    __tablename__ = "vendor_api_orders"
    __table_args__ = (
        # The vendor's reconciliation pages through its orders by time of change.
        Index("ix_vendor_api_orders_account_updated", "vendor_account_id", "updated_at", "id"),
    )

    # Our id for the order at the vendor ("ord_…"): opaque, naming neither company nor SR's id.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    vendor_account_id: Mapped[str] = mapped_column(ForeignKey("vendor_accounts.id"))
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    details: Mapped[str] = mapped_column(Text)  # encrypted JSON: the order as sent (candidate…)
    status: Mapped[str] = mapped_column(String(16))
    reported: Mapped[str] = mapped_column(Text)  # encrypted JSON: what the vendor reported
    revision: Mapped[int] = mapped_column(Integer)
    closed_reason: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None]
    has_report: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class VendorApiReportRow(Base):
    """The report file a vendor put on an order (encrypted: it is about the candidate)."""

    __tablename__ = "vendor_api_reports"

    order_id: Mapped[str] = mapped_column(ForeignKey("vendor_api_orders.id"), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class VendorApiDeliveryRow(Base):
    """One attempt at delivering an event to a vendor's webhook URL, for the vendor and
    operators to see."""

    __tablename__ = "vendor_api_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("vendor_api_orders.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class VendorApiIdempotencyRow(Base):
    """A vendor's request under an Idempotency-Key, and our answer, for a retry to get again."""

    __tablename__ = "vendor_api_idempotency"

    vendor_account_id: Mapped[str] = mapped_column(
        ForeignKey("vendor_accounts.id"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(Text)  # encrypted JSON
    created_at: Mapped[datetime] = mapped_column(index=True)


# The operators' console (api/console) and the admin API's per-operator keys: who acts, and the
# audit log of what they did.


class OperatorRow(Base):
    """A person who runs the hub: signs in to the console, or calls the admin API with a key."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # "viewer" (reads only) or "operator" (also repairs and changes accounts, tokens, connections).
    role: Mapped[str] = mapped_column(String(16))
    # Argon2id; None: this operator signs in with no password (API keys only).
    password_hash: Mapped[str | None] = mapped_column(Text)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class OperatorSessionRow(Base):
    """A console sign-in: the keyed hash of the cookie's token, never the token."""

    __tablename__ = "operator_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class OperatorKeyRow(Base):
    """An operator's admin API key: the keyed hash only."""

    __tablename__ = "operator_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEventRow(Base):
    """One thing an operator did (or tried): who, through what, to what, why, and how it went."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # The operator's name as it was then (kept if the operator is removed); for the shared admin
    # key, the handle its caller typed.
    operator: Mapped[str] = mapped_column(String(64), index=True)
    # console, api (an operator's key), admin-key (the shared key) or cli.
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    # done, refused or failed.
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
