"""How vendor webhooks find their order: per-order URLs with our bearer token,
and per-account URLs."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

from simulators.sandbox_vendor.webhooks import sign
from tests.support.connect import connect_company
from tests.support.order_workflows import order_reference_of, order_workflow_id
from tests.support.waiting import eventually
from vendors.webhooks import callback_token
from workflows.order import AssessmentOrderWorkflow

ACCOUNT_SECRET = "account-webhook-secret"


async def events_of(temporal, order_id: str) -> list[str]:
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    return state.events_received


async def test_a_per_order_webhook_needs_that_orders_bearer_token(world, stack, temporal):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    key = stack.settings.token_signing_key.get_secret_value().encode()
    reference = order_reference_of(order_id)
    url = f"{world.api}/webhooks/hackerrank/orders/{quote(reference, safe='')}"
    body = b'{"id": 1, "score": 40, "max_score": 60}'

    async def post(token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await world.http.post(url, content=body, headers=headers)

    assert (await post(None)).status_code == 401
    for not_per_order in (
        "checkr",
        "testgorilla",
        "no-such-vendor",
    ):  # they push per account, or not at all
        assert (
            await world.http.post(
                f"{world.api}/webhooks/{not_per_order}/orders/{order_id}", content=body
            )
        ).status_code == 404
    assert (
        await post(callback_token(key, "another-order"))
    ).status_code == 401  # one order's token opens no other
    assert (
        await post(callback_token(key, order_id))
    ).status_code == 401  # nor the token of another company's order with its id
    assert (await post(callback_token(b"not-our-key", reference))).status_code == 401
    assert await events_of(temporal, order_id) == []

    accepted = await post(callback_token(key, reference))
    assert accepted.status_code == 202 and accepted.json() == {"accepted": 1}
    redelivered = await post(callback_token(key, reference))  # vendors deliver at least once
    assert redelivered.status_code == 202 and redelivered.json() == {"accepted": 1}
    received = await eventually(
        lambda: events_of(temporal, order_id), what="the push to reach the workflow"
    )
    assert len(received) == 1 and received[0].startswith("hackerrank:")
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    assert state.duplicate_events == 0  # the copy was recognised before it reached the workflow

    # An order that is not running (or not ours) takes nothing, and says so.
    unknown = f"no-such-order-{uuid.uuid4().hex[:6]}"
    missing = await world.http.post(
        f"{world.api}/webhooks/hackerrank/orders/{unknown}",
        content=body,
        headers={"Authorization": f"Bearer {callback_token(key, unknown)}"},
    )
    assert missing.status_code == 202 and missing.json() == {"accepted": 0}


async def test_an_account_webhook_is_checked_with_the_accounts_secret_and_routed_by_its_invitations(
    world, stack, store, registered, temporal
):
    account = await store.create_vendor_account(
        name=f"sandbox-{uuid.uuid4().hex[:8]}",
        adapter="sandbox",
        credentials={
            "api_key": stack.settings.sandbox_vendor_api_key.get_secret_value(),
            "webhook_secret": ACCOUNT_SECRET,
        },
    )
    company_id = await connect_company(
        world.sr, (await store.issue_trigger_token(account.id)).token
    )
    ours = (await world.order("skills-fullstack", company_id=company_id))["order_id"]
    theirs = (await world.order("skills-fullstack"))["order_id"]  # the embedded default's order
    await world.sr_status_becomes(ours, "PENDING")
    await world.sr_status_becomes(theirs, "PENDING")
    handle = temporal.get_workflow_handle(order_workflow_id(ours))
    invitation = (await handle.query(AssessmentOrderWorkflow.state)).invitation
    url = f"{world.api}/webhooks/sandbox/accounts/{account.id}"

    def event(order_id: str, invitation_id: str) -> bytes:
        data = {
            "invitation_id": invitation_id,
            "reference": order_reference_of(order_id),
            "status": "started",
        }
        return json.dumps(
            {"id": f"evt-{uuid.uuid4().hex[:8]}", "type": "invitation.started", "data": data}
        ).encode()

    async def post(body: bytes, secret: str, to: str = url):
        return await world.http.post(
            to, content=body, headers={"Sandbox-Signature": sign(secret, body, int(time.time()))}
        )

    settings_secret = stack.settings.sandbox_webhook_secret.get_secret_value()
    assert (await post(event(ours, invitation.vendor_ref), settings_secret)).status_code == 401
    assert (
        await post(
            event(ours, invitation.vendor_ref),
            ACCOUNT_SECRET,
            f"{world.api}/webhooks/sandbox/accounts/no-such-account",
        )
    ).status_code == 404
    assert (
        await post(
            event(ours, invitation.vendor_ref),
            ACCOUNT_SECRET,
            f"{world.api}/webhooks/checkr/accounts/{account.id}",
        )
    ).status_code == 404
    # This account's signature cannot stir another account's order, even naming its invitation.
    stray = await post(event(theirs, invitation.vendor_ref), ACCOUNT_SECRET)
    assert stray.status_code == 202 and stray.json() == {"accepted": 0}
    # Nor can the settings' secret, at the default vendor's URL, reach this account's order.
    default_url = f"{world.api}/webhooks/sandbox"
    by_order_id = {
        "invitation_id": invitation.vendor_ref,
        "reference": ours,
        "status": "started",
    }  # as SR's order id alone
    bare = json.dumps(
        {"id": f"evt-{uuid.uuid4().hex[:8]}", "type": "invitation.started", "data": by_order_id}
    ).encode()
    for naming in (event(ours, invitation.vendor_ref), event(ours, "inv_not_ours"), bare):
        stirred = await post(naming, settings_secret, default_url)
        assert stirred.status_code == 202 and stirred.json() == {"accepted": 0}
    assert await events_of(temporal, ours) == []

    genuine = event(ours, invitation.vendor_ref)
    accepted = await post(genuine, ACCOUNT_SECRET)
    assert accepted.status_code == 202 and accepted.json() == {"accepted": 1}
    await eventually(
        lambda: events_of(temporal, ours), what="the account's event to reach the order"
    )
    assert await events_of(temporal, theirs) == []
