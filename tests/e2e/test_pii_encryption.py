"""Candidate data is unreadable in Temporal's database, and readable through our codec endpoint."""

from __future__ import annotations

import json

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from tests.support.order_workflows import order_workflow_id


def temporal_files(stack) -> list:
    """Temporal's SQLite database with its write-ahead log (recent writes may be there only)."""
    return sorted(stack.settings.data_dir.glob("temporal.db*"))


async def completed_order(world) -> tuple[str, dict]:
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.at_vendor("complete", order_id, score=80)
    await world.sr_status_becomes(order_id, "COMPLETED")
    return order_id, placed["candidate"]


async def test_no_candidate_data_in_temporals_database(world, stack):
    order_id, candidate = await completed_order(world)
    stored = b"".join(path.read_bytes() for path in temporal_files(stack))
    assert order_id.encode() in stored  # the order is there (workflow id, search attributes)...
    for pii in (candidate["email"], candidate["last_name"]):
        assert pii.encode() not in stored, (
            "candidate data readable in Temporal's database"
        )  # ...its candidate is not


async def test_operators_read_orders_through_the_codec_endpoint(world, stack, temporal):
    order_id, candidate = await completed_order(world)
    history = await temporal.get_workflow_handle(order_workflow_id(order_id)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input
    encrypted = json_format.MessageToJson(started)
    assert candidate["email"] not in encrypted
    ui_origin = f"http://127.0.0.1:{stack.settings.temporal_ui_port}"
    ui_endpoint = stack.settings.ui_codec_endpoint

    decoded = await world.http.post(
        f"{ui_endpoint}/decode",
        content=encrypted,
        headers={"Origin": ui_origin, "X-Namespace": "default"},
    )
    assert (
        decoded.status_code == 200 and decoded.headers["access-control-allow-origin"] == ui_origin
    )
    [payload] = json_format.Parse(decoded.content, Payloads()).payloads
    assert json.loads(payload.data)["candidate"]["email"] == candidate["email"]

    # The browser's preflight from the UI is answered; other origins get no CORS grant.
    preflight = await world.http.options(
        f"{ui_endpoint}/decode",
        headers={"Origin": ui_origin, "Access-Control-Request-Method": "POST"},
    )
    assert (
        preflight.status_code == 204
        and "X-Namespace" in preflight.headers["access-control-allow-headers"]
    )
    elsewhere = await world.http.post(
        f"{ui_endpoint}/decode", content=encrypted, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in elsewhere.headers

    # Without the capability, or the admin key, nothing is decoded.
    guessed = ui_endpoint.rsplit("/", 1)[0] + "/0" * 20
    assert (await world.http.post(f"{guessed}/decode", content=encrypted)).status_code == 404
    assert (
        await world.http.post(f"{world.api}/codec/decode", content=encrypted)
    ).status_code == 401
    admin = {"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"}
    with_key = await world.http.post(f"{world.api}/codec/decode", content=encrypted, headers=admin)
    assert with_key.status_code == 200
    [plain] = json_format.Parse(with_key.content, Payloads()).payloads
    assert json.loads(plain.data)["candidate"]["email"] == candidate["email"]
    # Encoding gives back what Temporal would store: sealed, under the current key.
    reencoded = await world.http.post(
        f"{world.api}/codec/encode", content=with_key.content, headers=admin
    )
    [sealed] = json_format.Parse(reencoded.content, Payloads()).payloads
    assert (
        sealed.metadata["encoding"] == b"binary/encrypted"
        and candidate["email"].encode() not in sealed.data
    )
    assert (
        await world.http.post(f"{world.api}/codec/decode", content=b"not json", headers=admin)
    ).status_code == 400
