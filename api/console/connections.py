"""Company connections and our partner configuration at SmartRecruiters, in the console.

Disconnecting a company and registering the configuration go through `Operations`, as the admin
API's do, after a confirmation page; both are recorded in the audit log as the operator's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from admin.audit import Actor
from admin.models import MAX_PAGE_SIZE, ConnectionView
from admin.operations import AdminError, NotFound
from admin.orders import OrderLookup, order_filter
from admin.sr_check import configuration_differences
from api.console.accounts import operations, refusals, sentence
from api.console.pages import render, see_other
from api.console.session import OperatorFormDep, Refused, SignedInDep
from connections.connect import COMPANY_ID_PATTERN

router = APIRouter()

CONNECTION_NOTICES = {"disconnected": "The company was disconnected."}
SR_NOTICES = {
    "registered": "Our partner configuration was registered at SmartRecruiters.",
}


# Company connections


@router.get("/connections", response_class=HTMLResponse)
async def connections(request: Request, actor: SignedInDep) -> HTMLResponse:
    with refusals():
        listed = await operations(request, actor).connections()
    listed.sort(key=lambda connection: connection.connected_at, reverse=True)
    notice = CONNECTION_NOTICES.get(request.query_params.get("done", ""))
    cancelled = request.query_params.get("cancelled", "")
    if notice and cancelled.isdigit() and len(cancelled) < 7:
        notice += f" Open orders cancelled: {int(cancelled)}."
    return render(
        request,
        "connections.html",
        section="connections",
        connections=listed,
        notice=notice,
    )


async def _connection(request: Request, actor: Actor, company_id: str) -> ConnectionView:
    # Every connected company's id fits the pattern Connect accepts: anything else is none of
    # ours (and never reaches a query).
    if re.fullmatch(COMPANY_ID_PATTERN, company_id):
        with refusals():
            for connection in await operations(request, actor).connections():
                if connection.company_id == company_id:
                    return connection
    raise Refused(
        404, f"No connection for company {company_id[:200]!r}: it never connected to this hub."
    )


async def _open_orders(request: Request, company_id: str) -> tuple[int | None, bool, str]:
    """How many of the company's orders are open (at most a page's worth counted), whether there
    are more, or why they could not be counted."""
    app = request.app.state
    lookup = OrderLookup(app.temporal, app.store, app.settings)
    try:
        page = await lookup.list(
            order_filter(app.settings, company=company_id, open=True, limit=MAX_PAGE_SIZE)
        )
    except AdminError as err:
        return None, False, sentence(str(err))
    return len(page.orders), page.next_page_token is not None, ""


@router.get("/connections/{company_id}/disconnect", response_class=HTMLResponse)
async def confirm_disconnect(request: Request, actor: SignedInDep, company_id: str) -> HTMLResponse:
    connection = await _connection(request, actor, company_id)
    open_orders, more, uncounted = await _open_orders(request, connection.company_id)
    return render(
        request,
        "connections_disconnect.html",
        section="connections",
        connection=connection,
        open_orders=open_orders,
        more=more,
        uncounted=uncounted,
    )


@router.post("/connections/{company_id}/disconnect")
async def disconnect(request: Request, actor: OperatorFormDep, company_id: str) -> Response:
    connection = await _connection(request, actor, company_id)
    with refusals():
        cancelled = await operations(request, actor).disconnect(
            connection.company_id, request.app.state.disconnector
        )
    return see_other(f"/console/connections?done=disconnected&cancelled={cancelled}")


# Our partner configuration at SmartRecruiters


def shown(value: Any) -> str:
    """A setting's value as a line of text: strings as they are, lists joined, None as unset."""
    if value is None:
        return "(not set)"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return json.dumps(value)


@router.get("/smartrecruiters", response_class=HTMLResponse)
async def smartrecruiters(request: Request, actor: SignedInDep) -> HTMLResponse:
    ops = operations(request, actor)
    ours = ops.expected_partner_configuration()
    stored: dict[str, Any] | None = None
    problem, status_code = "", 200
    try:
        stored = await ops.partner_configuration()
    except NotFound as err:  # SR answered: it holds none for us yet. The page shows that.
        problem = sentence(str(err))
    except AdminError as err:  # SR could not be reached, or refused: what it holds is unknown
        problem, status_code = sentence(str(err)), err.status
    differences = configuration_differences(stored or {}, ours) if stored is not None else []
    differing = {difference.setting for difference in differences}
    rows = [
        {
            "setting": setting,
            "ours": shown(value),
            "at_sr": shown(stored.get(setting)) if stored is not None else "",
            "differs": setting in differing,
        }
        for setting, value in ours.items()
    ]
    return render(
        request,
        "smartrecruiters.html",
        section="smartrecruiters",
        status_code=status_code,
        rows=rows,
        stored=stored,
        stored_json=json.dumps(stored, indent=2, sort_keys=True) if stored is not None else "",
        differences=differences,
        shown=shown,
        problem=problem,
        sr_url=request.app.state.settings.sr_base_url,
        notice=SR_NOTICES.get(request.query_params.get("done", "")),
    )


@router.get("/smartrecruiters/register", response_class=HTMLResponse)
async def confirm_register(request: Request, actor: SignedInDep) -> HTMLResponse:
    ours = operations(request, actor).expected_partner_configuration()
    return render(
        request,
        "smartrecruiters_register.html",
        section="smartrecruiters",
        rows=[(setting, shown(value)) for setting, value in ours.items()],
        sr_url=request.app.state.settings.sr_base_url,
    )


@router.post("/smartrecruiters/register")
async def register(request: Request, actor: OperatorFormDep) -> Response:
    with refusals():
        await operations(request, actor).register_partner_configuration()
    return see_other("/console/smartrecruiters?done=registered")
