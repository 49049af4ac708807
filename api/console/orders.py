"""The console's orders: list them by the listing's filters, find one by SR order id, vendor
reference or candidate email, see one in full, and repair one or every order of a filter.

The same logic as `GET /admin/orders…` and `assessments orders …` (admin/orders.py,
admin/repairs.py, admin/bulk_repairs.py), recorded in the audit log as the signed-in operator.

Candidate data appears on an order's own page only: never in the list, the find results or any
URL (the find form posts, and its results page does not repeat the email). Every repair shows a
confirmation page first; a bulk repair always starts as a dry run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any, get_args
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from admin.audit import Actor, Audit
from admin.bulk_repairs import repair_all
from admin.models import MAX_PAGE_SIZE, OrderFilter, OrderSearch, OrderStatus, RepairRequest
from admin.operations import AdminError, Invalid
from admin.orders import OrderLookup, order_filter
from admin.repairs import RepairKind, repair_input, repair_named_order
from api.console.pages import render, see_other
from api.console.session import FormDep, OperatorFormDep, Refused, SignedInDep
from orders.models import REASON_PATTERN
from orders.visibility import UNDELIVERED
from store import UnreadableSecret

router = APIRouter()

STATUSES = get_args(OrderStatus)
PAGE_SIZES = (25, 50, 100, MAX_PAGE_SIZE)
REPAIRS = {
    RepairKind.EXTEND_DEADLINE: "Extend deadline",
    RepairKind.RESEND_INVITATION: "Resend invitation",
    RepairKind.CANCEL: "Cancel",
    RepairKind.REPOST_RESULT: "Re-post result",
    RepairKind.RESET: "Reset",
}
# What each repair does, for the forms and the confirmation pages.
REPAIR_HINTS = {
    RepairKind.EXTEND_DEADLINE: "The candidate gets this many more days; the order expires later.",
    RepairKind.RESEND_INVITATION: "The vendor emails the invitation to the candidate again.",
    RepairKind.CANCEL: (
        "The invitation is withdrawn and SmartRecruiters shows REJECTED with the reason as its "
        "summary. This cannot be undone."
    ),
    RepairKind.REPOST_RESULT: (
        "The result is read again from the vendor and posted to SmartRecruiters again (an ended "
        "order through a reset)."
    ),
    RepairKind.RESET: (
        "A failed or undelivered order goes back to just before its final update, which a new "
        "run posts again."
    ),
}
# The repairs that make sense while the workflow runs, and once it has ended.
RUNNING_REPAIRS = (
    RepairKind.EXTEND_DEADLINE,
    RepairKind.RESEND_INVITATION,
    RepairKind.CANCEL,
    RepairKind.REPOST_RESULT,
)
ENDED_REPAIRS = (RepairKind.REPOST_RESULT, RepairKind.RESET)
REASON_RULE = (
    "Reason: 3 to 200 characters on one line, beginning with a letter or digit; letters, "
    "digits, spaces and . , ; : ! ? ' ( ) / # & + % = - only (never candidate data)"
)
FIND_BY = {
    "any": "Any of them",
    "order_id": "SR order id",
    "vendor_ref": "Vendor reference",
    "email": "Candidate email",
}
# How the filter form names the fields, for order_filter's messages.
FILTER_LABELS = {
    "company": "Company",
    "vendor": "Vendor",
    "package": "Package",
    "status": "Status",
    "older_than": "Placed more than",
    "expiring_within": "Expiring within",
    "stuck_for": "Stuck for",
    "limit": "Per page",
    "page_token": "Page",
}
_TRUE = ("true", "on", "1", "yes")
# The filters' parameters, and the longest value each takes.
FILTER_LENGTHS = {
    "company": 200,
    "vendor": 200,
    "package": 200,
    "status": 32,
    "older_than": 32,
    "expiring_within": 32,
    "open": 8,
    "stuck": 8,
    "stuck_for": 32,
    "failed": 8,
}

Text = Annotated[str, Form(max_length=200)]
Short = Annotated[str, Form(max_length=32)]
Flag = Annotated[str, Form(max_length=8)]


def order_href(reference: str) -> str:
    return "/console/orders/" + quote(reference, safe=":")


def _lookup(request: Request) -> OrderLookup:
    state = request.app.state
    return OrderLookup(state.temporal, state.store, state.settings)


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    return render(
        request,
        template,
        section="orders",
        order_href=order_href,
        repairs=REPAIRS,
        **context,
    )


# --- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The listing's filters as the operator typed them (kept to fill the form in again)."""

    company: str = ""
    vendor: str = ""
    package: str = ""
    status: str = ""
    older_than: str = ""
    expiring_within: str = ""
    open: str = ""  # "", "true" (running) or "false" (finished)
    stuck: bool = False
    stuck_for: str = ""
    failed: bool = False

    @classmethod
    def of(cls, typed: Mapping[str, Any]) -> Filters:
        """The filters of a query string (the list) or a form (bulk repairs, which carries the
        list's filters in hidden fields); Invalid for a value longer than any we take."""
        fields: dict[str, Any] = {}
        for name, longest in FILTER_LENGTHS.items():
            value = typed.get(name, "")
            label = FILTER_LABELS.get(name, name.replace("_", " ").capitalize())
            if not isinstance(value, str):  # a file, in a hand-made form
                raise Invalid(f"{label}: text only")
            if len(value := value.strip()) > longest:
                raise Invalid(f"{label}: at most {longest} characters")
            fields[name] = value
        for flag in ("stuck", "failed"):  # checkboxes: present when ticked
            fields[flag] = fields[flag].lower() in _TRUE
        return cls(**fields)

    @property
    def given(self) -> bool:
        return any(asdict(self).values())

    def fields(self) -> list[tuple[str, str]]:
        """The filters given, as a query string's or hidden inputs' pairs."""
        pairs = []
        for name, value in asdict(self).items():
            if value is True:
                pairs.append((name, "true"))
            elif value:
                pairs.append((name, value))
        return pairs

    def wanted(
        self, request: Request, limit: int = 50, page_token: str | None = None
    ) -> OrderFilter:
        """The filter for OrderLookup; Invalid, with a message naming the form's fields."""
        if self.open not in ("", "true", "false"):
            raise Invalid("Open or finished: choose one of the list's options")
        return order_filter(
            request.app.state.settings,
            company=self.company or None,
            vendor=self.vendor or None,
            package=self.package or None,
            status=self.status or None,
            older_than=self.older_than or None,
            expiring_within=self.expiring_within or None,
            open=None if not self.open else self.open == "true",
            stuck=self.stuck,
            stuck_for=self.stuck_for or None,
            failed=self.failed,
            limit=limit,
            page_token=page_token,
            names=FILTER_LABELS,
        )


