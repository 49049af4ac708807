"""POST /webhooks/{vendor}: vendors tell us something changed; we pass it to the order's workflow."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from orders.visibility import workflow_id
from vendors.base import WebhookRejected, WebhookUnreadable
from workflows.order import AssessmentOrderWorkflow

router = APIRouter(tags=["Vendors"])
log = logging.getLogger("assessments.webhooks")


@router.post("/webhooks/{vendor}", status_code=202)
async def receive_webhook(vendor: str, request: Request):
    """Verify the signature and signal the order. Answers at once; the workflow does the work."""
    adapter = request.app.state.vendors.webhook_verifier(vendor)
    if adapter is None:
        raise HTTPException(404, "Unknown vendor")
    raw_body = await request.body()
    try:
        parsed = adapter.parse_webhook(request.headers, raw_body)
    except WebhookRejected as err:
        log.warning("rejected %s webhook: %s", vendor, err)
        raise HTTPException(401, "Webhook signature rejected") from None
    except WebhookUnreadable as err:
        log.warning("unreadable %s webhook: %s", vendor, err)
        raise HTTPException(400, "Webhook body is not a readable event") from None
    temporal = request.app.state.temporal
    for item in parsed:
        handle = temporal.get_workflow_handle(workflow_id(item.order_id))
        try:
            await handle.signal(AssessmentOrderWorkflow.vendor_event, item.event, rpc_timeout=request.app.state.settings.temporal_rpc_timeout)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                # Finished or unknown order: nothing is waiting for this event any more.
                log.info("%s webhook for an order that is not running", vendor)
                continue
            raise HTTPException(503, "Temporarily unable to accept the webhook; please retry") from None
    return JSONResponse({"accepted": len(parsed)}, status_code=202)
