"""`assessments vendor check` and `assessments smartrecruiters check`: whether a vendor account's
credentials, and our partner configuration at SmartRecruiters, work, checked from here."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.operations import operate
from cli.output import JsonFlag, console, dumped, print_json, problems, titled_table
from settings import get_settings

vendor_app = typer.Typer(
    help="Vendors, as a vendor account's credentials reach them.", no_args_is_help=True
)
smartrecruiters_app = typer.Typer(
    help="Our link with SmartRecruiters, checked from here.", no_args_is_help=True
)


@vendor_app.command("check")
def vendor_check(
    vendor_account_id: Annotated[
        str, typer.Argument(help="The vendor account to check (from `vendor-account list`).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Read the account's catalog at the vendor with its own credentials, and show what
    SmartRecruiters would be offered.

    Read-only (lists the vendor's tests, assessments or packages, as the service does). Exits 0 when
    the vendor answered with packages, 1 when the account is unknown or the vendor offers none,
    2 when the check cannot be made (the key, the account's base_url, the network)."""
    from admin.operations import VendorUnchecked

    async def check(operations) -> Any:
        try:
            return await operations.check_vendor_account(vendor_account_id)
        except VendorUnchecked as err:
            return err

    checked = operate(check)
    if isinstance(checked, VendorUnchecked):
        problems.print(f"[red]Error:[/red] {escape(str(checked))}", soft_wrap=True)
        raise typer.Exit(2)
    account = checked.vendor_account
    if as_json:
        print_json(dumped(checked))
    elif checked.packages:
        console.print(
            f"{escape(account.name)} ({account.adapter} at {escape(checked.vendor_url)}) "
            "accepted the credentials; "
            f"SmartRecruiters would be offered {len(checked.packages)} package(s):",
            soft_wrap=True,
        )
        table = titled_table(
            "What SmartRecruiters would be offered",
            "Package",
            "Name",
            "Type",
            "Assessments",
            "Deadline (days)",
        )
        for package in checked.packages:
            tests = "\n".join(escape(test.name) for test in package.assessments)
            table.add_row(
                escape(package.id),
                escape(package.name),
                package.type.value,
                tests,
                f"{package.deadline_days:g}",
            )
        console.print(table)
    if not checked.packages:
        problems.print(
            f"[yellow]Nothing to offer:[/yellow] {account.adapter} at "
            f"{escape(checked.vendor_url)} accepted the credentials of "
            f"{escape(account.name)} but lists no package SmartRecruiters could order "
            "(none published, or all drafts or archived).",
            soft_wrap=True,
        )
        raise typer.Exit(1)


@smartrecruiters_app.command("check")
def smartrecruiters_check() -> None:
    """Compare the partner configuration SmartRecruiters holds for us with the one we would
    register.

    Read-only: a token with the master credentials, then GET partner/configuration. Exits 0 when
    they agree, 1 when they differ or SR holds none, 2 when the check cannot be made (credentials,
    region, network)."""
    from admin.sr_check import CheckFailed, NoConfiguration, partner_configuration_differences

    settings = get_settings()
    try:
        differences = asyncio.run(partner_configuration_differences(settings))
    except NoConfiguration as err:
        problems.print(f"[yellow]Differs:[/yellow] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except CheckFailed as err:
        problems.print(f"[red]Error:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if not differences:
        console.print(
            f"SmartRecruiters at {escape(settings.sr_base_url)} holds the partner "
            "configuration we would register.",
            soft_wrap=True,
        )
        return
    # One line per setting, never folded: URLs are compared and copied from here.
    console.print(
        f"The partner configuration at SmartRecruiters ({escape(settings.sr_base_url)}) "
        "differs from ours in:",
        soft_wrap=True,
    )
    for difference in differences:
        at_sr, ours = (
            escape(json.dumps(value)) for value in (difference.at_smartrecruiters, difference.ours)
        )
        console.print(
            f"  {difference.setting}: at SmartRecruiters {at_sr}, we would register {ours}",
            soft_wrap=True,
        )
    problems.print("Run `assessments partner-config register` to update it.", soft_wrap=True)
    raise typer.Exit(1)
