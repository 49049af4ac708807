"""Running the service: everything on this machine (`run`), or one part of it (`worker`, `api`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import typer
import uvicorn
from rich.table import Table

from cli.output import console, problems
from orders.visibility import ORDER_WORKFLOWS
from settings import Settings, get_settings

commands = typer.Typer()


def _server_options() -> dict[str, Any]:
    """How each of our HTTP servers runs, with this process's logging configured."""
    import telemetry
    from api.slow_clients import RequestHeadDeadline

    settings = get_settings()
    telemetry.configure_logging(settings)
    # log_config=None: uvicorn's own lines go through ours. Its access lines (INFO) stay off: each
    # would log a URL with its query string, and the traces have the requests.
    return {
        "log_config": None,
        "log_level": "warning",
        "timeout_graceful_shutdown": 10,
        # uvicorn's default believes X-Forwarded-For from any local process: only our proxies may
        # say who the client is.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies,
        # uvicorn calls `http` to make each connection's protocol; its annotation asks for a class.
        "http": functools.partial(
            RequestHeadDeadline, head_timeout=settings.request_read_timeout_seconds
        ),
    }


def serve(asgi_app, host: str, port: int) -> None:
    uvicorn.run(asgi_app, host=host, port=port, **_server_options())


class _OneOfSeveral(uvicorn.Server):
    """A server sharing its process with others: the process's SIGTERM or SIGINT stops them all
    (serve_together), where each uvicorn server would take the signals for itself alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_together(apps: list[tuple[Any, str, int]]) -> None:
    """Serve each app on its host and port, all in this process: one Python process's start and
    memory rather than one each."""
    options = _server_options()
    servers: list[uvicorn.Server] = [
        _OneOfSeveral(uvicorn.Config(app, host=host, port=port, **options))
        for app, host, port in apps
    ]

    async def all_of_them() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stop, servers)
        await asyncio.gather(*(server.serve() for server in servers))

    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory()) as runner:
        runner.run(all_of_them())
    if not all(server.started for server in servers):
        raise SystemExit(3)  # as uvicorn.run exits when its server could not start


def _stop(servers: list[uvicorn.Server]) -> None:
    for server in servers:
        server.should_exit = True


EMBEDDED_POLL_SECONDS = 10.0


@commands.command()
def run() -> None:
    """Run everything on this machine: Temporal, worker, API,
    the SmartRecruiters and vendor simulators."""
    from embedded import Stack, seed, seed_operator

    settings = get_settings()
    if "log_format" not in settings.model_fields_set:  # a developer reads these lines in a terminal
        settings = settings.model_copy(update={"log_format": "text"})
    if "poll_interval_seconds" not in settings.model_fields_set:
        # The simulated TestGorilla pushes nothing, as the real one: a person trying it on this
        # machine should see its result within seconds, not a production poll's minutes.
        settings = settings.model_copy(update={"poll_interval_seconds": EMBEDDED_POLL_SECONDS})
    stack = Stack(settings)
    if busy := stack.ports_in_use():
        for line in busy:
            problems.print(f"[red]Cannot start:[/red] {line}", soft_wrap=True)
        raise typer.Exit(1)
    console.print("[bold]Starting the embedded stack…[/bold]")
    # A stop asked for while starting (Ctrl-C, or SIGTERM from a service manager) waits for the
    # start to end: cut off midway, a child just forked would be left running, unknown to the
    # stack. (Handlers, unlike blocked signals, do not pass to the children: exec resets them.)
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    stop_asked: list[int] = []
    for stop_signal in stop_signals:
        signal.signal(stop_signal, lambda number, _frame: stop_asked.append(number))
    try:
        stack.start()
        if not stop_asked:
            tokens = asyncio.run(seed(settings))
            _print_welcome(settings, tokens, asyncio.run(seed_operator(settings)))
        # Blocked only now, so the children started above keep the default signal handling.
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        while not stop_asked and signal.sigtimedwait(stop_signals, 1.0) is None:
            if crashed := stack.exited():
                console.print(
                    f"[red]Stopped unexpectedly: {', '.join(crashed)}. See its output "
                    f"above (Temporal's: {settings.data_dir}/logs).[/red]"
                )
                raise typer.Exit(1)
    finally:
        console.print("\n[bold]Stopping…[/bold]")
        stack.stop()
        console.print("Stopped. Orders in flight continue when you start again.")


def temporal_ui_orders(settings: Settings) -> str:
    """The Temporal UI's list of orders. A fresh browser shows none of our search attributes as
    columns (the UI keeps them per browser): docs/operations.md says how to add them."""
    namespace, query = quote(settings.temporal_namespace), quote(ORDER_WORKFLOWS)
    return f"{settings.temporal_ui_base_url}/namespaces/{namespace}/workflows?query={query}"


def _print_welcome(settings, trigger_tokens: dict[str, str], console_password: str) -> None:
    from embedded import EMBEDDED_OPERATOR

    table = Table(title="SmartRecruiters assessment partner: embedded mode", show_header=False)
    table.add_column()
    table.add_column(overflow="fold")  # URLs are copied from here: never cut them short
    table.add_row("Partner API docs", f"{settings.public_url}/docs")
    table.add_row("Hub console (operators)", f"{settings.public_url}/console")
    table.add_row(
        "Hub console sign-in (a new password at each start)",
        f"{EMBEDDED_OPERATOR} / {console_password}",
    )
    table.add_row(
        "Temporal UI: the orders (our columns: docs/operations.md)", temporal_ui_orders(settings)
    )
    table.add_row("SmartRecruiters simulator", f"{settings.sr_base_url}/")
    table.add_row("Sandbox vendor outbox", f"{settings.sandbox_vendor_url}/outbox")
    table.add_row(
        "Vendor simulators (control API at /_sim/…)",
        f"HackerRank {settings.hackerrank_sim_url}, Checkr {settings.checkr_sim_url}, "
        f"TestGorilla {settings.testgorilla_sim_url}",
    )
    table.add_row("Reference vendor (Vendor API, no adapter)", f"{settings.reference_vendor_url}/")
    table.add_row("SR calls us with client_id", settings.partner_client_id)
    table.add_row("…and client_secret", settings.partner_client_secret.get_secret_value())
    table.add_row("Token URL", f"{settings.public_url}/oauth/token")
    table.add_row("Data folder (state, Temporal log)", str(settings.data_dir))
    console.print(table)
    # One per line, so a narrow terminal never cuts them.
    console.print("External Trigger Tokens, valid for a day, one per vendor account:")
    for account, token in trigger_tokens.items():
        console.print(f"  {account}: [bold]{token}[/bold]", soft_wrap=True)
    console.print(
        "Open the SmartRecruiters simulator: order an assessment for a candidate, or "
        "connect another company"
        " under Apps & Integrations with one of the tokens above. Ctrl-C stops everything."
    )


@commands.command()
def worker() -> None:
    """Run the Temporal worker (order workflows and their activities)."""
    import worker as worker_module

    worker_module.main()


@commands.command()
def api() -> None:
    """Run the partner API that SmartRecruiters and vendors call."""
    import telemetry
    from api.app import create_app

    settings = get_settings()
    partner_api = create_app(settings)
    telemetry.configure_tracing(settings, "assessments-api", partner_api)
    serve(partner_api, settings.api_host, settings.api_port)
