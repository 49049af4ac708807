"""Adapter for the sandbox vendor, our own reference vendor (simulators/sandbox_vendor)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

import httpx

from orders.models import (
    Invitation,
    Order,
    PackageTestResult,
    StatusReading,
    VendorEvent,
    VendorResult,
    VendorStatus,
)
from peers import PeerError, peer_client, send
from settings import Settings
from smartrecruiters.models import AssessmentType
from store.limits import SharedLimits
from vendors.base import (
    CandidateLimits,
    Capabilities,
    Length,
    OrderCallback,
    PackageTest,
    ParsedWebhook,
    Push,
    Report,
    VendorPackage,
    WebhookRejected,
    WebhookUnreadable,
)
from vendors.webhooks import ReplayGuard

NAME = "sandbox"
PEER = "sandbox vendor"
SIGNATURE_HEADER = "sandbox-signature"

_STATUSES = {
    "invited": VendorStatus.INVITED,
    "started": VendorStatus.STARTED,
    "completed": VendorStatus.COMPLETED,
    "declined": VendorStatus.DECLINED,
    "cancelled": VendorStatus.CANCELLED,
}
_PACKAGE_TYPES = {
    "skills_test": AssessmentType.SKILL_TEST,
    "background_check": AssessmentType.BACKGROUND_CHECK,
}
# The fields of our invitation request, as the vendor's refusals name them ("invalid request:
# candidate.first_name: …; reference: …"), and as a recruiter reads them.
_REFUSABLE_FIELDS = {
    "candidate.first_name": "the candidate's first name",
    "candidate.last_name": "the candidate's last name",
    "candidate.email": "the candidate's email address",
    "reference": "the order id",
    "package_id": "the package",
    "redirect_url": "the return address",
    "job_title": "the job's title",
}


def from_account(
    settings: Settings, credentials: dict, shared_limits: SharedLimits | None = None
) -> SandboxVendor:
    """The adapter for a vendor account's credentials;
    the settings' sandbox fills what is missing."""
    return SandboxVendor(
        base_url=credentials.get("base_url", settings.sandbox_vendor_url),
        api_key=credentials.get("api_key", settings.sandbox_vendor_api_key.get_secret_value()),
        webhook_secret=credentials.get(
            "webhook_secret", settings.sandbox_webhook_secret.get_secret_value()
        ),
        timeout_seconds=settings.vendor_timeout_seconds,
        webhook_tolerance_seconds=settings.webhook_tolerance_seconds,
    )


