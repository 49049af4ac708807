"""`assessments`: run the service, or one of its parts, and the operators' commands.

One module per subject: running (`run`, `worker`, `api`), sims (`sim-…`), connections (and
`partner-config`), vendor_accounts, tokens, api_keys, checks (`vendor check`, `smartrecruiters
check`), orders and repairs, conformance (`vendor-conformance`), operators. Commands are listed
in `--help` in the order they are added here.
"""

from __future__ import annotations

import typer

from cli import (
    api_keys,
    checks,
    conformance,
    connections,
    operators,
    orders,
    repairs,
    running,
    sims,
    tokens,
    vendor_accounts,
)
from cli.output import console

__all__ = ["app", "console"]

app = typer.Typer(
    help="SmartRecruiters assessment partner on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(running.commands)
app.add_typer(sims.commands)
app.add_typer(connections.commands)
app.add_typer(vendor_accounts.app, name="vendor-account")
app.add_typer(checks.vendor_app, name="vendor")
app.add_typer(tokens.app, name="token")
app.add_typer(api_keys.app, name="api-key")
app.add_typer(connections.partner_config_app, name="partner-config")
orders.app.add_typer(repairs.commands)
app.add_typer(orders.app, name="orders")
app.add_typer(checks.smartrecruiters_app, name="smartrecruiters")
app.add_typer(conformance.commands)
app.add_typer(operators.app, name="operators")
