"""`assessments orders list|find|show`: find and inspect orders (admin/orders.py), in Temporal and
our store."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.operations import operate
from cli.output import JsonFlag, console, dumped, fail, print_json, problems, titled_table, when
from settings import get_settings

app = typer.Typer(
    help="Orders: list, find, inspect and repair them (Temporal and our store).",
    no_args_is_help=True,
)


def on_orders(work: Callable[[Any], Awaitable[Any]]) -> Any:
    from admin.orders import opened

    return operate(work, opened)


def _order_table(title: str, found: list, *, stuck: bool = False, expiring: bool = False) -> Table:
    """Orders, one a row; open ones' deadlines where the listing asked for expiring orders
    (instead of the close time, which open orders do not have)."""
    columns = ["Order", "SR status", "Workflow", "Vendor", "Package", "Company", "Placed"]
    last = ("Deadline",) if expiring else ("Closed",)
    table = titled_table(title, *columns, *(("Last progress", "Stuck on") if stuck else last))
    for order in found:
        row = [
            order.order_id,
            order.status or "–",
            order.workflow_status.lower(),
            order.vendor or "–",
            order.package or "–",
            escape(order.company or "–"),
            when(order.started_at),
        ]
        row += (
            [when(order.last_progress_at), escape(order.stuck_on or "–")]
            if stuck
            else [when(order.deadline if expiring else order.closed_at)]
        )
        table.add_row(*row)
    return table


# The listing's filters, as options of `orders list` and `orders repair-all`.
CompanyOption = Annotated[str | None, typer.Option("--company", help="SmartRecruiters companyId.")]
VendorOption = Annotated[
    str | None, typer.Option("--vendor", help="sandbox, hackerrank, checkr or testgorilla.")
]
PackageOption = Annotated[
    str | None, typer.Option("--package", help="Package id, e.g. skills-fullstack.")
]
StatusOption = Annotated[
    str | None,
    typer.Option(
        "--status",
        help=(
            "RECEIVED, PENDING, IN_PROGRESS, COMPLETED, REJECTED, EXPIRED, CANCELLED, "
            "SR_REFUSING (SR refuses us for the company; the order keeps trying) or "
            "UNDELIVERED (it gave up; repost-result or reset once SR listens)."
        ),
    ),
]
OlderThanOption = Annotated[
    str | None,
    typer.Option("--older-than", help="Placed longer ago than this: 30m, 12h, 3d, 2w, 1d12h."),
]
ExpiringWithinOption = Annotated[
    str | None,
    typer.Option(
        "--expiring-within",
        help=(
            "Only open orders waiting for their candidate whose deadline is at most this far "
            "ahead, e.g. 2d."
        ),
    ),
]
OpenOption = Annotated[
    bool | None,
    typer.Option("--open/--closed", help="Only orders still running, or only finished ones."),
]
StuckOption = Annotated[
    bool,
    typer.Option(
        "--stuck",
        help=(
            "Only stuck orders: a call to SR or the vendor unfinished and no progress for "
            "ASSESSMENTS_STUCK_AFTER_HOURS."
        ),
    ),
]
StuckForOption = Annotated[
    str | None,
    typer.Option("--stuck-for", help="Only orders stuck for this long (implies --stuck), e.g. 2h."),
]
FailedOption = Annotated[
    bool,
    typer.Option(
        "--failed",
        help=(
            "Only orders whose workflow failed (SR refused their final update: a reset repairs "
            "those), was terminated or timed out (past Temporal's history limits, or by hand): "
            "SR never heard how they ended."
        ),
    ),
]
_FILTER_OPTIONS = {
    "company": "--company",
    "vendor": "--vendor",
    "package": "--package",
    "status": "--status",
    "older_than": "--older-than",
    "expiring_within": "--expiring-within",
    "stuck_for": "--stuck-for",
    "limit": "--limit",
    "page_token": "--page-token",
}


def typed_filter(**typed: Any) -> Any:
    """The listing's filter from the options typed; a bad one exits 1, naming its option."""
    from admin.operations import Invalid
    from admin.orders import order_filter

    try:
        return order_filter(get_settings(), names=_FILTER_OPTIONS, **typed)
    except Invalid as err:
        fail(str(err))


