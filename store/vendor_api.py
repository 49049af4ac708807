"""What the Vendor API keeps: vendor accounts' API keys and catalogs, the orders sent to those
vendors with what each vendor reported, report files, webhook deliveries and idempotency keys.

The store keeps these as given; what a vendor may report, and when, is the protocol's
(vendors/api_protocol.py). Candidate data (an order's details, results, reports) is encrypted.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.crypto import Vault
from store.errors import UnknownVendorAccount
from store.tables import (
    Base,
    VendorApiCatalogRow,
    VendorApiDeliveryRow,
    VendorApiIdempotencyRow,
    VendorApiKeyRow,
    VendorApiOrderRow,
    VendorApiReportRow,
    insert_into,
)

API_KEY_PREFIX = "vk_"
ORDER_ID_PREFIX = "ord_"
# A retry under the same Idempotency-Key within this time gets the first answer again.
IDEMPOTENCY_KEPT = timedelta(hours=24)
# Two writers changing one order at once: the later one reads again and decides again, this many
# times before giving up (only a flood at one order could take that many turns).
CHANGE_ATTEMPTS = 8


@dataclass(frozen=True)
class ApiKey:
    id: str
    vendor_account_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedApiKey:
    """A new API key: its plaintext exists only here, the store keeps a keyed hash."""

    id: str
    key: str = field(repr=False)
    vendor_account_id: str
    label: str


@dataclass(frozen=True)
class ApiOrder:
    id: str
    vendor_account_id: str
    reference: str
    # The order as sent to the vendor, and what the vendor reported since (decrypted).
    details: dict[str, Any] = field(repr=False)
    status: str
    reported: dict[str, Any] = field(repr=False)
    # Grows with every change the vendor makes.
    revision: int
    closed_reason: str | None
    closed_at: datetime | None
    has_report: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Delivery:
    event: str
    message_id: str
    attempt: int
    outcome: str
    at: datetime


@dataclass(frozen=True)
class RememberedAnswer:
    request_hash: str
    status: int
    answer: Any = field(repr=False)


class ChangeRaced(Exception):
    """Others kept changing the order while this change was decided; the caller may retry."""


# What a change decides from the order as it is: None (nothing changes), or its new status and
# the vendor's new report.
Change = Callable[[ApiOrder], tuple[str, dict[str, Any]] | None]


class VendorApiRecords:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: Vault) -> None:
        self._sessions = sessions
        self._vault = vault

    # API keys

    async def issue_key(
        self, vendor_account_id: str, label: str, key: str | None = None
    ) -> IssuedApiKey:
        """A new key for the account (`key`: one chosen by the embedded stack's seed)."""
        key = key or API_KEY_PREFIX + secrets.token_urlsafe(32)
        row = VendorApiKeyRow(
            id=str(uuid.uuid4()),
            vendor_account_id=vendor_account_id,
            key_hash=self._vault.digest(key),
            label=label,
            created_at=_now(),
        )
        with _of_an_account(vendor_account_id):
            async with self._sessions.begin() as session:
                session.add(row)
        return IssuedApiKey(id=row.id, key=key, vendor_account_id=vendor_account_id, label=label)

    async def keys(self, vendor_account_id: str) -> list[ApiKey]:
        query = (
            select(VendorApiKeyRow)
            .where(VendorApiKeyRow.vendor_account_id == vendor_account_id)
            .order_by(VendorApiKeyRow.created_at)
        )
        async with self._sessions.begin() as session:
            return [_api_key(row) for row in await session.scalars(query)]

    async def revoke_key(self, key_id: str) -> ApiKey | None:
        """Revoke for good (again: the first time stands); None if there is no such key."""
        async with self._sessions.begin() as session:
            row = await session.get(VendorApiKeyRow, key_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = _now()
            return _api_key(row)

    async def account_of_key(self, key: str) -> str | None:
        """The vendor account of an active key, found by its keyed hash; None otherwise."""
        query = select(VendorApiKeyRow.vendor_account_id).where(
            VendorApiKeyRow.key_hash.in_(self._vault.digests(key)),
            VendorApiKeyRow.revoked_at.is_(None),
        )
        async with self._sessions.begin() as session:
            return await session.scalar(query)

    # Catalogs

    async def replace_catalog(self, vendor_account_id: str, packages: list[Any]) -> None:
        with _of_an_account(vendor_account_id):
            async with self._sessions.begin() as session:
                row = await session.get(VendorApiCatalogRow, vendor_account_id)
                if row is None:
                    session.add(
                        VendorApiCatalogRow(
                            vendor_account_id=vendor_account_id,
                            packages=packages,
                            updated_at=_now(),
                        )
                    )
                else:
                    row.packages = packages
                    row.updated_at = _now()

    async def catalog(self, vendor_account_id: str) -> list[Any] | None:
        """The packages last published; None if the vendor never published any."""
        async with self._sessions.begin() as session:
            row = await session.get(VendorApiCatalogRow, vendor_account_id)
            return None if row is None else row.packages

    # Orders

    async def open_order(
        self, vendor_account_id: str, reference: str, details: dict[str, Any], status: str
    ) -> ApiOrder:
        """The order with this reference, created with these details unless it exists (an
        invitation tried again finds its first one)."""
        now = _now()
        values = {
            "id": ORDER_ID_PREFIX + secrets.token_urlsafe(18),
            "vendor_account_id": vendor_account_id,
            "reference": reference,
            "details": self._vault.encrypt_json(details),
            "status": status,
            "reported": self._vault.encrypt_json({}),
            "revision": 0,
            "has_report": False,
            "created_at": now,
            "updated_at": now,
        }
        with _of_an_account(vendor_account_id):
            async with self._sessions.begin() as session:
                await session.execute(
                    _insert(session, VendorApiOrderRow)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["reference"])
                )
        order = await self.order_by_reference(reference)
        assert order is not None  # inserted, or there already
        return order

    async def order(self, vendor_account_id: str, order_id: str) -> ApiOrder | None:
        """The account's order; None for another account's, as for one that does not exist."""
        async with self._sessions.begin() as session:
            row = await session.get(VendorApiOrderRow, order_id)
        if row is None or row.vendor_account_id != vendor_account_id:
            return None
        return self._order(row)

    async def order_by_reference(self, reference: str) -> ApiOrder | None:
        query = select(VendorApiOrderRow).where(VendorApiOrderRow.reference == reference)
        async with self._sessions.begin() as session:
            row = await session.scalar(query)
        return None if row is None else self._order(row)

    async def orders(
        self,
        vendor_account_id: str,
        *,
        status: str | None = None,
        updated_after: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> list[ApiOrder]:
        """The account's orders by time of change, oldest first, from after `after` (a page's
        last order's `updated_at` and id)."""
        table = VendorApiOrderRow
        query = select(table).where(table.vendor_account_id == vendor_account_id)
        if status is not None:
            query = query.where(table.status == status)
        if updated_after is not None:
            query = query.where(table.updated_at > updated_after)
        if after is not None:
            query = query.where(tuple_(table.updated_at, table.id) > tuple_(*after))
        query = query.order_by(table.updated_at, table.id).limit(limit)
        async with self._sessions.begin() as session:
            return [self._order(row) for row in await session.scalars(query)]

    async def change_order(
        self, vendor_account_id: str, order_id: str, change: Change
    ) -> tuple[ApiOrder, bool] | None:
        """Apply what `change` decides from the order as it is (it may raise to refuse); the
        order afterwards, and whether it changed. None: no such order at this account.

        Optimistic: the row is written only if its revision is still the one decided on, so two
        changes at once never undo each other; the later reads again and decides again.
        """
        for _ in range(CHANGE_ATTEMPTS):
            current = await self.order(vendor_account_id, order_id)
            if current is None:
                return None
            decided = change(current)
            if decided is None:
                return current, False
            status, reported = decided
            if await self._write(current, status=status, reported=reported):
                return await self.order(vendor_account_id, order_id) or current, True
        raise ChangeRaced(order_id)

    async def close_order(self, reference: str, reason: str) -> ApiOrder | None:
        """Close the order (cancelled or expired at our end): the first closing stands. None if
        there is no order with this reference."""
        for _ in range(CHANGE_ATTEMPTS):
            current = await self.order_by_reference(reference)
            if current is None or current.closed_reason is not None:
                return current
            if await self._write(current, closed_reason=reason, closed_at=_now()):
                return await self.order_by_reference(reference)
        raise ChangeRaced(reference)

    async def _write(self, current: ApiOrder, **values: Any) -> bool:
        if "reported" in values:
            values["reported"] = self._vault.encrypt_json(values["reported"])
        statement = (
            update(VendorApiOrderRow)
            .where(
                VendorApiOrderRow.id == current.id,
                VendorApiOrderRow.revision == current.revision,
            )
            .values(**values, revision=current.revision + 1, updated_at=_now())
        )
        async with self._sessions.begin() as session:
            return (await session.execute(statement)).rowcount == 1  # type: ignore[attr-defined]

    def _order(self, row: VendorApiOrderRow) -> ApiOrder:
        return ApiOrder(
            id=row.id,
            vendor_account_id=row.vendor_account_id,
            reference=row.reference,
            details=self._vault.decrypt_json(row.details),
            status=row.status,
            reported=self._vault.decrypt_json(row.reported),
            revision=row.revision,
            closed_reason=row.closed_reason,
            closed_at=row.closed_at,
            has_report=row.has_report,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    # Reports

    async def put_report(self, order: ApiOrder, content: bytes) -> bool:
        """Keep the order's report file (replacing one put before); False if the order changed
        meanwhile (the caller decides again)."""
        async with self._sessions.begin() as session:
            written = await session.execute(
                update(VendorApiOrderRow)
                .where(
                    VendorApiOrderRow.id == order.id,
                    VendorApiOrderRow.revision == order.revision,
                )
                .values(has_report=True, revision=order.revision + 1, updated_at=_now())
            )
            if written.rowcount != 1:  # type: ignore[attr-defined]
                return False
            await session.execute(
                delete(VendorApiReportRow).where(VendorApiReportRow.order_id == order.id)
            )
            session.add(
                VendorApiReportRow(
                    order_id=order.id,
                    content=self._vault.encrypt_bytes(content),
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    uploaded_at=_now(),
                )
            )
        return True

    async def report(self, order_id: str) -> bytes | None:
        async with self._sessions.begin() as session:
            row = await session.get(VendorApiReportRow, order_id)
        return None if row is None else self._vault.decrypt_bytes(row.content)

    # Webhook deliveries

    async def record_delivery(
        self, order_id: str, event: str, message_id: str, attempt: int, outcome: str
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                VendorApiDeliveryRow(
                    order_id=order_id,
                    event=event,
                    message_id=message_id,
                    attempt=attempt,
                    outcome=outcome[:64],
                    at=_now(),
                )
            )

    async def delivery_attempts(self, order_id: str, message_id: str) -> int:
        """How many attempts at delivering this message were made."""
        query = select(func.count()).where(
            VendorApiDeliveryRow.order_id == order_id,
            VendorApiDeliveryRow.message_id == message_id,
        )
        async with self._sessions.begin() as session:
            return int(await session.scalar(query) or 0)

    async def delivered(self, order_id: str, message_id: str) -> bool:
        """Whether an attempt at this message was answered 2xx (the vendor took it)."""
        query = (
            select(VendorApiDeliveryRow.id)
            .where(
                VendorApiDeliveryRow.order_id == order_id,
                VendorApiDeliveryRow.message_id == message_id,
                VendorApiDeliveryRow.outcome.like("2%"),
            )
            .limit(1)
        )
        async with self._sessions.begin() as session:
            return await session.scalar(query) is not None

    async def deliveries(self, order_id: str, latest: int = 20) -> list[Delivery]:
        """The order's latest delivery attempts, oldest first."""
        query = (
            select(VendorApiDeliveryRow)
            .where(VendorApiDeliveryRow.order_id == order_id)
            .order_by(VendorApiDeliveryRow.id.desc())
            .limit(latest)
        )
        async with self._sessions.begin() as session:
            rows = list(await session.scalars(query))
        return [
            Delivery(row.event, row.message_id, row.attempt, row.outcome, row.at)
            for row in reversed(rows)
        ]

    # Idempotency keys

    async def remembered(self, vendor_account_id: str, key: str) -> RememberedAnswer | None:
        async with self._sessions.begin() as session:
            row = await session.get(VendorApiIdempotencyRow, (vendor_account_id, key))
        if row is None or row.created_at < _now() - IDEMPOTENCY_KEPT:
            return None
        return RememberedAnswer(row.request_hash, row.status, self._vault.decrypt_json(row.answer))

    async def remember(
        self, vendor_account_id: str, key: str, request_hash: str, status: int, answer: Any
    ) -> None:
        """Keep the answer to a request under its key (the first one stands), and forget those
        kept for longer than a day."""
        now = _now()
        async with self._sessions.begin() as session:
            await session.execute(
                delete(VendorApiIdempotencyRow).where(
                    VendorApiIdempotencyRow.created_at < now - IDEMPOTENCY_KEPT
                )
            )
            await session.execute(
                _insert(session, VendorApiIdempotencyRow)
                .values(
                    vendor_account_id=vendor_account_id,
                    key=key,
                    request_hash=request_hash,
                    status=status,
                    answer=self._vault.encrypt_json(answer),
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(session: AsyncSession, model: type[Base]) -> Any:
    return insert_into(model.__table__, session.get_bind().dialect.name)


def _api_key(row: VendorApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        vendor_account_id=row.vendor_account_id,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@contextlib.contextmanager
def _of_an_account(vendor_account_id: str) -> Iterator[None]:
    """A row naming an account that does not exist breaks its foreign key."""
    try:
        yield
    except IntegrityError as error:
        raise UnknownVendorAccount(vendor_account_id) from error
