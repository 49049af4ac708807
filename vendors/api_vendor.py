"""The adapter of vendors that implement our Vendor API (docs/vendor-api.md) instead of having an
adapter of their own.

Such a vendor has no API for us to call: we send it signed webhooks (Standard Webhooks), and it
reports through ours, which keeps its reports in the store (store/vendor_api.py). So this adapter
reads the store where others read their vendor's API, and the order's workflow follows an API
vendor's orders exactly as any other's: polling (the store, cheaply), hints from the vendor's
PATCHes, deadlines, revisions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from orders.models import Invitation, Order, StatusReading, VendorResult
from peers import PeerError, peer_client
from settings import Settings
from store.vendor_api import ApiOrder, VendorApiRecords
from vendors import api_protocol as protocol
from vendors.base import (
    CandidateLimits,
    Capabilities,
    CredentialsUnusable,
    Length,
    OrderCallback,
    PackageTest,
    ParsedWebhook,
    Push,
    Report,
    VendorPackage,
    WebhookUnreadable,
)

NAME = "api"
PEER = "API vendor"
# How long a webhook delivery waits for the vendor's whole answer, and the most of it read: an
# answer is a test link and an id; a catalog of 500 packages fits in the second.
DELIVERY_TIMEOUT_SECONDS = 10.0
ANSWER_BYTES_AT_MOST = 64 * 1024
CATALOG_BYTES_AT_MOST = 2 * 1024 * 1024
# An inline order's test link: how long the invitation waits for the vendor to PATCH it when its
# answer to order.created had none (SR waits for the link about this long).
INLINE_LINK_WAIT_SECONDS = 20.0
INLINE_LINK_CHECK_SECONDS = 0.5

log = logging.getLogger("assessments.vendors.api")


def from_account(
    settings: Settings, credentials: dict, account_id: str, records: VendorApiRecords
) -> ApiVendor:
    """The adapter of an API vendor account: its webhook URL and Standard Webhooks secret."""
    url = str(credentials["webhook_url"])
    packages_url = credentials.get("packages_url")
    for name, given in (("webhook_url", url), ("packages_url", packages_url or "https://")):
        if not str(given).startswith(("https://", "http://")):
            raise CredentialsUnusable(f"{name} must be an http or https URL")
    secret = str(credentials["webhook_secret"])
    try:
        signer = Webhook(secret)
    except (ValueError, EmptyWebhookSecretError):  # empty, or not base64
        raise CredentialsUnusable("webhook_secret must be a whsec_… base64 secret") from None
    return ApiVendor(
        account_id=account_id,
        records=records,
        webhook_url=url,
        signer=signer,
        packages_url=None if packages_url is None else str(packages_url),
    )


class ApiVendor:
    name = NAME
    capabilities = Capabilities(
        push=Push.VENDOR_API,
        push_auth="api_key",
        idempotency="reference_returns_existing",
        cancel=True,
        results_revisable=True,
        rate_limit="ours: 20 requests/s per account",
        candidate_limits=CandidateLimits(
            first_name=Length(1, 200), last_name=Length(1, 200), email=Length(3, 320)
        ),
    )

    def __init__(
        self,
        *,
        account_id: str,
        records: VendorApiRecords,
        webhook_url: str,
        signer: Webhook,
        packages_url: str | None = None,
    ) -> None:
        self._account_id = account_id
        self._records = records
        self._webhook_url = webhook_url
        self._signer = signer
        self._packages_url = packages_url
        self._http = peer_client(timeout=DELIVERY_TIMEOUT_SECONDS)

    @property
    def webhook_url(self) -> str:
        return self._webhook_url

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_packages(self) -> list[VendorPackage]:
        """The catalog from the vendor's package-list URL where it has one, else the one it
        published to us."""
        if self._packages_url is not None:
            packages = (await self._catalog_at_vendor()).packages
        else:
            published = await self._records.catalog(self._account_id) or []
            packages = [protocol.Package.model_validate(package) for package in published]
        return [
            VendorPackage(
                id=package.id,
                name=package.name,
                description=package.description or package.name,
                type=package.type,
                tests=tuple(
                    PackageTest(test.id, test.name, test.description or test.name)
                    for test in package.assessments
                ),
                deadline_days=package.deadline_days,
                inline=package.inline,
            )
            for package in packages
        ]

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        """Send the vendor order.created (again, if an earlier try got no answer: the same
        webhook id, which the vendor deduplicates on)."""
        api_order = await self._records.open_order(
            self._account_id,
            order.reference,
            protocol.details(order),
            protocol.ApiStatus.PENDING.value,
        )
        response = await self._deliver(api_order, protocol.Event.ORDER_CREATED)
        api_order = await self._take_answer(api_order, response)
        test_url = api_order.reported.get("test_url")
        if order.inline and not test_url:
            test_url = await self._wait_for_link(api_order)
        return Invitation(vendor_ref=api_order.id, test_url=test_url or "", results_revisable=True)

    async def get_status(self, ref: str) -> StatusReading:
        return protocol.reading(await self._order(ref))

    async def get_result(self, ref: str) -> VendorResult:
        result = protocol.result(await self._order(ref))
        if result is None:
            raise PeerError(PEER, "no result reported yet", status=409, retryable=False)
        return result

    async def cancel_invitation(self, ref: str) -> None:
        """Close the order (the vendor's later changes are refused) and tell the vendor why."""
        order = await self._order(ref)
        if order.closed_reason is None:
            reason = (
                protocol.Closing.EXPIRED
                if datetime.fromisoformat(order.details["deadline"]) <= datetime.now(UTC)
                else protocol.Closing.CANCELLED
            )
            order = await self._records.close_order(order.reference, reason.value) or order
        await self._deliver(order, protocol.Event.ORDER_CANCELLED, {"reason": order.closed_reason})

    async def abandon_invitation(self, order_reference: str) -> None:
        """Close the order the vendor may have seen (its reports are then refused), and tell the
        vendor if it ever took the order.created."""
        order = await self._records.order_by_reference(order_reference)
        if order is None or order.closed_reason is not None:
            return
        closed = await self._records.close_order(order_reference, protocol.Closing.CANCELLED.value)
        assert closed is not None  # it exists: closing keeps it
        if await self._records.delivered(
            closed.id, _message_id(closed, protocol.Event.ORDER_CREATED)
        ):
            await self._deliver(
                closed, protocol.Event.ORDER_CANCELLED, {"reason": closed.closed_reason}
            )

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        raise PeerError(PEER, "the Vendor API has no resend", status=409, retryable=False)

    async def download_report(self, ref: str) -> Report | None:
        content = await self._records.report(ref)
        if content is None:
            return None
        return Report(filename=f"assessment-report-{ref}.pdf", content=content)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        raise WebhookUnreadable("API vendors report through the Vendor API, not by webhook")

    async def _catalog_at_vendor(self) -> protocol.Catalog:
        """GET the vendor's package-list URL, signed as our webhooks are (over an empty body),
        so the vendor knows the hub asks."""
        assert self._packages_url is not None
        now = datetime.now(UTC)
        message_id = f"msg_catalog_{secrets.token_hex(8)}"
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(message_id, now, ""),
        }
        status, body = await self._call(
            "package list", "GET", self._packages_url, CATALOG_BYTES_AT_MOST, headers=headers
        )
        if not 200 <= status < 300:
            raise PeerError(
                PEER, f"package list answered HTTP {status}", status=status, retryable=status >= 500
            )
        try:
            return protocol.Catalog.model_validate_json(body)
        except ValueError as err:
            raise PeerError(PEER, "package list is not in the Vendor API's shape") from err

    async def _call(
        self, action: str, method: str, url: str, at_most: int, **options: Any
    ) -> tuple[int, bytes]:
        """A request to the vendor's server, which is the vendor's to write: its answer is read up
        to `at_most` bytes and within DELIVERY_TIMEOUT_SECONDS in all, whatever it sends."""

        async def exchange() -> tuple[int, bytes]:
            async with self._http.stream(method, url, **options) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > at_most:
                        raise PeerError(PEER, f"{action} answered with more than {at_most} bytes")
                return response.status_code, bytes(body)

        try:
            return await asyncio.wait_for(exchange(), DELIVERY_TIMEOUT_SECONDS)
        except TimeoutError:
            raise PeerError(PEER, f"{action}: no whole answer within the time") from None
        except httpx.TransportError as err:
            raise PeerError(PEER, f"{action} failed: {type(err).__name__}") from err

    async def _order(self, ref: str) -> ApiOrder:
        order = await self._records.order(self._account_id, ref)
        if order is None:
            raise PeerError(PEER, "no such order at this account", status=404, retryable=False)
        return order

    async def _deliver(
        self, order: ApiOrder, event: protocol.Event, extra: dict[str, Any] | None = None
    ) -> bytes:
        """One attempt at delivering an event, signed, recorded for the vendor and operators.

        A 2xx is delivered; a 422 is the vendor refusing (final); anything else is retried by
        the activity's policy, with the same webhook id.
        """
        message_id = _message_id(order, event)
        attempt = 1 + await self._records.delivery_attempts(order.id, message_id)
        deliveries = await self._records.deliveries(order.id)
        body = json.dumps(
            {
                "type": event.value,
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "data": {"order": protocol.view(order, deliveries), **(extra or {})},
            }
        )
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(message_id, now, body),
        }
        try:
            status, answer = await self._call(
                event.value,
                "POST",
                self._webhook_url,
                ANSWER_BYTES_AT_MOST,
                content=body,
                headers=headers,
            )
        except PeerError as err:
            failure = str(err).rpartition(": ")[2]
            await self._records.record_delivery(order.id, event.value, message_id, attempt, failure)
            raise
        await self._records.record_delivery(order.id, event.value, message_id, attempt, str(status))
        if 200 <= status < 300:
            return answer
        if status == 422:
            # The vendor refuses the order for good: it is closed, so its reports are refused.
            await self._records.close_order(order.reference, protocol.Closing.REFUSED.value)
            raise PeerError(
                PEER,
                f"{event.value} refused: {_refusal_message(answer, order)}",
                status=422,
                retryable=False,
            )
        raise PeerError(PEER, f"{event.value} answered HTTP {status}", status=status)

    async def _take_answer(self, order: ApiOrder, body: bytes) -> ApiOrder:
        """The test link and the vendor's own id, when its answer to order.created has them."""
        try:
            answer = json.loads(body)
        except ValueError:
            return order
        if not isinstance(answer, dict):
            return order
        fields = {}
        for name in ("test_url", "vendor_reference"):
            try:  # each on its own: an unusable id must not cost the candidate's link
                if answer.get(name):
                    protocol.OrderPatch.model_validate({name: answer[name]})
                    fields[name] = answer[name]
            except ValueError:
                log.warning("the API vendor's answer to order.created holds an unusable %s", name)
        if not fields:
            return order
        patch = protocol.OrderPatch.model_validate(fields)
        try:
            changed = await self._records.change_order(
                self._account_id, order.id, lambda current: protocol.apply(current, patch)
            )
        except protocol.Refused:
            return order
        return order if changed is None else changed[0]

    async def _wait_for_link(self, order: ApiOrder) -> str:
        """An inline order's link, PATCHed by the vendor after its answer; retried if late."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + INLINE_LINK_WAIT_SECONDS
        while loop.time() < give_up_at:
            current = await self._records.order(self._account_id, order.id)
            if current is not None and current.reported.get("test_url"):
                return str(current.reported["test_url"])
            await asyncio.sleep(INLINE_LINK_CHECK_SECONDS)  # the vendor's PATCH lands in the store
        raise PeerError(PEER, "no test link for an inline order yet")


def _message_id(order: ApiOrder, event: protocol.Event) -> str:
    """One webhook id per order and event, the same for every attempt at it."""
    return f"msg_{order.id}_{event.value.replace('.', '_')}"


def _refusal_message(body: bytes, order: ApiOrder) -> str:
    """The vendor's reason for refusing an order, for recruiters (and our logs): its `message`,
    bounded, with the candidate's details taken out should the vendor have put them in."""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    if not isinstance(message, str) or not message.strip():
        return "the vendor gave no reason"
    message = " ".join(message.split())[: protocol.REFUSAL_MESSAGE_AT_MOST]
    candidate = order.details.get("candidate") or {}
    names = [str(candidate.get(part) or "").strip() for part in ("first_name", "last_name")]
    email = str(candidate.get("email") or "").strip()
    # Names as written and in capitals (proper nouns: a candidate named "Test" leaves "cannot
    # test" alone), the whole name and the address in any case.
    as_written = [name for name in names if name] + [name.upper() for name in names if name]
    any_case = [" ".join(filter(None, names)), email, email.split("@")[0]]
    for detail, flags in sorted(
        [(d, 0) for d in as_written] + [(d, re.IGNORECASE) for d in any_case if len(d) > 2],
        key=lambda item: len(item[0]),
        reverse=True,
    ):
        message = re.sub(rf"(?<!\w){re.escape(detail)}(?!\w)", "[candidate]", message, flags=flags)
    return message


def new_webhook_secret() -> str:
    """A Standard Webhooks secret for a new API vendor account."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