def _limit(typed: str) -> int:
    try:
        limit = int(typed)
    except ValueError:
        raise Invalid("Per page: a whole number of orders") from None
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"Per page: 1 to {MAX_PAGE_SIZE} orders")
    return limit


# --- list and find ------------------------------------------------------------------------------


@router.get("/orders", response_class=HTMLResponse)
async def orders(
    request: Request,
    actor: SignedInDep,
    limit: Annotated[str, Query(max_length=4)] = "50",
    page_token: Annotated[str, Query(max_length=4096)] = "",
) -> HTMLResponse:
    """The filters come from the query string as a whole (Filters.of), as bulk repairs read
    them from their form."""
    refused: Invalid | None = None
    try:
        filters = Filters.of(request.query_params)
    except Invalid as err:
        filters, refused = Filters(), err
    context: dict[str, Any] = {
        "filters": filters,
        "statuses": STATUSES,
        "page_sizes": PAGE_SIZES,
        "limit": limit,
        "find_by": FIND_BY,
        "page": None,
        "next_url": None,
        "error": None,
    }
    try:
        if refused is not None:
            raise refused
        size = _limit(limit)
        page = await _lookup(request).list(filters.wanted(request, size, page_token or None))
    except AdminError as err:
        return _page(
            request, "orders.html", status_code=err.status, **context | {"error": str(err)}
        )
    if page.next_page_token:
        query = [*filters.fields(), ("limit", str(size)), ("page_token", page.next_page_token)]
        context["next_url"] = "/console/orders?" + urlencode(query)
    return _page(
        request,
        "orders.html",
        **context
        | {
            "page": page,
            "first_url": "/console/orders?" + urlencode(filters.fields()) if page_token else None,
        },
    )


def _search(by: str, value: str) -> list[OrderSearch]:
    """The searches the find form asks for; Invalid with a message that never quotes the value
    (it may be an email)."""
    if by not in FIND_BY:
        raise Invalid("Find by: choose one of the list's options")
    if not value:
        raise Invalid("Type an SR order id, a vendor reference or a candidate's email")
    fields = [by]
    if by == "any":  # an email has an @; SR order ids never do, vendor references hardly
        fields = ["email"] if "@" in value else ["order_id", "vendor_ref"]
    try:
        return [OrderSearch(**{field: value}) for field in fields]
    except ValidationError as err:
        raise Invalid(
            "; ".join(
                f"{FIND_BY[str(e['loc'][0])] if e['loc'] else 'Search'}: {e['msg']}"
                for e in err.errors()
            )
        ) from None


