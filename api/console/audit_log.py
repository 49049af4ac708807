"""The audit log in the console: who did what, through which door, and how it ended.

Newest first, a page at a time ("Older" continues below the last event shown), narrowed by
operator, action, target and dates. Any signed-in operator may read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from admin.audit import Action
from api.console.pages import render
from api.console.session import SignedInDep
from store.operators import AuditQuery

router = APIRouter()

PAGE_SIZE = 50
ACTIONS = tuple(action.value for action in Action)


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date such as 2025-01-31") from None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _end_of(day: date) -> datetime | None:
    """The whole day named: events before the next one's midnight; none after the last day
    there is (no bound, never an overflow)."""
    return _at(day + timedelta(days=1)) if day < date.max else None


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    actor: SignedInDep,
    operator: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    target: Annotated[str, Query(max_length=400)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    before: Annotated[str, Query(max_length=18)] = "",
) -> HTMLResponse:
    filters = {
        "operator": operator.strip(),
        "action": action,
        "target": target.strip(),
        "since": since,
        "until": until,
    }
    errors = []
    if action and action not in ACTIONS:
        errors.append("Action must be one of the list.")
    try:
        first_day = _day(since, "Since")
    except ValueError as err:
        errors.append(f"{err}.")
        first_day = None
    try:
        last_day = _day(until, "Until")
    except ValueError as err:
        errors.append(f"{err}.")
        last_day = None
    if first_day and last_day and last_day < first_day:
        errors.append("Until must not be before since.")
    if before and not (before.isascii() and before.isdigit()):
        errors.append("The page asked for is not one of the log's: start from the newest.")
    events, more = [], False
    if not errors:
        found = await request.app.state.store.operators.events(
            AuditQuery(
                operator=filters["operator"] or None,
                action=action or None,
                target=filters["target"] or None,
                since=_at(first_day) if first_day else None,
                until=_end_of(last_day) if last_day else None,
                before=int(before) if before else None,
                limit=PAGE_SIZE + 1,
            )
        )
        events, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    given = {name: value for name, value in filters.items() if value}
    older = (
        f"/console/audit?{urlencode({**given, 'before': events[-1].id})}" if more and events else ""
    )
    newest = f"/console/audit?{urlencode(given)}" if before else ""
    return render(
        request,
        "audit.html",
        section="audit",
        status_code=400 if errors else 200,
        events=events,
        filters=filters,
        actions=ACTIONS,
        errors=errors,
        older=older,
        newest=newest,
        filtered=bool(given),
        when=lambda at: f"{at:%Y-%m-%d %H:%M:%S} UTC",
    )
