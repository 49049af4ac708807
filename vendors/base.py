"""The one interface every vendor adapter implements (DESIGN §3, research/vendors.md §12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from orders.models import Invitation, Order, VendorEvent, VendorResult, VendorStatus
from smartrecruiters.models import AssessmentType


@dataclass(frozen=True)
class Capabilities:
    pushes_webhooks: bool
    signature_scheme: str
    result_revisions: bool = False


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


@dataclass(frozen=True)
class Report:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class ParsedWebhook:
    """A verified webhook: the order it concerns and the hint it carries."""

    order_id: str
    event: VendorEvent


class WebhookRejected(Exception):
    """The webhook is not authentic: bad signature, outside the replay window, or a replay."""


class WebhookUnreadable(Exception):
    """The webhook is authentic but its body is not an event we can read."""


class VendorAdapter(Protocol):
    name: str
    capabilities: Capabilities

    async def list_packages(self) -> list[VendorPackage]: ...

    async def create_invitation(self, order: Order) -> Invitation:
        """Invite the candidate; idempotent per order id, so a retry never sends a second email."""

    async def get_status(self, ref: str) -> VendorStatus: ...

    async def get_result(self, ref: str) -> VendorResult: ...

    async def cancel_invitation(self, ref: str) -> None: ...

    async def download_report(self, ref: str) -> Report | None:
        """The report file, or None when the vendor has none for this assessment."""

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        """Verify the signature and read the events; raises WebhookRejected or WebhookUnreadable."""

    async def aclose(self) -> None: ...
