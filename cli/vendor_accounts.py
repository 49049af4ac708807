"""`assessments vendor-account`: our accounts at assessment vendors."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.operations import operate
from cli.output import (
    JsonFlag,
    console,
    dumped,
    fail,
    json_option,
    none_yet,
    print_json,
    shown_once,
    titled_table,
    warn,
    when,
)

app = typer.Typer(help="Vendor accounts: our accounts at assessment vendors.", no_args_is_help=True)


def _vendor_account_table(title: str, accounts: list) -> Table:
    table = titled_table(title, "ID", "Name", "Adapter", "Package settings", "Created")
    for account in accounts:
        settings = (
            json.dumps(account.package_settings, separators=(",", ":"))
            if account.package_settings
            else "–"
        )
        table.add_row(
            account.id,
            escape(account.name),
            account.adapter,
            escape(settings),
            when(account.created_at),
        )
    return table


@app.command("create")
def vendor_account_create(
    name: Annotated[
        str,
        typer.Option(
            "--name",
            help="A unique name, e.g. the vendor and the customer. Customers' SR admins read it "
            "on our consent page once they connected with one of its tokens.",
        ),
    ],
    adapter: Annotated[
        str,
        typer.Option(
            "--adapter",
            help="The vendor adapter: sandbox, hackerrank, checkr, testgorilla, or api (a vendor "
            "on the Vendor API).",
        ),
    ],
    credentials: Annotated[
        str,
        typer.Option(
            "--credentials",
            help=(
                'JSON object for the adapter, e.g. \'{"api_key": "…"}\'; "-" reads it from '
                "standard input."
            ),
        ),
    ],
    package_settings: Annotated[
        str | None,
        typer.Option(
            "--package-settings", help='JSON, e.g. \'{"skills-fullstack": {"deadline_days": 3}}\'.'
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a vendor account; its credentials are stored encrypted and never shown again."""
    from pydantic import ValidationError

    from admin.models import NewVendorAccount

    body = {
        "name": name,
        "adapter": adapter,
        "credentials": json_option(credentials, "--credentials"),
    }
    if package_settings is not None:
        body["package_settings"] = json_option(package_settings, "--package-settings")
    try:
        new = NewVendorAccount.model_validate(body)
    except ValidationError as err:  # field and reason only, never the value (it may be a secret)
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        fail(f"invalid vendor account: {reasons}")
    account = operate(lambda operations: operations.create_vendor_account(new))
    if as_json:
        print_json(dumped(account))
    else:
        console.print(_vendor_account_table("Vendor account created", [account]))
        if account.webhook_secret:
            shown_once(
                "The webhook secret the vendor verifies our webhooks with:", account.webhook_secret
            )
    if account.webhook_secret:
        warn("copy the webhook secret now: it is shown only once.")


@app.command("set-credentials")
def vendor_account_set_credentials(
    vendor_account_id: Annotated[
        str, typer.Argument(help="The vendor account whose key was rotated.")
    ],
    credentials: Annotated[
        str,
        typer.Option(
            "--credentials", help='JSON object for the adapter; "-" reads it from standard input.'
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Replace a vendor account's credentials; open orders use them within a minute."""
    from admin.models import NewCredentials

    new = NewCredentials(credentials=json_option(credentials, "--credentials"))
    account = operate(
        lambda operations: operations.replace_vendor_credentials(vendor_account_id, new)
    )
    if as_json:
        print_json(dumped(account))
    else:
        console.print(_vendor_account_table("Vendor account credentials replaced", [account]))


@app.command("list")
def vendor_account_list(as_json: JsonFlag = False) -> None:
    """List vendor accounts (never their credentials)."""
    accounts = operate(lambda operations: operations.vendor_accounts())
    if as_json:
        print_json(dumped(accounts))
    elif not none_yet(accounts, "vendor accounts"):
        console.print(_vendor_account_table("Vendor accounts", accounts))
