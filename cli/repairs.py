"""`assessments orders repair|repair-all`: operators' repairs of one order (admin/repairs.py), or of
every order matching a filter (admin/bulk_repairs.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.orders import (
    CompanyOption,
    ExpiringWithinOption,
    FailedOption,
    OlderThanOption,
    OpenOption,
    PackageOption,
    StatusOption,
    StuckForOption,
    StuckOption,
    VendorOption,
    on_orders,
    typed_filter,
)
from cli.output import JsonFlag, console, dumped, fail, print_json, problems, titled_table, when

commands = typer.Typer()


RepairKindArgument = Annotated[
    str,
    typer.Argument(
        help=(
            "extend-deadline (with --days), resend-invitation, cancel, repost-result, or reset "
            "(one order at a time)."
        )
    ),
]
ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason",
        help=(
            "Why, in 3 to 200 characters; recorded in the order's history (cancel: SR's "
            "summary). Never candidate data."
        ),
    ),
]
OperatorOption = Annotated[
    str, typer.Option("--operator", help="Who repairs: your handle (letters, digits, _ . @ + -).")
]
DaysOption = Annotated[
    float | None,
    typer.Option("--days", help="extend-deadline: days added to the current deadline."),
]


def _repair_request(kind: str, **given: Any) -> tuple[Any, Any]:
    """The repair (RepairKind) and its RepairRequest from what was typed; bad input exits 1."""
    from pydantic import ValidationError

    from admin.models import RepairRequest
    from admin.repairs import RepairKind

    kinds = [k.value for k in RepairKind]
    if kind not in kinds:
        fail(f"the repair is one of {', '.join(kinds)}")
    try:
        return RepairKind(kind), RepairRequest(**given)
    except ValidationError as err:
        problem = err.errors()[0]
        fail(f"--{problem['loc'][0]}: {problem['msg']}")


@commands.command("repair")
def orders_repair(
    order_id: Annotated[str, typer.Argument(help="The SmartRecruiters order id.")],
    kind: RepairKindArgument,
    reason: ReasonOption,
    operator: OperatorOption,
    days: DaysOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Repair an order, recorded in its history with who and why: extend its deadline, resend the
    invitation, cancel it (SR shows REJECTED with the reason), re-post its result (an ended order's
    through a reset), or reset a failed order to just before its final update (`reset`)."""
    repair, request = _repair_request(kind, operator=operator, reason=reason, days=days)
    from admin.repairs import repair_named_order

    outcome = on_orders(
        lambda lookup: repair_named_order(
            lookup.temporal, lookup.settings, order_id, repair, request, _audit(lookup, operator)
        )
    )
    if as_json:
        print_json(dumped(outcome))
        return
    console.print(escape(outcome.note), soft_wrap=True)
    if outcome.deadline is not None:
        console.print(f"Deadline: {when(outcome.deadline)}")
    if outcome.sr_status is not None:
        console.print(f"SR status: {outcome.sr_status.value}")


def _audit(lookup: Any, operator: str) -> Any:
    """The audit log, as the CLI's user names themselves (they run it on the hub's machine)."""
    from admin.audit import Actor, Audit, Role, Via

    return Audit(lookup.store, Actor(name=operator, via=Via.CLI, role=Role.OPERATOR))


_OUTCOME_STYLE = {"would-repair": "cyan", "repaired": "green", "refused": "yellow", "failed": "red"}


@commands.command("repair-all")
def orders_repair_all(
    kind: RepairKindArgument,
    reason: ReasonOption,
    operator: OperatorOption,
    days: DaysOption = None,
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
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run/--apply",
            help=(
                "--dry-run (the default): say what each order would do, change nothing; "
                "--apply: make the repairs."
            ),
        ),
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Repair every order matching the filters (those of `orders list`; at least one, --open alone
    is every running order), newest first, up to ASSESSMENTS_BULK_REPAIR_LIMIT. A dry run unless
    --apply; exits 1 if any order failed (a refusal is an outcome, not a failure)."""
    repair, request = _repair_request(kind, operator=operator, reason=reason, days=days)
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
    )
    from admin.bulk_repairs import repair_all

    answer = on_orders(
        lambda lookup: repair_all(
            lookup, wanted, repair, request, _audit(lookup, operator), dry_run=dry_run
        )
    )
    if as_json:
        print_json(dumped(answer))
    else:
        title = (
            f"{'Dry run: ' if dry_run else ''}{answer.repair} of {answer.examined} "
            f"order{'' if answer.examined == 1 else 's'}"
        )
        table = titled_table(title, "Order", "SR status", "Workflow", "Outcome", "Detail")
        for item in answer.orders:
            style = _OUTCOME_STYLE[item.outcome]
            table.add_row(
                item.order_id,
                item.status or "–",
                item.workflow_status.lower(),
                f"[{style}]{item.outcome}[/{style}]",
                escape(item.detail),
            )
        console.print(table if answer.orders else "No orders match.")
        if answer.orders:
            console.print(
                ", ".join(f"{count} {outcome}" for outcome, count in answer.counts.items() if count)
            )
        if dry_run:
            console.print(
                "Dry run: nothing was changed. Add [bold]--apply[/bold] to make the repairs."
            )
        if answer.more_matched:
            problems.print(
                f"[yellow]Note:[/yellow] more orders matched than the {answer.examined} "
                "examined (ASSESSMENTS_BULK_REPAIR_LIMIT); narrow the filter, e.g. "
                "--older-than, to reach the rest.",
                soft_wrap=True,
            )
    if answer.counts["failed"]:
        raise typer.Exit(1)