@router.post("/orders/find", response_class=HTMLResponse)
async def find(
    request: Request,
    actor: FormDep,
    by: Annotated[str, Form(max_length=16)] = "any",
    value: Annotated[str, Form(max_length=320)] = "",
) -> HTMLResponse:
    value = value.strip()
    # The email is never repeated on the page: the results say what was searched for instead.
    email = by == "email" or (by == "any" and "@" in value)
    context: dict[str, Any] = {
        "find_by": FIND_BY,
        "by": by if by in FIND_BY else "any",
        "value": "" if email else value,
        "searched": "the candidate email you gave" if email else value,
        "found": None,
        "error": None,
    }
    lookup = _lookup(request)
    try:
        found: dict[str, Any] = {}
        for search in _search(by, value):
            for summary in await lookup.find(search):
                found.setdefault(summary.reference, summary)
    except AdminError as err:
        return _page(
            request,
            "orders_found.html",
            status_code=err.status,
            **context | {"error": str(err)},
        )
    except UnreadableSecret as err:
        raise Refused(500, str(err)) from None
    return _page(request, "orders_found.html", **context | {"found": list(found.values())})


# --- one order ----------------------------------------------------------------------------------


def _kind(typed: str) -> RepairKind | None:
    try:
        return RepairKind(typed)
    except ValueError:
        return None


def _repair_of(typed: str) -> RepairKind:
    kind = _kind(typed)
    if kind is None:
        raise Refused(404, f"No such repair; the repairs are: {', '.join(REPAIRS.values())}")
    return kind


@dataclass(frozen=True)
class Typed:
    """A repair form as the operator filled it in, to fill it in again after a refusal."""

    kind: RepairKind | None = None
    reason: str = ""
    days: str = ""


@dataclass(frozen=True)
class TypedRepair(Typed):
    """A repair form as posted: always of a repair we make."""

    kind: RepairKind = RepairKind.EXTEND_DEADLINE


async def typed_repair(kind: str, reason: Text = "", days: Short = "") -> TypedRepair:
    """Dependency of the repair forms (confirm, then make): the repair named in the path, with
    the reason and days as typed; an unknown repair is a 404 page."""
    return TypedRepair(kind=_repair_of(kind), reason=reason.strip(), days=days.strip())


TypedRepairDep = Annotated[TypedRepair, Depends(typed_repair)]


