"""Who acts, and the audit log of what they did.

Every change an operator makes (a repair, a vendor account, a token, a key, a disconnect, the
partner configuration, a sign-in) is recorded with the operator the hub authenticated: their
console session, their admin API key, or, for the CLI on the hub's own machine, the system user.
Refusals are recorded too: an operator who tries what they may not is worth knowing about.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum

from store import Store
from store.operators import AuditEvent


class Role(StrEnum):
    # Reads everything an operator reads; changes nothing.
    VIEWER = "viewer"
    # Also repairs orders and changes vendor accounts, tokens, keys and connections.
    OPERATOR = "operator"


class Via(StrEnum):
    CONSOLE = "console"
    API = "api"  # an operator's own admin API key
    ADMIN_KEY = "admin-key"  # the shared ASSESSMENTS_ADMIN_API_KEY
    CLI = "cli"


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"


# The actions the audit log records, in the words the console's filter shows.
class Action(StrEnum):
    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    VENDOR_ACCOUNT_CREATE = "vendor-account.create"
    VENDOR_ACCOUNT_CREDENTIALS = "vendor-account.credentials"
    VENDOR_ACCOUNT_CHECK = "vendor-account.check"
    TRIGGER_TOKEN_ISSUE = "trigger-token.issue"
    TRIGGER_TOKEN_REVOKE = "trigger-token.revoke"
    API_KEY_ISSUE = "api-key.issue"
    API_KEY_REVOKE = "api-key.revoke"
    CONNECTION_DISCONNECT = "connection.disconnect"
    PARTNER_CONFIGURATION_REGISTER = "partner-configuration.register"
    ORDER_REPAIR = "order.repair"
    ORDERS_BULK_REPAIR = "orders.bulk-repair"
    OPERATOR_CHANGE = "operator.change"
    OPERATOR_KEY = "operator.key"


@dataclass(frozen=True)
class Actor:
    """The authenticated person behind a request, and how they came in."""

    name: str
    via: Via
    role: Role

    @property
    def may_change(self) -> bool:
        return self.role == Role.OPERATOR

    @classmethod
    def command_line(cls) -> Actor:
        """Whoever runs the CLI on the hub's machine: they hold its database and keys already."""
        try:
            user = getpass.getuser()
        except OSError:  # no name for this uid (a container's)
            user = "unknown"
        return cls(name=f"cli:{user}"[:64], via=Via.CLI, role=Role.OPERATOR)


class Audit:
    def __init__(self, store: Store, actor: Actor) -> None:
        self.store = store
        self.actor = actor

    async def record(
        self,
        action: Action,
        target: str,
        *,
        reason: str | None = None,
        outcome: Outcome = Outcome.DONE,
        detail: str | None = None,
    ) -> AuditEvent:
        return await self.store.operators.record(
            operator=self.actor.name,
            via=self.actor.via.value,
            action=action.value,
            target=target[:400],
            reason=reason,
            outcome=outcome.value,
            detail=None if detail is None else detail[:1000],
        )

    @contextlib.asynccontextmanager
    async def recorded(
        self,
        action: Action,
        target: str,
        *,
        reason: str | None = None,
        refusals: tuple[type[Exception], ...] = (),
    ) -> AsyncIterator[list[str]]:
        """Records the work in the block: done (with what the block appended to the list it
        gets, as detail), refused (one of `refusals`, with its message) or failed (anything else,
        by its type only: its message may carry what the log must not)."""
        details: list[str] = []
        try:
            yield details
        except refusals as err:
            await self.record(
                action, target, reason=reason, outcome=Outcome.REFUSED, detail=str(err)
            )
            raise
        except Exception as err:
            await self.record(
                action, target, reason=reason, outcome=Outcome.FAILED, detail=type(err).__name__
            )
            raise
        await self.record(action, target, reason=reason, detail="; ".join(details) or None)
