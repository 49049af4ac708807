"""The one interface every vendor adapter implements (docs/vendors.md): the service knows vendors
only through it and their declared capabilities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from orders.models import Invitation, Order, StatusReading, VendorEvent, VendorResult
from peers import BUDGET_WAIT_SECONDS, CallDeferred, steady_limiter, take_turn
from smartrecruiters.models import AssessmentType
from store.limits import LimitUnavailable, SharedLimits


class Push(StrEnum):
    """How a vendor tells us that something changed (docs/vendors.md, "Capabilities")."""

    NONE = "none"  # polling only (TestGorilla)
    PER_ORDER_URL = (
        "per_order_url"  # a URL we give with each invitation (HackerRank test_result_url)
    )
    ACCOUNT_URL = "account_url"  # one URL per vendor account; events name the vendor's ids (Checkr)
    VENDOR_API = "vendor_api"  # the vendor reports through our Vendor API (vendors/api_vendor.py)


@dataclass(frozen=True)
class Length:
    """How many characters a vendor accepts in a field; `most` None: no published maximum."""

    least: int = 0
    most: int | None = None

    def refusal(self, value: str) -> str | None:
        """Why the vendor would refuse `value` (never quoting it), or None."""
        if self.least <= len(value) and (self.most is None or len(value) <= self.most):
            return None
        if self.most is None:
            return f"at least {self.least} characters"
        return (
            f"at most {self.most} characters"
            if self.least == 0
            else f"{self.least} to {self.most} characters"
        )


@dataclass(frozen=True)
class CandidateLimits:
    """What the vendor accepts of the candidate's details, as its specification or API documents."""

    first_name: Length = Length()
    last_name: Length = Length()
    email: Length = Length()


@dataclass(frozen=True)
class Capabilities:
    """What a vendor can do, so the service adapts without knowing vendors by name."""

    push: Push
    # How pushes prove they are genuine, e.g.
    # "hmac_ts_body", "hmac_body", "bearer_we_choose", "none".
    push_auth: str
    # How a retried invitation avoids a second email: "reference_returns_existing",
    # "idempotency_key_header", "natural_key_conflict_then_lookup".
    idempotency: str
    cancel: bool
    # Whether a completed result can change later (Checkr disputes); the order then keeps watching.
    results_revisable: bool = False
    # How long the vendor keeps an invitation open, when it has its own expiry.
    vendor_expiry: timedelta | None = None
    # The vendor's published limits, for operators ("10 requests/s", "per endpoint per minute").
    rate_limit: str = ""
    # Whether the vendor emails an open invitation again on request (`resend_invitation`); an
    # operator's resend is refused for the others, since inviting again sends nothing new.
    resend: bool = False
    # Checked when SR orders, so a candidate the vendor would refuse is refused at once, by name.
    candidate_limits: CandidateLimits = CandidateLimits()


@dataclass(frozen=True)
class OrderCallback:
    """Where a vendor with per-order webhooks reports on one order, and the bearer token it shows.

    The token is derived from the order id with our key, so the webhook route checks it without
    a database and no order's token opens another's.
    """

    url: str
    token: str


@dataclass(frozen=True)
class PackageTest:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class VendorPackage:
    id: str
    name: str
    description: str
    type: AssessmentType
    tests: tuple[PackageTest, ...]
    # The candidate's deadline the vendor publishes for the package (API vendors); an operator's
    # package setting overrides it, the deployment's default stands in for it.
    deadline_days: float | None = None
    # Whether the package can be taken at once, SR sending the candidate to it (an inline order);
    # None where the vendor does not say (it is tried).
    inline: bool | None = None


@dataclass(frozen=True)
class Report:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class ParsedWebhook:
    """A verified webhook: the order it concerns and the hint it carries.

    Events that name our order carry its reference (`order_reference`, which we gave the vendor);
    every event names the vendor's own id (`webhook_key`, one of the Invitation's webhook keys, or
    the event's vendor_ref), which the route looks up in our index of the account's invitations.
    """

    event: VendorEvent
    order_reference: str | None = None
    webhook_key: str | None = None
    # For an event that names only an object we do not index (a Checkr report sent without its
    # body): reads the vendor to find the webhook key. Raises PeerError when the vendor fails.
    resolve_key: Callable[[], Awaitable[str | None]] | None = field(default=None, compare=False)


class CredentialsUnusable(ValueError):
    """A vendor account's credentials cannot make an adapter;
    the message names fields, never values."""


class WebhookRejected(Exception):
    """The webhook is not authentic: bad signature, outside the replay window, or a replay."""


class WebhookUnreadable(Exception):
    """The webhook is authentic but its body is not an event we can read."""


class VendorAdapter(Protocol):
    name: str
    capabilities: Capabilities

    async def list_packages(self) -> list[VendorPackage]: ...

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        """Invite the candidate; idempotent per order id, so a retry never sends a second email.

        `callback` is used by vendors with per-order webhooks and ignored by the others.
        """

    async def get_status(self, ref: str) -> StatusReading:
        """The normalised status; `revision` changes when a completed result is revised."""

    async def get_result(self, ref: str) -> VendorResult: ...

    async def cancel_invitation(self, ref: str) -> None: ...

    async def abandon_invitation(self, order_reference: str) -> None:
        """The order gave up inviting (its invitation never succeeded, or it was cancelled
        meanwhile): tidy up what an attempt may have left at the vendor, by our reference."""

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        """Have the vendor email the candidate's open invitation again; only where
        `capabilities.resend`.

        Refuses (a PeerError that is not retried) once the candidate has started or the invitation
        is closed. `callback` as for create_invitation: a vendor that is sent the whole invitation
        again (HackerRank) must be given the order's webhook again.
        """

    async def download_report(self, ref: str) -> Report | None:
        """The report file, or None when the vendor has none for this assessment."""

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        """Verify the signature and read the events; raises WebhookRejected or WebhookUnreadable.

        Vendors whose pushes are authenticated by our per-order bearer token (Push.PER_ORDER_URL)
        are checked by the route instead; their adapters read the body only.
        """

    async def aclose(self) -> None: ...


class AccountPace:
    """A vendor account's requests, evenly spaced at `requests` per `per_seconds`: in this process
    first, then, given the store's `shared` limits, for every process holding the account."""

    def __init__(
        self,
        peer: str,
        account_key: str,
        requests: float,
        per_seconds: float,
        shared: SharedLimits | None,
    ) -> None:
        self._peer = peer
        self._local = steady_limiter(requests, per_seconds)
        self._shared = shared
        self._subject = f"{peer}:{account_key}"
        self._interval = per_seconds / requests

    async def turn(self, action: str) -> None:
        """Wait for the account's turn, briefly: a call that would wait longer is deferred."""
        await take_turn(self._local, self._peer, action)
        if self._shared is None:
            return
        try:
            await self._shared.pace(self._subject, self._interval, BUDGET_WAIT_SECONDS)
        except LimitUnavailable as err:
            raise CallDeferred(
                self._peer, f"{action}: {err}", retry_after=err.retry_after
            ) from None
