"""Checkr's own published examples (tests/vendors/examples/checkr/, sources in its README), replayed
against the adapter: its reading must hold for what Checkr documents, not only for our simulator."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from orders.models import VendorStatus
from vendors import checkr
from vendors.base import WebhookRejected, WebhookUnreadable

EXAMPLES = Path(__file__).parent / "examples" / "checkr"
API_KEY = "examples-api-key"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def signed(body: dict, key: str = API_KEY) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body, separators=(",", ":")).encode()  # Checkr signs its compact JSON
    return {"X-Checkr-Signature": hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()}, raw


def fresh(event: dict) -> dict:
    """The example as if sent now: older events are refused as replays of a capture."""
    return event | {"created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def checkr_showing(report: dict) -> checkr.CheckrVendor:
    """An adapter whose Checkr shows a completed invitation with `report` as its report."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/invitations/"):
            return httpx.Response(
                200,
                json={
                    "id": "i1",
                    "object": "invitation",
                    "status": "completed",
                    "report_id": report["id"],
                    "deleted_at": None,
                },
            )
        assert request.url.path == f"/v1/reports/{report['id']}"
        return httpx.Response(200, json=report)

    return checkr.CheckrVendor(
        api_key=API_KEY, base_url="https://checkr.test", transport=httpx.MockTransport(answer)
    )


def test_the_official_signature_vector_is_accepted():
    vector = example("signature_vector.json")
    adapter = checkr.CheckrVendor(api_key=vector["secret"])
    compact = json.dumps(json.loads(vector["payload"]), separators=(",", ":")).encode()
    # Authentic (so it gets past the signature) but not an event.
    with pytest.raises(WebhookUnreadable):
        adapter.parse_webhook({"X-Checkr-Signature": vector["signature"]}, compact)
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(
            {"X-Checkr-Signature": vector["signature"]}, compact.replace(b"75F", b"76F")
        )


def test_the_documented_report_event_names_its_candidate():
    adapter = checkr.CheckrVendor(api_key=API_KEY)
    event = example("report_event.json")
    [parsed] = adapter.parse_webhook(*signed(fresh(event)))
    assert (parsed.event.event_id, parsed.event.kind, parsed.webhook_key) == (
        event["id"],
        "report.completed",
        event["data"]["object"]["candidate_id"],
    )
    with pytest.raises(WebhookRejected):  # as published, years old: a replay
        adapter.parse_webhook(*signed(event))


async def test_the_documented_event_without_its_object_is_resolved_through_the_report():
    event = fresh(example("event_include_object_off.json"))
    adapter = checkr_showing(example("report_retrieve.json"))
    assert adapter.parse_webhook(*signed(event)) == []  # an object type we do not follow
    report_event = event | {
        "type": "report.completed",
        "data": {"object": event["data"]["object"] | {"object": "report"}},
    }
    [parsed] = adapter.parse_webhook(*signed(report_event))
    assert parsed.webhook_key is None and await parsed.resolve_key() == "551564b7865af96a28b13f36"
    await adapter.aclose()


async def test_the_documented_report_reads_as_a_clear_completion():
    report = example("report_retrieve.json")
    adapter = checkr_showing(report)
    status = await adapter.get_status("c1:i1")
    assert status.status == VendorStatus.COMPLETED and status.revision == report["completed_at"]
    result = await adapter.get_result("c1:i1")
    assert result.outcome == "clear" and result.summary == "Background check complete: clear."
    assert await adapter.download_report("c1:i1") is None  # no documents embedded
    revised = checkr_showing(report | {"revised_at": "2018-08-20T09:00:00Z"})
    assert (await revised.get_status("c1:i1")).revision == "2018-08-20T09:00:00Z"
    await adapter.aclose()
    await revised.aclose()


async def test_the_sdks_report_with_list_objects_is_read():
    report = example("sdk_report_retrieve.json")
    adapter = checkr_showing(report)
    assert (await adapter.get_status("c1:i1")).status == VendorStatus.PROCESSING
    result = await adapter.get_result(
        "c1:i1"
    )  # screenings named by id only: nothing to report on them
    assert result.tests == [] and result.outcome is None
    with_documents = checkr_showing(report | {"documents": {"object": "list", "data": []}})
    assert await with_documents.download_report("c1:i1") is None
    await adapter.aclose()
    await with_documents.aclose()
