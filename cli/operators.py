"""`assessments operators`: the people who run the hub, their roles, passwords and admin API keys.

Run on the hub's machine: whoever holds its database and settings decides who operates it. Each
change is in the audit log as `cli:<system user>`.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.operations import operate
from cli.output import console, fail, none_yet, shown_once, titled_table, when

app = typer.Typer(
    help="Operators: who signs in to the console (/console) and calls the admin API with a key.",
    no_args_is_help=True,
)
key_app = typer.Typer(help="Operators' own admin API keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")

RoleOption = Annotated[
    str,
    typer.Option(
        "--role", help="viewer (reads only) or operator (also repairs and changes accounts)."
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (scripts); otherwise it is asked for.",
    ),
]


def _identities(settings: Any) -> Any:
    from admin.identity import opened

    return opened(settings)


def _role(value: str) -> Any:
    from admin.audit import Role

    try:
        return Role(value)
    except ValueError:
        fail(f"--role is one of {', '.join(role.value for role in Role)}")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(
        "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
    )


def _by() -> Any:
    from admin.audit import Actor

    return Actor.command_line()


@app.command("add")
def operator_add(
    name: Annotated[str, typer.Argument(help="Their sign-in name: letters, digits, _ . @ + -.")],
    role: RoleOption = "operator",
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password", help="No password: single sign-on (OIDC) or admin API keys only."
        ),
    ] = False,
) -> None:
    """Add an operator, with a password for the console (asked for, never shown)."""
    chosen = _role(role)
    password = None if no_password else _password(password_stdin)

    added = operate(lambda identities: identities.add(name, chosen, password, _by()), _identities)
    console.print(f"Added operator {escape(added.name)} ({added.role}).")


@app.command("list")
def operator_list() -> None:
    """List operators (never their passwords)."""
    found = operate(lambda identities: identities.operators(), _identities)
    if none_yet(found, "operators"):
        return
    table = titled_table("Operators", "Name", "Role", "Console sign-in", "State", "Created")
    for operator in found:
        state = "disabled" if operator.disabled_at else "enabled"
        if operator.locked_until and not operator.disabled_at:
            state = f"locked until {when(operator.locked_until)}"
        table.add_row(
            escape(operator.name),
            operator.role,
            "yes" if operator.has_password else "no",
            state,
            when(operator.created_at),
        )
    console.print(table)


@app.command("role")
def operator_role(
    name: Annotated[str, typer.Argument(help="The operator.")],
    role: Annotated[str, typer.Argument(help="viewer or operator.")],
) -> None:
    """Change an operator's role; their console sessions end (the next sign-in has it)."""
    chosen = _role(role)
    operate(lambda identities: identities.change(name, _by(), role=chosen), _identities)
    console.print(f"{escape(name)} is now {chosen.value}.")


@app.command("password")
def operator_password(
    name: Annotated[str, typer.Argument(help="The operator.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (asked for); it also ends a lockout."""
    password = _password(password_stdin)
    operate(lambda identities: identities.change(name, _by(), password=password), _identities)
    console.print(f"New password set for {escape(name)}.")


@app.command("disable")
def operator_disable(name: Annotated[str, typer.Argument(help="The operator.")]) -> None:
    """Disable an operator: their sessions end and their admin API keys are revoked."""
    operate(lambda identities: identities.change(name, _by(), disabled=True), _identities)
    console.print(f"Disabled {escape(name)}: signed out, keys revoked.")


@app.command("enable")
def operator_enable(name: Annotated[str, typer.Argument(help="The operator.")]) -> None:
    """Enable a disabled operator again (their old keys stay revoked)."""
    operate(lambda identities: identities.change(name, _by(), disabled=False), _identities)
    console.print(f"Enabled {escape(name)}.")


@key_app.command("issue")
def key_issue(
    name: Annotated[str, typer.Argument(help="The operator the key speaks for.")],
    label: Annotated[str, typer.Option("--label", help="What the key is for.")] = "default",
) -> None:
    """Issue an admin API key for an operator; printed once. It acts with their role, and the
    audit log names them."""
    issued = operate(lambda identities: identities.issue_key(name, label[:100], _by()), _identities)
    shown_once(f"Admin API key [bold]{issued.id}[/bold] of {escape(issued.operator)}", issued.key)


@key_app.command("list")
def key_list(
    name: Annotated[str | None, typer.Argument(help="Only this operator's keys.")] = None,
) -> None:
    """List operators' admin API keys (never their plaintext)."""

    async def keys(identities: Any) -> Any:
        return await identities.keys(name)

    found = operate(keys, _identities)
    if none_yet(found, "operator keys"):
        return
    table = titled_table("Operator keys", "ID", "Operator", "Label", "Created", "Revoked")
    for key in found:
        table.add_row(
            key.id,
            escape(key.operator),
            escape(key.label),
            when(key.created_at),
            when(key.revoked_at),
        )
    console.print(table)


@key_app.command("revoke")
def key_revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke an operator's key: its next call answers 401."""
    operate(lambda identities: identities.revoke_key(key_id, _by()), _identities)
    console.print(f"Revoked operator key {escape(key_id)}.")
