"""The sandbox vendor's webhook check, without a server: signatures, windows, replays, rotation."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from orders.models import VendorEvent
from simulators.sandbox_vendor.webhooks import sign
from vendors.base import WebhookRejected, WebhookUnreadable
from vendors.sandbox import SandboxVendor

SECRET = "whsec-test"
EVENT = json.dumps(
    {
        "id": "evt_1",
        "type": "invitation.started",
        "data": {"invitation_id": "inv_1", "reference": "order-1", "status": "started"},
    }
).encode()


@pytest.fixture
def vendor() -> SandboxVendor:
    return SandboxVendor(
        base_url="http://127.0.0.1:9",
        api_key="k",
        webhook_secret=SECRET,
        timeout_seconds=1,
        webhook_tolerance_seconds=300,
    )


def headers(value: str) -> dict:
    return {"sandbox-signature": value}


def test_valid_signature_yields_the_event(vendor):
    [parsed] = vendor.parse_webhook(headers(sign(SECRET, EVENT, int(time.time()))), EVENT)
    assert parsed.order_reference == "order-1" and parsed.event.event_id == "evt_1"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=,v1=",
        "v1=abc",
        "t=123",
        "t=1_700_000_000,v1=00",
        "t=١٧٠٠٠٠٠٠٠٠,v1=00",  # non-ASCII digits
        "t={now},v1=ünïcödé",  # non-ASCII signature: refused, not a crash
        "t={now},v1=" + "0" * 64,
        "t={now},t={now},v1=" + "0" * 64,
    ],
)
def test_malformed_or_wrong_signatures_are_rejected(vendor, header):
    with pytest.raises(WebhookRejected):
        vendor.parse_webhook(headers(header.format(now=int(time.time()))), EVENT)


def test_signature_outside_the_window_is_rejected(vendor):
    for skew in (-301, 301):
        with pytest.raises(WebhookRejected, match="window"):
            vendor.parse_webhook(headers(sign(SECRET, EVENT, int(time.time()) + skew)), EVENT)


def test_the_same_signed_request_twice_is_a_replay(vendor):
    header = headers(sign(SECRET, EVENT, int(time.time())))
    vendor.parse_webhook(header, EVENT)
    with pytest.raises(WebhookRejected, match="replay"):
        vendor.parse_webhook(header, EVENT)


def test_a_tampered_body_is_rejected(vendor):
    header = headers(sign(SECRET, EVENT, int(time.time())))
    with pytest.raises(WebhookRejected, match="mismatch"):
        vendor.parse_webhook(header, EVENT.replace(b"started", b"completed"))


def test_rotated_secrets_any_matching_v1_is_accepted(vendor):
    now = int(time.time())
    old = sign("previous-secret", EVENT, now).split(",")[1]
    vendor.parse_webhook(headers(f"{sign(SECRET, EVENT, now)} , {old}"), EVENT)


def test_authentic_but_unreadable_body(vendor):
    body = b'{"id": "evt_2"}'
    with pytest.raises(WebhookUnreadable):
        vendor.parse_webhook(headers(sign(SECRET, body, int(time.time()))), body)


def test_what_an_event_brings_into_the_order_is_bounded(vendor):
    long_id = "evt_" + "x" * 100_000
    data = {"invitation_id": "inv_" + "y" * 5_000, "reference": "order-1", "status": "started"}
    body = json.dumps({"id": long_id, "type": "invitation." + "z" * 1_000, "data": data}).encode()
    [parsed] = vendor.parse_webhook(headers(sign(SECRET, body, int(time.time()))), body)
    event = parsed.event
    # Longer than 200 characters: a fixed-size digest, the same for a re-delivery of the event.
    assert event.event_id == f"sha256:{hashlib.sha256(long_id.encode()).hexdigest()}"
    assert all(len(text) <= 200 for text in (event.event_id, event.kind, event.vendor_ref))
    assert len(event.model_dump_json()) < 300
    # 200 characters are kept as they are.
    assert VendorEvent(event_id="e" * 200, kind="k").event_id == "e" * 200
