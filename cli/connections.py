"""`assessments connections` (companies connected to us) and `assessments partner-config` (our
partner configuration at SmartRecruiters, with the master credentials)."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from cli.operations import operate
from cli.output import JsonFlag, console, dumped, none_yet, print_json, problems, titled_table, when

commands = typer.Typer()
partner_config_app = typer.Typer(
    help="Our partner configuration at SmartRecruiters (with the master credentials).",
    no_args_is_help=True,
)


@commands.command("connections")
def connections_list(as_json: JsonFlag = False) -> None:
    """List company connections and their state."""
    found = operate(lambda operations: operations.connections())
    if as_json:
        print_json(dumped(found))
        return
    if none_yet(found, "company connections"):
        return
    table = titled_table(
        "Company connections",
        "Company",
        "Vendor account",
        "Consent email",
        "State",
        "Connected",
        "Disconnected",
    )
    for c in found:
        account = escape(c.vendor_account_name) if c.vendor_account_name else c.vendor_account_id
        table.add_row(
            escape(c.company_id),
            account,
            escape(c.consent_email),
            c.state,
            when(c.connected_at),
            when(c.disconnected_at),
        )
    console.print(table)


def _configuration_table(title: str, configuration: dict) -> Table:
    table = titled_table(title, "Setting", "Value")
    for key, value in configuration.items():
        table.add_row(key, escape(value if isinstance(value, str) else json.dumps(value)))
    return table


@partner_config_app.command("register")
def partner_config_register(as_json: JsonFlag = False) -> None:
    """Register our URLs and assessment types at SmartRecruiters (PUT partner/configuration)."""
    stored = operate(lambda operations: operations.register_partner_configuration())
    if as_json:
        print_json(stored)
    else:
        console.print(_configuration_table("Registered at SmartRecruiters", stored))


@partner_config_app.command("show")
def partner_config_show(as_json: JsonFlag = False) -> None:
    """Show the partner configuration SmartRecruiters holds for us (GET partner/configuration)."""

    async def read(operations) -> tuple[dict, dict]:
        return await operations.partner_configuration(), operations.expected_partner_configuration()

    stored, ours = operate(read)
    if as_json:
        print_json(stored)
        return
    console.print(_configuration_table("Partner configuration at SmartRecruiters", stored))
    from admin.sr_check import configuration_differences

    differing = sorted(difference.setting for difference in configuration_differences(stored, ours))
    if differing:
        problems.print(
            "[yellow]Warning:[/yellow] differs from this deployment's settings in "
            f"{', '.join(differing)}: "
            "run `assessments partner-config register` to update it.",
            soft_wrap=True,
        )
