"""Operators: the people who run the hub, their console sessions and admin API keys, and the
audit log of what they did.

Session tokens and keys are ours (256 random bits), so the store keeps their keyed hashes, as it
does for every token it issues. Passwords are people's: the caller hashes them slowly (Argon2id,
`admin.identity`) and the store keeps that hash as given.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Result, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.crypto import Vault
from store.errors import StoreError
from store.tables import AuditEventRow, OperatorKeyRow, OperatorRow, OperatorSessionRow

OPERATOR_KEY_PREFIX = "ok_"
# A session's last-seen time is written at most this often, so pages do not each write a row.
LAST_SEEN_PRECISION = timedelta(minutes=1)


class OperatorNameTaken(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"an operator named {name!r} already exists")


class UnknownOperator(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no operator named {name!r}")


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    locked_until: datetime | None
    has_password: bool


@dataclass(frozen=True)
class OperatorKey:
    id: str
    operator: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedOperatorKey:
    """A new admin API key: its plaintext exists only here."""

    id: str
    key: str = field(repr=False)
    operator: str
    label: str


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    operator: str
    via: str
    action: str
    target: str
    reason: str | None
    outcome: str
    detail: str | None


@dataclass(frozen=True)
class AuditQuery:
    """Which events, newest first: each field narrows; `before` pages (the last id seen)."""

    operator: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = 50


class OperatorRecords:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: Vault) -> None:
        self._sessions = sessions
        self._vault = vault

    # Operators

    async def create(self, name: str, role: str, password_hash: str | None) -> Operator:
        row = OperatorRow(
            id=str(uuid.uuid4()),
            name=name,
            role=role,
            password_hash=password_hash,
            failed_sign_ins=0,
            created_at=_now(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise OperatorNameTaken(name) from None
        return _operator(row)

    async def operators(self) -> list[Operator]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(select(OperatorRow).order_by(OperatorRow.name))
            return [_operator(row) for row in rows]

    async def by_name(self, name: str) -> tuple[Operator, str | None] | None:
        """The operator and their password hash (for signing in), or None."""
        async with self._sessions.begin() as session:
            row = await session.scalar(select(OperatorRow).where(OperatorRow.name == name))
            return None if row is None else (_operator(row), row.password_hash)

    async def change(
        self,
        name: str,
        *,
        role: str | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
    ) -> Operator:
        """A new role, password (which also unlocks) or enabled state. Each but enabling ends the
        operator's sessions; disabling also revokes their keys."""
        async with self._sessions.begin() as session:
            row = await session.scalar(select(OperatorRow).where(OperatorRow.name == name))
            if row is None:
                raise UnknownOperator(name)
            if role is not None:
                row.role = role
            if password_hash is not None:
                row.password_hash = password_hash
                row.failed_sign_ins = 0
                row.locked_until = None
            if disabled is not None:
                row.disabled_at = _now() if disabled else None
            if disabled or role is not None or password_hash is not None:
                # A changed role takes effect at the next sign-in; a new password is given when
                # the old one may have leaked, and whoever signed in with it must sign in again.
                await session.execute(
                    delete(OperatorSessionRow).where(OperatorSessionRow.operator_id == row.id)
                )
            if disabled:
                await session.execute(
                    update(OperatorKeyRow)
                    .where(
                        OperatorKeyRow.operator_id == row.id, OperatorKeyRow.revoked_at.is_(None)
                    )
                    .values(revoked_at=_now())
                )
            return _operator(row)

    async def failed_sign_in(self, operator_id: str, lock_after: int, lock_for: timedelta) -> bool:
        """Counts a failed sign-in of an operator not locked out now; at `lock_after` in a row the
        operator is locked for `lock_for` (and the count starts again). True if this failure
        locked them.

        Updates, never a read then a write: failures arriving together would each read the same
        count and write it back one higher (SQLite takes no row lock), and the lockout would never
        come. The first UPDATE holds the row (PostgreSQL) or the database (SQLite) until the
        commit, so the second sees this count."""
        now = _now()
        async with self._sessions.begin() as session:
            counted = await session.execute(
                update(OperatorRow)
                .where(OperatorRow.id == operator_id, _not_locked(now))
                .values(failed_sign_ins=OperatorRow.failed_sign_ins + 1)
            )
            if _rows(counted) != 1:
                return False
            locked = await session.execute(
                update(OperatorRow)
                .where(OperatorRow.id == operator_id, OperatorRow.failed_sign_ins >= lock_after)
                .values(failed_sign_ins=0, locked_until=now + lock_for)
            )
            return _rows(locked) == 1

    async def signed_in(self, operator_id: str) -> bool:
        """A right password: the count of failures starts again, if the operator is still enabled
        and not locked out. False otherwise: failures checked meanwhile (sent with this one)
        locked them, and the right password must be refused like any other."""
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(OperatorRow)
                .where(
                    OperatorRow.id == operator_id,
                    OperatorRow.disabled_at.is_(None),
                    _not_locked(_now()),
                )
                .values(failed_sign_ins=0, locked_until=None)
            )
            return _rows(done) == 1

    # Console sessions

    async def start_session(self, operator_id: str, lifetime: timedelta) -> str:
        """A new session's token, for the cookie."""
        token = secrets.token_urlsafe(32)
        now = _now()
        async with self._sessions.begin() as session:
            session.add(
                OperatorSessionRow(
                    token_hash=self._vault.digest(token),
                    operator_id=operator_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                )
            )
        return token

    async def session_operator(self, token: str, idle: timedelta) -> Operator | None:
        """The operator a session token signs in, while the session lasts: not expired, not idle
        longer than `idle`, and the operator enabled."""
        now = _now()
        async with self._sessions.begin() as session:
            found = (
                await session.execute(
                    select(OperatorSessionRow, OperatorRow)
                    .join(OperatorRow, OperatorRow.id == OperatorSessionRow.operator_id)
                    .where(OperatorSessionRow.token_hash.in_(self._vault.digests(token)))
                )
            ).first()
            if found is None:
                return None
            row, operator = found
            if row.expires_at <= now or row.last_seen_at + idle <= now or operator.disabled_at:
                await session.delete(row)
                return None
            if now - row.last_seen_at >= LAST_SEEN_PRECISION:
                row.last_seen_at = now
            return _operator(operator)

    async def end_session(self, token: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(OperatorSessionRow).where(
                    OperatorSessionRow.token_hash.in_(self._vault.digests(token))
                )
            )

    # Admin API keys

    async def issue_key(self, name: str, label: str) -> IssuedOperatorKey:
        key = OPERATOR_KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._sessions.begin() as session:
            operator = await session.scalar(select(OperatorRow).where(OperatorRow.name == name))
            if operator is None:
                raise UnknownOperator(name)
            row = OperatorKeyRow(
                id=str(uuid.uuid4()),
                operator_id=operator.id,
                key_hash=self._vault.digest(key),
                label=label,
                created_at=_now(),
            )
            session.add(row)
        return IssuedOperatorKey(id=row.id, key=key, operator=name, label=label)

    async def key_operator(self, key: str) -> Operator | None:
        """The enabled operator whose unrevoked key this is, or None."""
        if not key.startswith(OPERATOR_KEY_PREFIX):
            return None
        async with self._sessions.begin() as session:
            operator = await session.scalar(
                select(OperatorRow)
                .join(OperatorKeyRow, OperatorKeyRow.operator_id == OperatorRow.id)
                .where(
                    OperatorKeyRow.key_hash.in_(self._vault.digests(key)),
                    OperatorKeyRow.revoked_at.is_(None),
                    OperatorRow.disabled_at.is_(None),
                )
            )
            return None if operator is None else _operator(operator)

    async def keys(self, name: str | None = None) -> list[OperatorKey]:
        query = (
            select(OperatorKeyRow, OperatorRow.name)
            .join(OperatorRow, OperatorRow.id == OperatorKeyRow.operator_id)
            .order_by(OperatorKeyRow.created_at)
        )
        if name is not None:
            query = query.where(OperatorRow.name == name)
        async with self._sessions.begin() as session:
            return [_key(row, operator) for row, operator in (await session.execute(query)).all()]

    async def revoke_key(self, key_id: str) -> OperatorKey | None:
        async with self._sessions.begin() as session:
            found = (
                await session.execute(
                    select(OperatorKeyRow, OperatorRow.name)
                    .join(OperatorRow, OperatorRow.id == OperatorKeyRow.operator_id)
                    .where(OperatorKeyRow.id == key_id)
                )
            ).first()
            if found is None:
                return None
            row, operator = found
            if row.revoked_at is None:
                row.revoked_at = _now()
            return _key(row, operator)

    # The audit log

    async def record(
        self,
        *,
        operator: str,
        via: str,
        action: str,
        target: str,
        reason: str | None,
        outcome: str,
        detail: str | None,
    ) -> AuditEvent:
        row = AuditEventRow(
            at=_now(),
            operator=operator,
            via=via,
            action=action,
            target=target,
            reason=reason,
            outcome=outcome,
            detail=detail,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return _event(row)

    async def events(self, wanted: AuditQuery) -> list[AuditEvent]:
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(wanted.limit)
        if wanted.operator:
            query = query.where(AuditEventRow.operator == wanted.operator)
        if wanted.action:
            query = query.where(AuditEventRow.action == wanted.action)
        if wanted.target:
            query = query.where(AuditEventRow.target == wanted.target)
        if wanted.since:
            query = query.where(AuditEventRow.at >= wanted.since)
        if wanted.until:
            query = query.where(AuditEventRow.at < wanted.until)
        if wanted.before is not None:
            query = query.where(AuditEventRow.id < wanted.before)
        async with self._sessions.begin() as session:
            return [_event(row) for row in await session.scalars(query)]


def _now() -> datetime:
    return datetime.now(UTC)


def _not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(OperatorRow.locked_until.is_(None), OperatorRow.locked_until <= now)


def _rows(result: Result[Any]) -> int:
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def _operator(row: OperatorRow) -> Operator:
    return Operator(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        locked_until=row.locked_until,
        has_password=row.password_hash is not None,
    )


def _key(row: OperatorKeyRow, operator: str) -> OperatorKey:
    return OperatorKey(
        id=row.id,
        operator=operator,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=row.at,
        operator=row.operator,
        via=row.via,
        action=row.action,
        target=row.target,
        reason=row.reason,
        outcome=row.outcome,
        detail=row.detail,
    )