class SandboxVendor:
    name = NAME
    capabilities = Capabilities(
        push=Push.ACCOUNT_URL,
        push_auth="hmac_ts_body",
        idempotency="reference_returns_existing",
        cancel=True,
        rate_limit="none",
        resend=True,
        # simulators/sandbox_vendor/models.py Candidate
        candidate_limits=CandidateLimits(
            first_name=Length(1, 100), last_name=Length(1, 100), email=Length(3, 320)
        ),
    )

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        timeout_seconds: float,
        webhook_tolerance_seconds: int,
    ) -> None:
        self._http = peer_client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_seconds,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self._webhook_secret = webhook_secret.encode()
        self._tolerance = webhook_tolerance_seconds
        self._replays = ReplayGuard(2 * webhook_tolerance_seconds)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, action: str, path: str) -> httpx.Response:
        return await send(PEER, action, self._http, self._http.build_request("GET", path))

    async def list_packages(self) -> list[VendorPackage]:
        response = await self._get("package list", "/api/packages")
        try:
            return self._packages(response.json())
        except (ValueError, KeyError, TypeError) as err:
            raise PeerError(PEER, "package list is not in the expected shape") from err

    @staticmethod
    def _packages(body: list[dict]) -> list[VendorPackage]:
        return [
            VendorPackage(
                id=p["id"],
                name=p["name"],
                description=p["description"],
                type=_PACKAGE_TYPES.get(p["kind"], AssessmentType.SKILL_TEST),
                tests=tuple(
                    PackageTest(t["id"], t["name"], t.get("description") or t["name"])
                    for t in p["tests"]
                ),
            )
            for p in body
        ]

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        body = {
            "package_id": order.package_id,
            "reference": order.reference,
            "candidate": {
                "first_name": order.candidate.first_name,
                "last_name": order.candidate.last_name,
                "email": order.candidate.email,
            },
            "redirect_url": order.return_url,
            "job_title": order.job_title,
        }
        # The vendor deduplicates on `reference`: a retried call returns the first invitation.
        response = await send(
            PEER,
            "invitation",
            self._http,
            self._http.build_request("POST", "/api/invitations", json=body),
            refusal=_refused_fields,
        )
        invitation = response.json()
        return Invitation(vendor_ref=invitation["id"], test_url=invitation["test_url"])

    async def get_status(self, ref: str) -> StatusReading:
        response = await self._get("status", f"/api/invitations/{ref}")
        return StatusReading(
            status=_STATUSES.get(response.json().get("status"), VendorStatus.UNKNOWN)
        )

    async def get_result(self, ref: str) -> VendorResult:
        body = (await self._get("result", f"/api/invitations/{ref}/result")).json()
        return VendorResult(
            score=body.get("score"),
            max_score=body.get("max_score"),
            outcome=body.get("outcome"),
            summary=body.get("summary") or "",
            submitted_at=body.get("submitted_at"),
            tests=[
                PackageTestResult(
                    test_id=t["id"],
                    name=t["name"],
                    score=t.get("score"),
                    max_score=t.get("max_score"),
                    outcome=t.get("outcome"),
                )
                for t in body.get("tests", [])
            ],
        )

    async def abandon_invitation(self, order_reference: str) -> None:
        """Nothing to tidy: every try of the invitation came to the same one, and withdrawing
        it needs the id the vendor never gave us."""

    async def cancel_invitation(self, ref: str) -> None:
        try:
            await send(
                PEER,
                "cancellation",
                self._http,
                self._http.build_request("DELETE", f"/api/invitations/{ref}"),
            )
        except PeerError as err:
            if err.status != 409:  # 409: already completed, nothing left to cancel
                raise

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        try:
            await send(
                PEER,
                "invitation resend",
                self._http,
                self._http.build_request("POST", f"/api/invitations/{ref}/resend"),
            )
        except PeerError as err:
            if err.status == 409:  # a conflict that waiting does not resolve: never retried
                raise PeerError(
                    PEER,
                    "invitation resend refused: the candidate opened it already, or it is closed",
                    status=409,
                    retryable=False,
                ) from err
            raise

    async def download_report(self, ref: str) -> Report | None:
        response = await self._get("report download", f"/api/invitations/{ref}/report")
        return Report(
            filename=f"assessment-report-{ref}.pdf",
            content=response.content,
            content_type="application/pdf",
        )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        self._verify(headers.get(SIGNATURE_HEADER, ""), raw_body)
        try:
            event = json.loads(raw_body)
            data = event["data"]
            return [
                ParsedWebhook(
                    order_reference=str(data["reference"]),
                    event=VendorEvent(
                        event_id=str(event["id"]),
                        kind=str(event["type"]),
                        vendor_ref=str(data["invitation_id"]),
                    ),
                )
            ]
        except (ValueError, KeyError, TypeError) as err:
            raise WebhookUnreadable("not a sandbox vendor event") from err

    def _verify(self, header: str, raw_body: bytes) -> None:
        """`t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: one v1 per live secret,
        so secrets can rotate."""
        timestamps: list[str] = []
        signatures: list[str] = []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            (timestamps if key == "t" else signatures if key == "v1" else []).append(value.strip())
        # Unix seconds fit in 12 digits for 30,000 years; int() refuses more than 4,300 anyway.
        if (
            len(timestamps) != 1
            or not timestamps[0].isascii()
            or not timestamps[0].isdigit()
            or len(timestamps[0]) > 12
            or not signatures
        ):
            raise WebhookRejected("missing or malformed signature")
        signed_at = int(timestamps[0])
        if abs(time.time() - signed_at) > self._tolerance:
            raise WebhookRejected("signature outside the replay window")
        expected = (
            hmac.new(self._webhook_secret, f"{signed_at}.".encode() + raw_body, hashlib.sha256)
            .hexdigest()
            .encode()
        )
        # Bytes, compared in constant time; a non-ASCII header cannot match and must not raise.
        if not any(
            hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
            for candidate in signatures
        ):
            raise WebhookRejected("signature mismatch")
        if not self._replays.first_sight(expected.decode()):
            raise WebhookRejected("signature already used: a replay")


def _refused_fields(response: httpx.Response) -> str | None:
    """The fields the vendor's refusal names, in our words: only names we sent are kept from its
    message, never what it says of their values."""
    try:
        message = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(message, str):
        return None
    named = [
        _REFUSABLE_FIELDS[field]
        for problem in message.removeprefix("invalid request:").split(";")
        if (field := problem.partition(":")[0].strip()) in _REFUSABLE_FIELDS
    ]
    return f"it refused {' and '.join(dict.fromkeys(named))}" if named else None
