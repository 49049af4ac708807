"""`assessments vendor-conformance`: check a vendor's Vendor API implementation before it goes
live, playing our hub against it (api/conformance.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape

from cli.output import JsonFlag, console, print_json, titled_table

commands = typer.Typer()


@commands.command("vendor-conformance")
def vendor_conformance(
    webhook_url: Annotated[str, typer.Argument(help="The vendor's webhook URL.")],
    secret: Annotated[
        str,
        typer.Option(
            "--secret",
            envvar="ASSESSMENTS_CONFORMANCE_SECRET",
            help="The webhook secret (whsec_…) the vendor verifies our webhooks with.",
        ),
    ],
    api_key: Annotated[
        str,
        typer.Option(
            "--api-key",
            envvar="ASSESSMENTS_CONFORMANCE_API_KEY",
            help="The API key (vk_…) the vendor calls the Vendor API with.",
        ),
    ],
    listen: Annotated[
        str,
        typer.Option(
            "--listen",
            help="Where the kit serves the Vendor API: point the vendor's hub URL there.",
        ),
    ] = "127.0.0.1:8700",
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for the catalog and for a result.")
    ] = 60.0,
    as_json: JsonFlag = False,
) -> None:
    """Play the hub against a vendor: signed test orders, webhooks it must refuse, its reports;
    a pass or fail per requirement (exit 1 if any fails)."""
    from api.conformance import check_vendor

    host, _, port = listen.rpartition(":")

    async def ready(url: str) -> None:
        if not as_json:
            console.print(f"The kit's Vendor API listens at {url}/vendor/v1: the vendor's hub URL.")

    checks = asyncio.run(
        check_vendor(
            webhook_url, secret, api_key, host=host, port=int(port), wait_seconds=wait, ready=ready
        )
    )
    if as_json:
        print_json([check.__dict__ for check in checks])
    else:
        table = titled_table("Vendor API conformance", "Requirement", "Result", "Detail")
        for check in checks:
            table.add_row(
                escape(check.requirement),
                "[green]pass[/green]" if check.passed else "[red]fail[/red]",
                escape(check.detail),
            )
        console.print(table)
    if not all(check.passed for check in checks):
        raise typer.Exit(1)
