"""What the commands print, and how they refuse: tables and JSON on standard output, errors on
standard error (exit 1)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
problems = Console(stderr=True)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON for machines instead of a table.")
]


def fail(message: str) -> NoReturn:
    problems.print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


def warn(notice: str) -> None:
    problems.print(f"[yellow]Warning:[/yellow] {notice}", soft_wrap=True)


def shown_once(heading: str, secret: str) -> None:
    """A secret printed the one time it exists: a line saying what it is, then the secret on a
    line of its own, unformatted, for copying."""
    console.print(heading)
    typer.echo(secret)


def json_option(value: str, option: str) -> Any:
    """A JSON option's value; `-` reads it from standard input
    (keeps secrets out of shell history)."""
    if value == "-":
        value = sys.stdin.read()
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:  # the position only: the value may hold a secret
        fail(f"{option} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def dumped(views: Any) -> Any:
    return (
        [view.model_dump(mode="json") for view in views]
        if isinstance(views, list)
        else views.model_dump(mode="json")
    )


def when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def none_yet(found: list, what: str) -> bool:
    if not found:
        console.print(f"No {what} yet.")
    return not found


def titled_table(title: str, *columns: str) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")  # ids are copied from here: never cut them short
    return table