def _repair_request(actor: Actor, kind: RepairKind, reason: str, days: str) -> RepairRequest:
    """The repair as the signed-in operator's; Invalid, with what to change, otherwise."""
    if not re.fullmatch(REASON_PATTERN, reason):
        raise Invalid(REASON_RULE)
    number = None
    if kind == RepairKind.EXTEND_DEADLINE:
        try:
            number = float(days)
        except ValueError:
            raise Invalid("Days: how many days to add to the deadline, e.g. 2 or 0.5") from None
        if not (math.isfinite(number) and 0 < number <= 365):
            raise Invalid("Days: more than 0 and at most 365")
    try:
        request = RepairRequest(operator=actor.name, reason=reason, days=number)
    except ValidationError as err:  # the messages quote patterns and limits, not values
        raise Invalid("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in err.errors())) from None
    repair_input(kind, request)  # what the order's workflow would refuse as input
    return request


# Workflow statuses of an order that ended without telling SR how: a reset repairs those.
_FAILED = ("FAILED", "TERMINATED", "TIMED_OUT")


def _repairs_for(order: Any) -> tuple[RepairKind, ...]:
    """The repairs that can apply to the order as it stands: none that its own validator is
    bound to refuse (a result re-posted before there is one, a reset of an order that ended
    well)."""
    has_result = order.score is not None or order.outcome is not None
    if order.workflow_status == "RUNNING":
        return tuple(
            kind for kind in RUNNING_REPAIRS if kind != RepairKind.REPOST_RESULT or has_result
        )
    failed = order.workflow_status in _FAILED or order.status == UNDELIVERED
    return tuple(
        kind
        for kind in ENDED_REPAIRS
        if (kind == RepairKind.RESET and failed)
        or (kind == RepairKind.REPOST_RESULT and has_result)
    )


async def _order_page(
    request: Request,
    actor: Actor,
    order_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: Typed | None = None,
) -> HTMLResponse:
    try:
        detail = await _lookup(request).show(order_id)
    except AdminError as err:
        # A repair's refusal, if any, says more than why the order could not be shown after it.
        raise Refused(err.status, error or str(err)) from None
    except UnreadableSecret as err:
        raise Refused(500, str(err)) from None
    return _page(
        request,
        "order.html",
        status_code=status_code,
        order=detail,
        kinds=_repairs_for(detail),
        hints=REPAIR_HINTS,
        error=error,
        notice=notice,
        typed=typed or Typed(),
        reason_rule=REASON_RULE,
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order(
    request: Request,
    actor: SignedInDep,
    order_id: str,
    done: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    kind = _kind(done)
    notice = None
    if kind is not None:
        notice = (
            f"Done: {REPAIRS[kind]}. The order's timeline records it with your name and reason."
        )
    return await _order_page(request, actor, order_id, notice=notice)


@router.post("/orders/{order_id}/repairs/{kind}/confirm", response_class=HTMLResponse)
async def confirm_repair(
    request: Request, actor: OperatorFormDep, order_id: str, typed: TypedRepairDep
) -> HTMLResponse:
    """What the repair will do, and the button that makes it; nothing changes yet."""
    repair, reason, days = typed.kind, typed.reason, typed.days
    try:
        _repair_request(actor, repair, reason, days)
    except Invalid as err:
        return await _order_page(
            request,
            actor,
            order_id,
            status_code=400,
            error=f"{REPAIRS[repair]}: {err}",
            typed=typed,
        )
    return _page(
        request,
        "order_confirm.html",
        order_id=order_id,
        kind=repair,
        name=REPAIRS[repair],
        hint=REPAIR_HINTS[repair],
        reason=reason,
        days=days if repair == RepairKind.EXTEND_DEADLINE else "",
    )


@router.post("/orders/{order_id}/repairs/{kind}")
async def make_repair(
    request: Request, actor: OperatorFormDep, order_id: str, typed: TypedRepairDep
) -> Response:
    """The repair, in the audit log as the signed-in operator's (refusals too)."""
    repair, reason, days = typed.kind, typed.reason, typed.days
    state = request.app.state
    try:
        named = _repair_request(actor, repair, reason, days)
        await repair_named_order(
            state.temporal, state.settings, order_id, repair, named, Audit(state.store, actor)
        )
    except AdminError as err:
        return await _order_page(
            request,
            actor,
            order_id,
            status_code=err.status,
            error=f"{REPAIRS[repair]} not done: {err}",
            typed=typed,
        )
    return see_other(f"{order_href(order_id)}?done={repair.value}")


# --- bulk repairs -------------------------------------------------------------------------------

OUTCOMES = {
    "would-repair": "would be repaired",
    "repaired": "repaired",
    "refused": "refused",
    "failed": "failed",
}


@router.post("/orders/bulk-repairs", response_class=HTMLResponse)
async def bulk_repair(
    request: Request,
    actor: OperatorFormDep,
    kind: Short = "",
    reason: Text = "",
    days: Short = "",
    dry_run: Flag = "true",
) -> HTMLResponse:
    """A dry run (what each matching order would do), unless the dry run's own page says to
    apply it: then the repair of every order the same filter matches now. The list's filters
    come in the form's hidden fields."""
    try:
        filters = Filters.of(await request.form())
    except Invalid as err:
        raise Refused(400, str(err)) from None
    repair = _kind(kind)
    dry = dry_run.strip().lower() != "false"
    reason, days = reason.strip(), days.strip()
    context: dict[str, Any] = {
        "filters": filters,
        "list_url": "/console/orders?" + urlencode(filters.fields()),
        "kind": repair,
        "name": REPAIRS[repair] if repair else "Repair",
        "reason": reason,
        "days": days if repair == RepairKind.EXTEND_DEADLINE else "",
        "dry_run": dry,
        "outcomes": OUTCOMES,
        "answer": None,
        "error": None,
    }
    state = request.app.state
    try:
        if repair is None:
            raise Invalid(f"Repair: choose one of {', '.join(REPAIRS.values())}")
        named = _repair_request(actor, repair, reason, days)
        answer = await repair_all(
            _lookup(request),
            filters.wanted(request),
            repair,
            named,
            Audit(state.store, actor),
            dry_run=dry,
        )
    except AdminError as err:
        return _page(
            request,
            "orders_bulk.html",
            status_code=err.status,
            **context | {"error": str(err)},
        )
    return _page(request, "orders_bulk.html", **context | {"answer": answer})
