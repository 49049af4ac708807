"""`assessments api-key`: the keys an API vendor account's vendor calls the Vendor API with."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cli.operations import operate
from cli.output import (
    JsonFlag,
    console,
    dumped,
    none_yet,
    print_json,
    shown_once,
    titled_table,
    warn,
    when,
)

app = typer.Typer(
    help="API keys of API vendor accounts: what a vendor calls the Vendor API with.",
    no_args_is_help=True,
)


@app.command("issue")
def api_key_issue(
    vendor_account_id: Annotated[str, typer.Argument(help="The API vendor account (adapter api).")],
    label: Annotated[
        str, typer.Option("--label", help="What the key is for, e.g. the vendor's deployment.")
    ] = "default",
    as_json: JsonFlag = False,
) -> None:
    """Issue a key; it is printed once and cannot be shown again. Several may be active at once,
    so a vendor rotates without downtime."""
    from admin.models import NewApiKey

    issued = operate(
        lambda operations: operations.issue_api_key(vendor_account_id, NewApiKey(label=label))
    )
    if as_json:
        print_json(dumped(issued))
    else:
        shown_once(
            f"API key [bold]{issued.id}[/bold] ({escape(issued.label)}) for vendor account "
            f"{issued.vendor_account_id}",
            issued.key,
        )
    warn(issued.notice)


@app.command("list")
def api_key_list(
    vendor_account_id: Annotated[str, typer.Argument(help="The API vendor account.")],
    as_json: JsonFlag = False,
) -> None:
    """List an account's keys (their plaintext is never stored)."""
    keys = operate(lambda operations: operations.api_keys(vendor_account_id))
    if as_json:
        print_json(dumped(keys))
        return
    if none_yet(keys, "API keys"):
        return
    table = titled_table("API keys", "ID", "Label", "State", "Created", "Revoked")
    for key in keys:
        table.add_row(
            key.id, escape(key.label), key.state, when(key.created_at), when(key.revoked_at)
        )
    console.print(table)


@app.command("revoke")
def api_key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `api-key list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key for good: the vendor's next call with it answers 401."""
    revoked = operate(lambda operations: operations.revoke_api_key(key_id))
    if as_json:
        print_json(dumped(revoked))
    else:
        console.print(f"Revoked API key {escape(key_id)}.")
