"""Operators' identities: names, roles, passwords (Argon2id), console sessions with lockout, and
per-operator admin API keys.

A wrong name and a wrong password are refused alike, and as slowly (an unknown name is checked
against a stand-in hash, and every refusal answers no sooner than the hash took again, so that
the store's bookkeeping of a known name's refusal does not show), so the console tells nobody
which operator names exist. After ASSESSMENTS_CONSOLE_LOCKOUT_FAILURES wrong passwords in a row
(sent one by one or all at once) an operator is locked for ASSESSMENTS_CONSOLE_LOCKOUT_MINUTES,
however right the next password.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from admin.audit import Action, Actor, Audit, Outcome, Role, Via
from admin.operations import AdminError, migrated_store
from settings import Settings
from store import Store
from store.operators import (
    IssuedOperatorKey,
    Operator,
    OperatorKey,
    OperatorNameTaken,
    UnknownOperator,
)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$"
MIN_PASSWORD_LENGTH = 12
# Argon2 hashes whatever it is given: a megabyte-long "password" would cost the server, not the
# caller.
MAX_PASSWORD_LENGTH = 256
WRONG = (
    "Wrong name or password. After {failures} wrong passwords in a row an operator is locked "
    "out for {minutes:g} minutes."
)

_hasher = PasswordHasher()


@functools.cache
def _stand_in() -> str:
    """Checked when the name is unknown, so that a wrong name costs as long as a wrong password;
    hashed at the first sign-in, not when every process that imports this module starts."""
    return _hasher.hash("a password no operator has")


# Passwords checked at once, each in a thread: an Argon2 hash takes a fraction of a second of
# CPU and 64 MiB, and on the event loop a burst of wrong passwords from one address would hold up
# every other request of the API (SR's, the vendors') meanwhile.
HASHES_AT_ONCE = 2
# Who a refused sign-in is recorded as: whoever typed the name is not known to be its operator
# (no operator's name has parentheses).
UNAUTHENTICATED = "(not signed in)"


class IdentityError(AdminError):
    """A refusal whose message is safe to show (it names no secret)."""


def check_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise IdentityError(
            "an operator's name is 1 to 64 letters, digits and _ . @ + -, starting with a "
            "letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise IdentityError(
            f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )
    return password


def actor_of(operator: Operator, via: Via) -> Actor:
    return Actor(name=operator.name, via=via, role=Role(operator.role))


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    # The session's token, for the cookie only.
    token: str


class Identities:
    def __init__(self, store: Store, settings: Settings) -> None:
        self._records = store.operators
        self._store = store
        self._settings = settings
        self._hashing = asyncio.Semaphore(HASHES_AT_ONCE)

    # Operators (the CLI manages them: whoever holds the hub's database decides who operates it)

    async def add(
        self, name: str, role: Role, password: str | None, by: Actor | None = None
    ) -> Operator:
        """A new operator; `by`: who added them, for the audit log."""
        check_name(name)
        hashed = None if password is None else _hasher.hash(check_password(password))
        try:
            added = await self._records.create(name, role.value, hashed)
        except OperatorNameTaken as err:
            raise IdentityError(str(err)) from None
        if by is not None:
            await Audit(self._store, by).record(
                Action.OPERATOR_CHANGE, name, detail=f"added, role {role.value}"
            )
        return added

    async def operators(self) -> list[Operator]:
        return await self._records.operators()

    async def change(
        self,
        name: str,
        by: Actor,
        *,
        role: Role | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> Operator:
        """A new role or password, or the operator disabled (their sessions end, their keys are
        revoked) or enabled again."""
        hashed = None if password is None else _hasher.hash(check_password(password))
        try:
            changed = await self._records.change(
                name,
                role=None if role is None else role.value,
                password_hash=hashed,
                disabled=disabled,
            )
        except UnknownOperator as err:
            raise IdentityError(str(err)) from None
        what = [
            f"role {role.value}" if role is not None else "",
            "new password" if password is not None else "",
            {True: "disabled", False: "enabled"}.get(disabled, "") if disabled is not None else "",
        ]
        await Audit(self._store, by).record(
            Action.OPERATOR_CHANGE, name, detail=", ".join(w for w in what if w)
        )
        return changed

    async def seed(self, name: str, password: str) -> None:
        """The embedded stack's operator, with this start's password (created the first time)."""
        if await self._records.by_name(name) is None:
            await self.add(name, Role.OPERATOR, password)
        else:
            await self._records.change(name, password_hash=_hasher.hash(password), disabled=False)

    # Console sessions

    async def sign_in(self, name: str, password: str) -> SignedIn:
        settings = self._settings
        audit = Audit(self._store, Actor(name=UNAUTHENTICATED, via=Via.CONSOLE, role=Role.VIEWER))
        found = await self._records.by_name(name) if re.fullmatch(NAME_PATTERN, name) else None
        operator, hashed = found if found is not None else (None, None)
        right, took = await self._verified(hashed or _stand_in(), password[:MAX_PASSWORD_LENGTH])
        # A refusal answers no sooner than the hash took again: a known name's count and audit
        # record are written within that time, an unknown name's nothing, and both take as long.
        answer_at = time.monotonic() + took
        now = datetime.now(UTC)
        wrong = WRONG.format(
            failures=settings.console_lockout_failures, minutes=settings.console_lockout_minutes
        )
        try:
            if operator is None or hashed is None:
                raise IdentityError(wrong)
            if operator.disabled_at is not None:
                await audit.record(Action.SIGN_IN, name, outcome=Outcome.REFUSED, detail="disabled")
                raise IdentityError(wrong)
            if (operator.locked_until is not None and operator.locked_until > now) or (
                right and not await self._records.signed_in(operator.id)
            ):
                # Locked out, or locked (or disabled) by failures checked while this was.
                await audit.record(
                    Action.SIGN_IN, name, outcome=Outcome.REFUSED, detail="locked out"
                )
                raise IdentityError(wrong)
            if not right:
                locked = await self._records.failed_sign_in(
                    operator.id,
                    settings.console_lockout_failures,
                    timedelta(minutes=settings.console_lockout_minutes),
                )
                detail = "wrong password" + ("; now locked out" if locked else "")
                await audit.record(Action.SIGN_IN, name, outcome=Outcome.REFUSED, detail=detail)
                raise IdentityError(wrong)
        except IdentityError:
            await asyncio.sleep(answer_at - time.monotonic())
            raise
        return await self._start_session(operator)

    async def _verified(self, hashed: str, password: str) -> tuple[bool, float]:
        """Whether the password is right, and how long the hash took to check it (without the
        wait for a turn)."""
        async with self._hashing:
            started = time.monotonic()
            right = await asyncio.to_thread(_verify, hashed, password)
            return right, time.monotonic() - started

    async def sign_in_as(self, name: str, how: str = "sso") -> SignedIn:
        """A session for the operator someone else vouched for (`how`: the identity provider
        that authenticated them, single sign-on): no password, but only an operator of ours, and
        not a disabled one."""
        audit = Audit(self._store, Actor(name=name[:64], via=Via.CONSOLE, role=Role.VIEWER))
        found = await self._records.by_name(name) if re.fullmatch(NAME_PATTERN, name) else None
        if found is None or found[0].disabled_at is not None:
            why = "not an operator" if found is None else "not an operator (disabled)"
            await audit.record(
                Action.SIGN_IN, name, outcome=Outcome.REFUSED, detail=f"{how}: {why}"
            )
            raise IdentityError(f"{name[:100]} is not an operator of this hub")
        return await self._start_session(found[0], detail=how)

    async def _start_session(self, operator: Operator, detail: str | None = None) -> SignedIn:
        token = await self._records.start_session(
            operator.id, timedelta(hours=self._settings.console_session_hours)
        )
        actor = actor_of(operator, Via.CONSOLE)
        await Audit(self._store, actor).record(Action.SIGN_IN, operator.name, detail=detail)
        return SignedIn(actor=actor, token=token)

    async def session(self, token: str) -> Actor | None:
        operator = await self._records.session_operator(
            token, timedelta(minutes=self._settings.console_idle_minutes)
        )
        return None if operator is None else actor_of(operator, Via.CONSOLE)

    async def sign_out(self, token: str, actor: Actor) -> None:
        await self._records.end_session(token)
        await Audit(self._store, actor).record(Action.SIGN_OUT, actor.name)

    # Admin API keys

    async def key_actor(self, key: str) -> Actor | None:
        operator = await self._records.key_operator(key)
        return None if operator is None else actor_of(operator, Via.API)

    async def issue_key(self, name: str, label: str, by: Actor) -> IssuedOperatorKey:
        if await self._records.by_name(name) is None:
            raise IdentityError(f"no operator named {name!r}")
        issued = await self._records.issue_key(name, label)
        await Audit(self._store, by).record(Action.OPERATOR_KEY, name, detail=f"issued {issued.id}")
        return issued

    async def keys(self, name: str | None = None) -> list[OperatorKey]:
        return await self._records.keys(name)

    async def revoke_key(self, key_id: str, by: Actor) -> OperatorKey:
        revoked = await self._records.revoke_key(key_id)
        if revoked is None:
            raise IdentityError(f"no operator key {key_id!r}")
        await Audit(self._store, by).record(
            Action.OPERATOR_KEY, revoked.operator, detail=f"revoked {key_id}"
        )
        return revoked


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Identities]:
    """The operators of the store of these settings (the CLI)."""
    async with migrated_store(settings) as store:
        yield Identities(store, settings)
