"""`assessments token`: External Trigger Tokens, what a customer's admin enters to connect a
company."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cli.operations import operate
from cli.output import (
    JsonFlag,
    console,
    dumped,
    fail,
    none_yet,
    print_json,
    shown_once,
    titled_table,
    warn,
    when,
)

app = typer.Typer(
    help="External Trigger Tokens: what a customer's admin enters to connect a company.",
    no_args_is_help=True,
)


@app.command("issue")
def token_issue(
    vendor_account_id: Annotated[
        str, typer.Argument(help="The vendor account the token connects companies to.")
    ],
    expires_in_days: Annotated[
        float | None,
        typer.Option(
            "--expires-in-days",
            min=0.001,
            help="Days until it expires; ASSESSMENTS_TRIGGER_TOKEN_DAYS (7) if omitted.",
        ),
    ] = None,
    company_id: Annotated[
        str | None,
        typer.Option(
            "--company", help="The one SmartRecruiters company it may connect; any if omitted."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an External Trigger Token; it is printed once and cannot be shown again."""
    from pydantic import ValidationError

    from admin.models import NewTriggerToken

    try:
        new = NewTriggerToken(expires_in_days=expires_in_days, company_id=company_id)
    except ValidationError as err:  # e.g. more days than allowed
        error = err.errors()[0]
        fail(
            f"{'--company' if error['loc'] == ('company_id',) else '--expires-in-days'}: "
            f"{error['msg']}"
        )
    issued = operate(lambda operations: operations.issue_trigger_token(vendor_account_id, new))
    if as_json:
        print_json(dumped(issued))
    else:
        limited = f" for company {escape(issued.company_id)}" if issued.company_id else ""
        shown_once(
            f"External Trigger Token [bold]{issued.id}[/bold] for vendor account "
            f"{issued.vendor_account_id}{limited}, expires: {when(issued.expires_at)}",
            issued.token,
        )
    warn(issued.notice)


@app.command("list")
def token_list(
    vendor_account_id: Annotated[
        str | None, typer.Option("--vendor-account", help="Only this vendor account's tokens.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List External Trigger Tokens (their plaintext is never stored)."""
    tokens = operate(lambda operations: operations.trigger_tokens(vendor_account_id))
    if as_json:
        print_json(dumped(tokens))
        return
    if none_yet(tokens, "External Trigger Tokens"):
        return
    table = titled_table(
        "External Trigger Tokens",
        "ID",
        "Vendor account",
        "Company",
        "State",
        "Created",
        "Expires",
        "Revoked",
    )
    for token in tokens:
        table.add_row(
            token.id,
            token.vendor_account_id,
            token.company_id or "any",
            token.state,
            when(token.created_at),
            when(token.expires_at),
            when(token.revoked_at),
        )
    console.print(table)


@app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `token list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke an External Trigger Token for good; companies already connected stay connected."""
    operate(lambda operations: operations.revoke_trigger_token(token_id))
    if as_json:
        print_json({"id": token_id, "revoked": True})
    else:
        console.print(
            f"Revoked trigger token {escape(token_id)}; companies already connected with "
            "it stay connected."
        )