@app.command("list")
def orders_list(
    company: CompanyOption = None,
    vendor: VendorOption = None,
    package: PackageOption = None,
    status: StatusOption = None,
    older_than: OlderThanOption = None,
    expiring_within: ExpiringWithinOption = None,
    open_: OpenOption = None,
    stuck: StuckOption = False,
    stuck_for: StuckForOption = None,
    failed: FailedOption = False,
    limit: Annotated[int, typer.Option("--limit", help="Orders per page (at most 200).")] = 50,
    page_token: Annotated[
        str | None, typer.Option("--page-token", help="The token the previous page printed.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List orders, newest first, by company, vendor, package, status, age, deadline, or stuck."""
    wanted = typed_filter(
        company=company,
        vendor=vendor,
        package=package,
        status=status,
        older_than=older_than,
        expiring_within=expiring_within,
        open=open_,
        stuck=stuck,
        stuck_for=stuck_for,
        failed=failed,
        limit=limit,
        page_token=page_token,
    )
    page = on_orders(lambda lookup: lookup.list(wanted))
    if as_json:
        print_json(dumped(page))
        return
    if page.orders:
        stuck = wanted.stuck_for is not None
        expiring = wanted.expiring_within is not None
        console.print(
            _order_table(
                "Stuck orders" if stuck else "Expiring orders" if expiring else "Orders",
                page.orders,
                stuck=stuck,
                expiring=expiring,
            )
        )
    else:
        console.print("No orders match" + (" on this page." if page.next_page_token else "."))
    if page.next_page_token:
        console.print(f"More: add [bold]--page-token {page.next_page_token}[/bold]", soft_wrap=True)


@app.command("find")
def orders_find(
    order_id: Annotated[
        str | None, typer.Option("--order-id", help="The SmartRecruiters order id.")
    ] = None,
    vendor_ref: Annotated[
        str | None,
        typer.Option(
            "--vendor-ref", help="The vendor's reference (its invitation, candidate or test id)."
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            "--email",
            help=(
                'The candidate\'s email, in any case; "-" reads it from standard input (not in '
                "shell history)."
            ),
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Find orders by SR order id, vendor reference or candidate email
    (looked up by its keyed hash)."""
    from pydantic import ValidationError

    from admin.models import OrderSearch

    if email == "-":
        email = sys.stdin.readline().strip()
    try:
        search = OrderSearch(order_id=order_id, vendor_ref=vendor_ref, email=email)
    except ValidationError as err:  # never the value: it may be an email
        reason = err.errors()[0]
        what = f"--{str(reason['loc'][0]).replace('_', '-')}: " if reason["loc"] else ""
        fail(
            f"{what}{reason['msg'].removeprefix('Value error, ')}".replace(
                "order_id, vendor_ref and email", "--order-id, --vendor-ref and --email"
            )
        )
    found = on_orders(lambda lookup: lookup.find(search))
    if as_json:
        print_json(dumped(found))
    elif found:
        console.print(_order_table("Orders found", found))
    else:
        console.print("No order found.")


@app.command("show")
def orders_show(
    order_id: Annotated[str, typer.Argument(help="The SmartRecruiters order id.")],
    as_json: JsonFlag = False,
) -> None:
    """An order's state and timeline (steps, each SR and vendor call with its attempts),
    and its Temporal UI link."""
    detail = on_orders(lambda lookup: lookup.show(order_id))
    if as_json:
        print_json(dumped(detail))
        return
    about = titled_table(f"Order {detail.order_id}", "", "")
    candidate = detail.candidate
    result = "–"
    if detail.score is not None or detail.outcome:
        score = (
            f"{detail.score:g}"
            + (f" of {detail.max_score:g}" if detail.max_score is not None else "")
            if detail.score is not None
            else ""
        )
        result = ", ".join(part for part in (score, detail.outcome) if part)
    rows = [
        ("SR status", f"{detail.status or '–'} (SR was told: {detail.sr_status or 'nothing yet'})"),
        (
            "Workflow",
            f"{detail.workflow_status.lower()}, placed {when(detail.started_at)}"
            + (f", closed {when(detail.closed_at)}" if detail.closed_at else ""),
        ),
        (
            "Candidate",
            f"{candidate.first_name} {candidate.last_name} <{candidate.email}>"
            if candidate
            else "–",
        ),
        (
            "Package",
            f"{detail.package_name or detail.package or '–'} ({detail.package or '–'})"
            + (", inline" if detail.inline else ""),
        ),
        ("Company", detail.company or "–"),
        ("Job", detail.job_title or "–"),
        (
            "Vendor",
            f"{detail.vendor or '–'}"
            + (f", account {detail.vendor_account_id}" if detail.vendor_account_id else ""),
        ),
        ("Vendor reference", detail.vendor_ref or "–"),
        ("Vendor status", detail.vendor_status or "–"),
        ("Deadline", when(detail.deadline)),
        *([("Revision window", _revision_window(detail))] if detail.revision_window_ends else []),
        *(
            [
                (
                    "SR refuses us",
                    "for this company: the final update is tried again until "
                    f"{when(detail.sr_refusing_until)}",
                )
            ]
            if detail.sr_refusing_until
            else []
        ),
        *(
            [
                (
                    "Undelivered",
                    f"SR never took {detail.undelivered}; once it listens again, repair "
                    "it: repost-result (an order with a result) or reset",
                )
            ]
            if detail.undelivered
            else []
        ),
        ("Result", result),
        ("Report", detail.report_url or "–"),
        (
            "Webhooks",
            "–"
            if detail.webhooks_received is None
            else f"{detail.webhooks_received} received, {detail.duplicate_webhooks} duplicates",
        ),
        ("Temporal UI", detail.temporal_ui_url),
    ]
    for name, value in rows:
        about.add_row(name, escape(value))
    console.print(about)
    if detail.note:
        problems.print(f"[yellow]Note:[/yellow] {escape(detail.note)}", soft_wrap=True)
    timeline = titled_table("Timeline", "When (UTC)", "What", "Outcome", "Attempts", "Failure")
    for item in detail.timeline:
        what = f"{item.what} ({item.peer})" if item.peer else item.what
        timeline.add_row(
            item.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(what),
            item.outcome or "",
            "" if item.attempts is None else str(item.attempts),
            escape(item.failure or ""),
        )
    console.print(timeline)
    if detail.vendor_deliveries:
        deliveries = titled_table(
            "Webhooks to the vendor", "When (UTC)", "Event", "Attempt", "Answer"
        )
        for delivery in detail.vendor_deliveries:
            deliveries.add_row(
                delivery.at.strftime("%Y-%m-%d %H:%M:%S"),
                delivery.event,
                str(delivery.attempt),
                escape(delivery.outcome),
            )
        console.print(deliveries)


def _revision_window(detail: Any) -> str:
    ends = when(detail.revision_window_ends)
    if detail.workflow_status == "RUNNING":
        return (
            f"watching the posted result for revisions until {ends}; the workflow runs until then"
        )
    return f"the posted result was watched for revisions until {ends}"
