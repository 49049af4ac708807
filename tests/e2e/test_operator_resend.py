"""An operator has the vendor send the invitation again,
on the real stack with the sandbox vendor."""

from __future__ import annotations

from admin.repairs import resend_refusal

WHO = {"operator": "ops.ann", "reason": "Candidate found no email"}
PAST_THE_INVITATION = (
    "The candidate is past the invitation (vendor status STARTED); there is nothing to resend"
)


async def _timeline(admin, order_id: str) -> list[str]:
    shown = await admin.get(f"/orders/{order_id}")
    assert shown.status_code == 200, shown.text
    return [item["what"] for item in shown.json()["timeline"]]


async def test_the_vendor_emails_the_invitation_again_until_the_candidate_starts(
    pending, admin, world
):
    order_id = pending["order_id"]
    first = await world.invitation_email(order_id)

    resent = await admin.post(f"/orders/{order_id}/repairs/resend-invitation", json=WHO)

    assert resent.status_code == 200, resent.text
    note = "Repair by ops.ann: invitation sent again by the vendor (Candidate found no email)"
    assert resent.json()["repair"] == "resend-invitation" and resent.json()["note"] == note
    emails = await world.outbox(order_id)
    assert len(emails) == 2 and {e["link"] for e in emails} == {first["link"]}
    assert {e["invitation_id"] for e in emails} == {first["invitation_id"]}
    assert note in await _timeline(admin, order_id)
    assert (await world.sr_order(order_id))["result"]["status"] == "PENDING"  # nothing else changed

    await world.at_vendor("start", order_id)
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    refused = await admin.post(f"/orders/{order_id}/repairs/resend-invitation", json=WHO)

    assert refused.status_code == 409 and refused.json()["message"] == PAST_THE_INVITATION
    assert len(await world.outbox(order_id)) == 2
    assert [what for what in await _timeline(admin, order_id) if what.startswith("Repair by")] == [
        note
    ]


def test_orders_of_a_vendor_without_resend_are_refused_before_their_workflow_is_asked():
    assert (
        resend_refusal("checkr")
        == "checkr offers no resend through this integration (docs/vendors.md)"
    )
    assert (
        resend_refusal("sandbox") is None
        and resend_refusal("hackerrank") is None
        and resend_refusal("testgorilla") is None
    )
