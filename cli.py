"""`assessments`: run the service, or one of its parts."""

from __future__ import annotations

import signal
from urllib.parse import urlsplit

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from settings import get_settings

app = typer.Typer(help="SmartRecruiters assessment partner on Temporal.", no_args_is_help=True, add_completion=False)
console = Console()


def _serve(asgi_app, host: str, port: int) -> None:
    uvicorn.run(asgi_app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10)


@app.command()
def run() -> None:
    """Run everything on this machine: Temporal, worker, API, SmartRecruiters simulator, sandbox vendor."""
    from embedded import Stack

    settings = get_settings()
    stack = Stack(settings)
    console.print("[bold]Starting the embedded stack…[/bold]")
    try:
        stack.start()
        _print_welcome(settings)
        # Blocked only now, so the children started above keep the default signal handling.
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        while signal.sigtimedwait(stop_signals, 1.0) is None:
            if crashed := stack.exited():
                console.print(f"[red]Stopped unexpectedly: {', '.join(crashed)}. See its output above (Temporal's: {settings.data_dir}/logs).[/red]")
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("\n[bold]Stopping…[/bold]")
        stack.stop()
        console.print("Stopped. Orders in flight continue when you start again.")


def _print_welcome(settings) -> None:
    ui_host = urlsplit(f"//{settings.temporal_address}").hostname
    table = Table(title="SmartRecruiters assessment partner: embedded mode", show_header=False)
    table.add_row("Partner API docs", f"{settings.public_url}/docs")
    table.add_row("Temporal UI", f"http://{ui_host}:{settings.temporal_ui_port}")
    table.add_row("SmartRecruiters simulator", f"{settings.sr_base_url}/")
    table.add_row("Sandbox vendor outbox", f"{settings.sandbox_vendor_url}/outbox")
    table.add_row("SR calls us with client_id", settings.partner_client_id)
    table.add_row("…and client_secret", settings.partner_client_secret.get_secret_value())
    table.add_row("Token URL", f"{settings.public_url}/oauth/token")
    table.add_row("Data folder (state, Temporal log)", str(settings.data_dir.resolve()))
    console.print(table)
    console.print("Open the SmartRecruiters simulator, pick a candidate and order an assessment. Ctrl-C stops everything.")


@app.command()
def worker() -> None:
    """Run the Temporal worker (order workflows and their activities)."""
    import worker as worker_module

    worker_module.main()


@app.command()
def api() -> None:
    """Run the partner API that SmartRecruiters and vendors call."""
    from api.app import create_app

    settings = get_settings()
    _serve(create_app(settings), settings.api_host, settings.api_port)


@app.command("sim-smartrecruiters")
def sim_smartrecruiters() -> None:
    """Run the SmartRecruiters simulator."""
    from simulators.smartrecruiters.app import create_app
    from simulators.smartrecruiters.config import SmartRecruitersSimConfig

    settings = get_settings()
    config = SmartRecruitersSimConfig(
        public_url=settings.sr_base_url,
        database_path=settings.data_dir / "smartrecruiters-sim.db",
        client_id=settings.sr_client_id,
        client_secret=settings.sr_client_secret.get_secret_value(),
        partner_api_url=settings.public_url,
        partner_client_id=settings.partner_client_id,
        partner_client_secret=settings.partner_client_secret.get_secret_value(),
        attachment_part_name=settings.sr_attachment_part_name,
        master_client_id=settings.sr_master_client_id,
        master_client_secret=settings.sr_master_client_secret.get_secret_value(),
        partner_name=settings.integration_name,
    )
    url = urlsplit(settings.sr_base_url)
    _serve(create_app(config), url.hostname, url.port)


@app.command("sim-vendor")
def sim_vendor() -> None:
    """Run the sandbox vendor."""
    from simulators.sandbox_vendor.app import create_app
    from simulators.sandbox_vendor.config import SandboxVendorConfig

    settings = get_settings()
    config = SandboxVendorConfig(
        public_url=settings.sandbox_vendor_url,
        database_path=settings.data_dir / "sandbox-vendor.db",
        api_key=settings.sandbox_vendor_api_key.get_secret_value(),
        webhook_url=f"{settings.public_url}/webhooks/sandbox",
        webhook_secret=settings.sandbox_webhook_secret.get_secret_value(),
    )
    url = urlsplit(settings.sandbox_vendor_url)
    _serve(create_app(config), url.hostname, url.port)


if __name__ == "__main__":
    app()
