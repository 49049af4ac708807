"""The service's relational store: vendor accounts, External Trigger Tokens, company connections
and their credentials, the vendor reference index, and the indexes operators find orders by.

One `Store` per process, on SQLite (embedded default, `sqlite+aiosqlite:///…`) or PostgreSQL
(`postgresql+psycopg://…`). Every method is one transaction and returns detached records.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    FromClause,
    Row,
    Select,
    bindparam,
    event,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.crypto import Vault
from store.errors import (
    AlreadyConnected,
    ReferenceConflict,
    UnknownTriggerToken,
    UnknownVendorAccount,
    VendorAccountNameTaken,
)
from store.limits import SharedLimits
from store.operators import OperatorRecords
from store.records import (
    CompanyConnection,
    ConnectionState,
    IssuedToken,
    TriggerToken,
    VendorAccount,
)
from store.tables import (
    Base,
    CandidateEmailRow,
    CompanyConnectionRow,
    DefaultVendorReferenceRow,
    OrderCensusRow,
    OrderOwnerRow,
    PartnerCredentialRow,
    SmartRecruitersCredentialRow,
    TriggerTokenRow,
    VendorAccountRow,
    VendorReferenceRow,
    as_utc,
    insert_into,
)
from store.vendor_api import VendorApiRecords

MIGRATIONS = Path(__file__).parent / "migrations"
TRIGGER_TOKEN_PREFIX = "ett_"
PARTNER_CLIENT_ID_PREFIX = "sr_"
# PostgreSQL advisory lock id ("SRMIGR" in ASCII); any fixed number would do, as long as every
# process migrating this database uses the same one.
MIGRATION_ATTEMPTS = 3
_MIGRATION_LOCK = 0x5352_4D49_4752


class Store:
    def __init__(self, database_url: str, encryption_keys: str) -> None:
        """`encryption_keys`: comma-separated Fernet keys; the first encrypts, all decrypt."""
        self._vault = Vault(encryption_keys)
        # pre_ping: a connection the server dropped while idle is replaced instead of failing a
        # request. SQLite has no server to drop it, and the ping cost a third of each lookup's CPU.
        on_sqlite = make_url(database_url).get_backend_name() == "sqlite"
        self._engine = create_async_engine(database_url, pool_pre_ping=not on_sqlite)
        if on_sqlite:
            event.listen(self._engine.sync_engine, "connect", _configure_sqlite)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        # Limits a peer sets per credential, shared by every process using this store.
        self.limits = SharedLimits(database_url)
        self.vendor_api = VendorApiRecords(self._sessions, self._vault)
        self.operators = OperatorRecords(self._sessions, self._vault)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision; does nothing if it is there already.

        Processes starting together take a lock first. Should one still trip over another's
        migration on a loaded machine (SQLite busy, a table just created), it tries again: by
        then the other has finished and there is nothing left to do.
        """
        for attempt in range(1, MIGRATION_ATTEMPTS + 1):
            try:
                async with self._engine.begin() as connection:
                    await _lock_for_migration(connection)
                    await connection.run_sync(_upgrade_to_head)
                return
            except (OperationalError, ProgrammingError):
                if attempt == MIGRATION_ATTEMPTS:
                    raise
                await asyncio.sleep(attempt)  # back-off before trying again, not synchronisation

    async def dispose(self) -> None:
        await self._engine.dispose()
        await self.limits.dispose()

    # Vendor accounts

    async def create_vendor_account(
        self,
        *,
        name: str,
        adapter: str,
        credentials: dict[str, Any],
        package_settings: dict[str, Any] | None = None,
    ) -> VendorAccount:
        row = VendorAccountRow(
            id=str(uuid.uuid4()),
            name=name,
            adapter=adapter,
            credentials=self._vault.encrypt_json(credentials),
            package_settings=package_settings or {},
            created_at=_now(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except (
            IntegrityError
        ) as error:  # the only constraint a fresh uuid can hit is the unique name
            raise VendorAccountNameTaken(name) from error
        return self._vendor_account(row)

    async def replace_vendor_credentials(
        self, account_id: str, credentials: dict[str, Any]
    ) -> VendorAccount:
        """New credentials for an account (a rotated key); adapters pick them up within a minute."""
        async with self._sessions.begin() as session:
            row = await session.get(VendorAccountRow, account_id)
            if row is None:
                raise UnknownVendorAccount(account_id)
            row.credentials = self._vault.encrypt_json(credentials)
        return self._vendor_account(row)

    async def vendor_account(self, account_id: str) -> VendorAccount | None:
        async with self._sessions.begin() as session:
            row = await session.get(VendorAccountRow, account_id)
        return None if row is None else self._vendor_account(row)

    async def vendor_accounts(self) -> list[VendorAccount]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(select(VendorAccountRow).order_by(VendorAccountRow.name))
            return [self._vendor_account(row) for row in rows]

    def _vendor_account(self, row: VendorAccountRow) -> VendorAccount:
        return VendorAccount(
            id=row.id,
            name=row.name,
            adapter=row.adapter,
            credentials=self._vault.decrypt_json(row.credentials),
            package_settings=row.package_settings,
            created_at=row.created_at,
        )

    # External Trigger Tokens

    async def issue_trigger_token(
        self,
        vendor_account_id: str,
        *,
        expires_at: datetime | None = None,
        company_id: str | None = None,
    ) -> IssuedToken:
        """A new token for connecting companies (`company_id` only, if given) to the vendor
        account; its plaintext is returned only here."""
        token = TRIGGER_TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = TriggerTokenRow(
            id=str(uuid.uuid4()),
            vendor_account_id=vendor_account_id,
            token_hash=self._vault.digest(token),
            company_id=company_id,
            created_at=_now(),
            expires_at=None if expires_at is None else as_utc(expires_at),
        )
        async with self._sessions.begin() as session:
            await _require_vendor_account(session, vendor_account_id)
            session.add(row)
        return IssuedToken(
            token_id=row.id,
            token=token,
            vendor_account_id=vendor_account_id,
            company_id=company_id,
            expires_at=row.expires_at,
        )

    async def redeem_trigger_token(self, token: str) -> TriggerToken | None:
        """The token's record if it is valid (known, not revoked, not expired), else None.

        Redeeming does not use the token up: one customer may connect several companies with it.
        """
        # Found by its keyed hash, never compared as plaintext: the lookup's timing can only tell
        # an attacker about HMAC outputs, which they cannot steer without the key.
        query = select(TriggerTokenRow).where(
            TriggerTokenRow.token_hash.in_(self._vault.digests(token)),
            TriggerTokenRow.revoked_at.is_(None),
            or_(TriggerTokenRow.expires_at.is_(None), TriggerTokenRow.expires_at > _now()),
        )
        async with self._sessions.begin() as session:
            row = await session.scalar(query)
        return None if row is None else _trigger_token(row)

    async def revoke_trigger_token(self, token_id: str) -> bool:
        """Revoke the token for good; False if there is no such token. Revoking twice keeps the
        first time."""
        async with self._sessions.begin() as session:
            row = await session.get(TriggerTokenRow, token_id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = _now()
            return True

    async def trigger_tokens(self, vendor_account_id: str | None = None) -> list[TriggerToken]:
        query = select(TriggerTokenRow).order_by(TriggerTokenRow.created_at, TriggerTokenRow.id)
        if vendor_account_id is not None:
            query = query.where(TriggerTokenRow.vendor_account_id == vendor_account_id)
        async with self._sessions.begin() as session:
            return [_trigger_token(row) for row in await session.scalars(query)]

    # Company connections (Connect) and their credentials

    @staticmethod
    def mint_partner_credentials() -> tuple[str, str]:
        """A new (client_id, client_secret) for SmartRecruiters to call us with;
        nothing is stored yet."""
        return PARTNER_CLIENT_ID_PREFIX + secrets.token_urlsafe(16), secrets.token_urlsafe(32)

    async def complete_connection(
        self,
        *,
        company_id: str,
        vendor_account_id: str,
        trigger_token_id: str,
        consent_email: str,
        partner_client_id: str,
        partner_client_secret: str,
        sr_client_id: str,
        sr_client_secret: str,
    ) -> CompanyConnection:
        """Record a finished Connect in one transaction, so a failure leaves nothing half-created.

        Connects the company, or reconnects it after a disconnect (AlreadyConnected if it is
        connected). The partner credentials we minted replace any older ones of the company and
        are stored hashed; the SmartRecruiters-issued ones replace any older ones, encrypted.
        """
        now = _now()
        async with self._sessions.begin() as session:
            await _require_vendor_account(session, vendor_account_id)
            token = await session.get(TriggerTokenRow, trigger_token_id)
            if (
                token is None
                or token.vendor_account_id != vendor_account_id
                or not _trigger_token(token).admits(company_id)
            ):
                raise UnknownTriggerToken(trigger_token_id)

            connection = await session.get(CompanyConnectionRow, company_id, with_for_update=True)
            if connection is None:
                connection = CompanyConnectionRow(company_id=company_id)
                session.add(connection)
            elif connection.state is ConnectionState.CONNECTED:
                raise AlreadyConnected(company_id)
            connection.activate(
                vendor_account_id=vendor_account_id,
                trigger_token_id=trigger_token_id,
                consent_email=consent_email,
                at=now,
            )
            try:
                await session.flush()
            except (
                IntegrityError
            ) as error:  # a concurrent Connect of the same company inserted it first
                raise AlreadyConnected(company_id) from error

            await _revoke_partner_credentials(session, company_id, now)
            session.add(
                PartnerCredentialRow(
                    client_id=partner_client_id,
                    secret_hash=self._vault.digest(partner_client_secret),
                    company_id=company_id,
                    created_at=now,
                )
            )
            await session.merge(
                SmartRecruitersCredentialRow(
                    company_id=company_id,
                    client_id=sr_client_id,
                    client_secret=self._vault.encrypt(sr_client_secret),
                    created_at=now,
                )
            )
            return _connection(connection)

    async def connection(self, company_id: str) -> CompanyConnection | None:
        row = await self._by_key(CompanyConnectionRow, company_id)
        return None if row is None else _connection(row)

    async def connections(self) -> list[CompanyConnection]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                select(CompanyConnectionRow).order_by(CompanyConnectionRow.company_id)
            )
            return [_connection(row) for row in rows]

    async def disconnect(self, company_id: str) -> CompanyConnection | None:
        """Disconnect the company and revoke its partner credentials; None if it never connected.

        Idempotent: disconnecting again keeps the first disconnection time. The
        SmartRecruiters-issued credentials stay until a reconnect replaces them, but nothing posts
        with them any more: connections/smartrecruiters_clients.py refuses every call to SR for a
        disconnected company.
        """
        now = _now()
        async with self._sessions.begin() as session:
            connection = await session.get(CompanyConnectionRow, company_id, with_for_update=True)
            if connection is None:
                return None
            if connection.state is ConnectionState.CONNECTED:
                connection.deactivate(at=now)
            await _revoke_partner_credentials(session, company_id, now)
            return _connection(connection)

    async def authenticate_partner(
        self, client_id: str, client_secret: str
    ) -> CompanyConnection | None:
        """The connection these partner credentials were minted with; None unless they are current
        and the company connected.

        Credentials are minted only by a Connect, which sets the connection's `connected_at`: that
        instant identifies them: no other Connect of the company has the same one."""
        query = (
            select(PartnerCredentialRow.secret_hash, CompanyConnectionRow)
            .join(
                CompanyConnectionRow,
                CompanyConnectionRow.company_id == PartnerCredentialRow.company_id,
            )
            .where(
                PartnerCredentialRow.client_id == client_id,
                PartnerCredentialRow.revoked_at.is_(None),
                CompanyConnectionRow.state == ConnectionState.CONNECTED,
            )
        )
        async with self._sessions.begin() as session:
            found = (await session.execute(query)).first()
        # Client ids are not secret, so returning early for an unknown one gives nothing away.
        if found is None or not self._vault.verify(client_secret, found.secret_hash):
            return None
        return _connection(found.CompanyConnectionRow)

    async def smartrecruiters_credentials(self, company_id: str) -> tuple[str, str] | None:
        """The (client_id, client_secret) SmartRecruiters issued for the company, decrypted."""
        row = await self._by_key(SmartRecruitersCredentialRow, company_id)
        return None if row is None else (row.client_id, self._vault.decrypt(row.client_secret))

    async def _by_key(self, mapped: type[Base], identity: str) -> Row | None:
        """One row by its primary key, read on a plain connection: the lookups every order makes
        (intake, each call to SR) cost 30 % less CPU without an ORM session's unit of work."""
        async with self._engine.connect() as connection:
            return (
                await connection.execute(_select_by_key(mapped.__table__), {"identity": identity})
            ).first()

    # Vendor reference index: webhooks sent for a whole vendor account name the vendor's reference
    # only. Each index holds the order's reference (orders/visibility.py), which names its workflow.

    async def index_vendor_reference(
        self, vendor_account_id: str, vendor_ref: str, order_reference: str
    ) -> None:
        """Remember which order a vendor reference belongs to.

        Indexing the same triple again is a no-op (activities retry); the same reference for another
        order raises ReferenceConflict. Two first writes racing each other make one fail with an
        IntegrityError; its retry then finds the row.
        """
        async with self._sessions.begin() as session:
            await _require_vendor_account(session, vendor_account_id)
            indexed = await session.get(VendorReferenceRow, (vendor_account_id, vendor_ref))
            if indexed is None:
                session.add(
                    VendorReferenceRow(
                        vendor_account_id=vendor_account_id,
                        vendor_ref=vendor_ref,
                        order_reference=order_reference,
                        created_at=_now(),
                    )
                )
            elif indexed.order_reference != order_reference:
                raise ReferenceConflict(
                    vendor_account_id, vendor_ref, indexed.order_reference, order_reference
                )

    async def order_for_vendor_reference(
        self, vendor_account_id: str, vendor_ref: str
    ) -> str | None:
        async with self._sessions.begin() as session:
            return await session.scalar(
                select(VendorReferenceRow.order_reference).where(
                    VendorReferenceRow.vendor_account_id == vendor_account_id,
                    VendorReferenceRow.vendor_ref == vendor_ref,
                )
            )

    async def order_for_default_vendor_reference(self, vendor: str, vendor_ref: str) -> str | None:
        """The order of an invitation of the embedded default vendor; None unless exactly one."""
        query = select(DefaultVendorReferenceRow.order_reference).where(
            DefaultVendorReferenceRow.vendor == vendor,
            DefaultVendorReferenceRow.vendor_ref == vendor_ref,
        )
        async with self._sessions.begin() as session:
            found = list(await session.scalars(query.limit(2)))
        return found[0] if len(found) == 1 else None

    # Operators' lookups (`assessments orders find`): by candidate email and by vendor reference.

    async def index_candidate_email(self, email: str, order_reference: str) -> None:
        """Remember that the order is for this email, as a keyed hash (never the address).
        Writing the same pair again (SR retries an order) is a no-op."""
        await self._insert_once(
            CandidateEmailRow,
            email_hash=self._vault.email_digest(email),
            order_reference=order_reference,
            created_at=_now(),
        )

    async def orders_by_candidate_email(self, email: str) -> list[str]:
        """The orders placed for this email (in any case), under any configured key."""
        query = (
            select(CandidateEmailRow.order_reference)
            .where(CandidateEmailRow.email_hash.in_(self._vault.email_digests(email)))
            .order_by(CandidateEmailRow.created_at, CandidateEmailRow.order_reference)
        )
        async with self._sessions.begin() as session:
            return list(dict.fromkeys(await session.scalars(query)))

    async def index_default_vendor_reference(
        self, vendor: str, vendor_ref: str, order_reference: str
    ) -> None:
        """Remember an invitation of the embedded default vendor (an order without a vendor
        account, which `index_vendor_reference` cannot hold). Writing it again is a no-op."""
        await self._insert_once(
            DefaultVendorReferenceRow,
            vendor_ref=vendor_ref,
            order_reference=order_reference,
            vendor=vendor,
            created_at=_now(),
        )

    async def orders_by_vendor_reference(self, vendor_ref: str) -> list[str]:
        """The orders a vendor reference belongs to, at any vendor account or the default vendor."""
        query = union(
            select(VendorReferenceRow.order_reference).where(
                VendorReferenceRow.vendor_ref == vendor_ref
            ),
            select(DefaultVendorReferenceRow.order_reference).where(
                DefaultVendorReferenceRow.vendor_ref == vendor_ref
            ),
        )
        async with self._sessions.begin() as session:
            return sorted(await session.scalars(query))

    # Order ownership, as SR confirmed it

    async def confirm_order_owner(self, order_id: str, company_id: str) -> None:
        """SR accepted a result update of the order with the company's credentials: the order id
        is that company's. The first confirmation stands (SR never moves an order)."""
        await self._insert_once(
            OrderOwnerRow, order_id=order_id, company_id=company_id, confirmed_at=_now()
        )

    async def order_owner(self, order_id: str) -> str | None:
        """The company SR confirmed the order id belongs to; None while it has confirmed none."""
        row = await self._by_key(OrderOwnerRow, order_id)
        return None if row is None else row.company_id

    # The order census, counted by one worker for all

    async def record_census(self, figures: dict[str, int]) -> None:
        """The census just taken: each figure's count replaces the one before."""
        rows = [
            {"figure": figure, "orders": orders, "counted_at": _now()}
            for figure, orders in figures.items()
        ]
        insert = insert_into(OrderCensusRow.__table__, self._engine.dialect.name)
        statement = insert.on_conflict_do_update(
            index_elements=["figure"],
            set_={"orders": insert.excluded.orders, "counted_at": insert.excluded.counted_at},
        )
        async with self._sessions.begin() as session:
            await session.execute(statement, rows)

    async def census(self) -> dict[str, int]:
        """The latest count of each census figure."""
        async with self._sessions.begin() as session:
            rows = await session.execute(select(OrderCensusRow.figure, OrderCensusRow.orders))
            return {row.figure: row.orders for row in rows}

    async def _insert_once(self, model: type[Base], **values: Any) -> None:
        """Insert a row unless one with its primary key exists (also when two writers race)."""
        statement = (
            insert_into(model.__table__, self._engine.dialect.name)
            .values(**values)
            .on_conflict_do_nothing()
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _select_by_key(table: FromClause) -> Select:
    """A table's row by its primary key, built once per table (building it cost more than
    running it)."""
    (primary,) = table.primary_key
    return select(table).where(primary == bindparam("identity"))


def _configure_sqlite(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")  # off by default, per connection
    cursor.execute(
        "PRAGMA journal_mode = WAL"
    )  # readers (the API) do not wait for a writer (the worker)
    cursor.close()


async def _lock_for_migration(connection: AsyncConnection) -> None:
    """Serialise migrations: API and worker processes may start together; one migrates, the
    others wait for it inside their own transaction and then find nothing left to do."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
        )
    elif connection.dialect.name == "sqlite":
        # The driver opens transactions lazily and never for DDL; taking the write lock up front
        # also makes the migration itself atomic.
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade_to_head(connection: Connection) -> None:
    config = Config()
    # From the package itself, so migrations also run from an installed wheel.
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection  # picked up by migrations/env.py
    command.upgrade(config, "head")


async def _require_vendor_account(session: AsyncSession, vendor_account_id: str) -> None:
    if await session.get(VendorAccountRow, vendor_account_id) is None:
        raise UnknownVendorAccount(vendor_account_id)


async def _revoke_partner_credentials(session: AsyncSession, company_id: str, at: datetime) -> None:
    await session.execute(
        update(PartnerCredentialRow)
        .where(
            PartnerCredentialRow.company_id == company_id, PartnerCredentialRow.revoked_at.is_(None)
        )
        .values(revoked_at=at)
    )


def _trigger_token(row: TriggerTokenRow) -> TriggerToken:
    return TriggerToken(
        id=row.id,
        vendor_account_id=row.vendor_account_id,
        company_id=row.company_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _connection(row: CompanyConnectionRow | Row) -> CompanyConnection:
    return CompanyConnection(
        company_id=row.company_id,
        vendor_account_id=row.vendor_account_id,
        consent_email=row.consent_email,
        state=row.state,
        connected_at=row.connected_at,
        disconnected_at=row.disconnected_at,
        trigger_token_id=row.trigger_token_id,
    )
