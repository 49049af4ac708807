"""`assessments`: run the service, or one of its parts."""

from __future__ import annotations

import asyncio
import functools
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, NoReturn, Optional
from urllib.parse import urlsplit

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from settings import get_settings

app = typer.Typer(
    help="SmartRecruiters assessment partner on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def _serve(asgi_app, host: str, port: int) -> None:
    import telemetry
    from api.slow_clients import RequestHeadDeadline

    settings = get_settings()
    telemetry.configure_logging(settings)
    # log_config=None: uvicorn's own lines go through ours. Its access lines (INFO) stay off: each
    # would log a URL with its query string, and the traces have the requests.
    uvicorn.run(
        asgi_app,
        host=host,
        port=port,
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=10,
        # uvicorn's default believes X-Forwarded-For from any local process: only our proxies may say
        # who the client is.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies,
        http=functools.partial(
            RequestHeadDeadline, head_timeout=settings.request_read_timeout_seconds
        ),
    )


@app.command()
def run() -> None:
    """Run everything on this machine: Temporal, worker, API, the SmartRecruiters and vendor simulators."""
    from embedded import Stack, seed

    settings = get_settings()
    if "log_format" not in settings.model_fields_set:  # a developer reads these lines in a terminal
        settings = settings.model_copy(update={"log_format": "text"})
    stack = Stack(settings)
    console.print("[bold]Starting the embedded stack…[/bold]")
    try:
        stack.start()
        _print_welcome(settings, asyncio.run(seed(settings)))
        # Blocked only now, so the children started above keep the default signal handling.
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        while signal.sigtimedwait(stop_signals, 1.0) is None:
            if crashed := stack.exited():
                console.print(
                    f"[red]Stopped unexpectedly: {', '.join(crashed)}. See its output above (Temporal's: {settings.data_dir}/logs).[/red]"
                )
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("\n[bold]Stopping…[/bold]")
        stack.stop()
        console.print("Stopped. Orders in flight continue when you start again.")


def _print_welcome(settings, trigger_tokens: dict[str, str]) -> None:
    table = Table(title="SmartRecruiters assessment partner: embedded mode", show_header=False)
    table.add_row("Partner API docs", f"{settings.public_url}/docs")
    table.add_row("Temporal UI", settings.temporal_ui_base_url)
    table.add_row("SmartRecruiters simulator", f"{settings.sr_base_url}/")
    table.add_row("Sandbox vendor outbox", f"{settings.sandbox_vendor_url}/outbox")
    table.add_row(
        "Vendor simulators (control API at /_sim/…)",
        f"HackerRank {settings.hackerrank_sim_url}, Checkr {settings.checkr_sim_url}, TestGorilla {settings.testgorilla_sim_url}",
    )
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
        "Open the SmartRecruiters simulator: order an assessment for a candidate, or connect another company"
        " under Apps & Integrations with one of the tokens above. Ctrl-C stops everything."
    )


@app.command()
def worker() -> None:
    """Run the Temporal worker (order workflows and their activities)."""
    import worker as worker_module

    worker_module.main()


@app.command()
def api() -> None:
    """Run the partner API that SmartRecruiters and vendors call."""
    import telemetry
    from api.app import create_app

    settings = get_settings()
    partner_api = create_app(settings)
    telemetry.configure_tracing(settings, "assessments-api", partner_api)
    _serve(partner_api, settings.api_host, settings.api_port)


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
        company_id=settings.partner_company_id,
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


@app.command("sim-hackerrank")
def sim_hackerrank() -> None:
    """Run the HackerRank for Work simulator (embedded mode's key)."""
    from embedded import SIMULATED_HACKERRANK_KEY
    from simulators.hackerrank import HackerRankSimConfig, create_app

    settings = get_settings()
    url = urlsplit(settings.hackerrank_sim_url)
    config = HackerRankSimConfig(
        api_key=SIMULATED_HACKERRANK_KEY,
        public_url=url.geturl(),
        database_path=settings.data_dir / "hackerrank-sim.db",
    )
    _serve(create_app(config), url.hostname, url.port)


@app.command("sim-checkr")
def sim_checkr() -> None:
    """Run the Checkr simulator (embedded mode's key; `make run` registers our webhook URL there)."""
    from embedded import SIMULATED_CHECKR_KEY
    from simulators.checkr import CheckrSimConfig, create_app

    settings = get_settings()
    url = urlsplit(settings.checkr_sim_url)
    config = CheckrSimConfig(
        api_key=SIMULATED_CHECKR_KEY,
        public_url=url.geturl(),
        database_path=settings.data_dir / "checkr-sim.db",
    )
    _serve(create_app(config), url.hostname, url.port)


@app.command("sim-testgorilla")
def sim_testgorilla() -> None:
    """Run the TestGorilla simulator (its default API user)."""
    from simulators.testgorilla.app import create_app
    from simulators.testgorilla.config import TestGorillaSimConfig

    settings = get_settings()
    url = urlsplit(settings.testgorilla_sim_url)
    _serve(
        create_app(
            TestGorillaSimConfig(
                public_url=url.geturl(), database_path=settings.data_dir / "testgorilla-sim.db"
            )
        ),
        url.hostname,
        url.port,
    )


# --- Operator commands ----------------------------------------------------------------------
# They use the store and SmartRecruiters directly, with the same settings as the API (not the
# admin API over HTTP), so operators can run them on the server. admin/operations.py holds the
# logic the admin API shares.

vendor_account_app = typer.Typer(
    help="Vendor accounts: our accounts at assessment vendors.", no_args_is_help=True
)
token_app = typer.Typer(
    help="External Trigger Tokens: what a customer's admin enters to connect a company.",
    no_args_is_help=True,
)
partner_config_app = typer.Typer(
    help="Our partner configuration at SmartRecruiters (with the master credentials).",
    no_args_is_help=True,
)
app.add_typer(vendor_account_app, name="vendor-account")
vendor_app = typer.Typer(
    help="Vendors, as a vendor account's credentials reach them.", no_args_is_help=True
)
app.add_typer(vendor_app, name="vendor")
app.add_typer(token_app, name="token")
app.add_typer(partner_config_app, name="partner-config")
orders_app = typer.Typer(
    help="Orders: list, find, inspect and repair them (Temporal and our store).",
    no_args_is_help=True,
)
app.add_typer(orders_app, name="orders")
smartrecruiters_app = typer.Typer(
    help="Our link with SmartRecruiters, checked from here.", no_args_is_help=True
)
app.add_typer(smartrecruiters_app, name="smartrecruiters")
problems = Console(stderr=True)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON for machines instead of a table.")
]


def _fail(message: str) -> NoReturn:
    problems.print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


def _operate(
    work: Callable[[Any], Awaitable[Any]], opener: Callable[[Any], Any] | None = None
) -> Any:
    """`work(operations)` on the store (migrated first, disposed after); expected refusals exit 1.
    `opener(settings)`: what `work` gets instead of the store's operations (`orders`: the lookup)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from admin.operations import AdminError, opened
    from store import StoreError

    settings = get_settings()

    async def main() -> Any:
        async with (opener or opened)(settings) as operations:
            return await work(operations)

    try:
        return asyncio.run(main())
    except (AdminError, StoreError) as err:
        _fail(str(err))
    except OperationalError as err:  # the database is unreachable; SQL and parameters are not shown
        where = make_url(settings.store_url).render_as_string(hide_password=True)
        reason = (
            str(err.orig).strip().splitlines()[0] if err.orig is not None else type(err).__name__
        )
        _fail(f"could not use the store at {where}: {reason}")


def _json_option(value: str, option: str) -> Any:
    """A JSON option's value; `-` reads it from standard input (keeps secrets out of shell history)."""
    if value == "-":
        value = sys.stdin.read()
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:  # the position only: the value may hold a secret
        _fail(f"{option} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _dumped(views: Any) -> Any:
    return (
        [view.model_dump(mode="json") for view in views]
        if isinstance(views, list)
        else views.model_dump(mode="json")
    )


def _when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _none_yet(found: list, what: str) -> bool:
    if not found:
        console.print(f"No {what} yet.")
    return not found


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")  # ids are copied from here: never cut them short
    return table


def _vendor_account_table(title: str, accounts: list) -> Table:
    table = _table(title, "ID", "Name", "Adapter", "Package settings", "Created")
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
            _when(account.created_at),
        )
    return table


@vendor_account_app.command("create")
def vendor_account_create(
    name: Annotated[
        str, typer.Option("--name", help="A unique name, e.g. the vendor and the customer.")
    ],
    adapter: Annotated[
        str,
        typer.Option(
            "--adapter", help="The vendor adapter: sandbox, hackerrank, checkr or testgorilla."
        ),
    ],
    credentials: Annotated[
        str,
        typer.Option(
            "--credentials",
            help='JSON object for the adapter, e.g. \'{"api_key": "…"}\'; "-" reads it from standard input.',
        ),
    ],
    package_settings: Annotated[
        Optional[str],
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
        "credentials": _json_option(credentials, "--credentials"),
    }
    if package_settings is not None:
        body["package_settings"] = _json_option(package_settings, "--package-settings")
    try:
        new = NewVendorAccount.model_validate(body)
    except ValidationError as err:  # field and reason only, never the value (it may be a secret)
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        _fail(f"invalid vendor account: {reasons}")
    account = _operate(lambda operations: operations.create_vendor_account(new))
    if as_json:
        _print_json(_dumped(account))
    else:
        console.print(_vendor_account_table("Vendor account created", [account]))


@vendor_account_app.command("set-credentials")
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

    new = NewCredentials(credentials=_json_option(credentials, "--credentials"))
    account = _operate(
        lambda operations: operations.replace_vendor_credentials(vendor_account_id, new)
    )
    if as_json:
        _print_json(_dumped(account))
    else:
        console.print(_vendor_account_table("Vendor account credentials replaced", [account]))


@vendor_account_app.command("list")
def vendor_account_list(as_json: JsonFlag = False) -> None:
    """List vendor accounts (never their credentials)."""
    accounts = _operate(lambda operations: operations.vendor_accounts())
    if as_json:
        _print_json(_dumped(accounts))
    elif not _none_yet(accounts, "vendor accounts"):
        console.print(_vendor_account_table("Vendor accounts", accounts))


@vendor_app.command("check")
def vendor_check(
    vendor_account_id: Annotated[
        str, typer.Argument(help="The vendor account to check (from `vendor-account list`).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Read the account's catalog at the vendor with its own credentials, and show what SmartRecruiters would be offered.

    Read-only (lists the vendor's tests, assessments or packages, as the service does). Exits 0 when
    the vendor answered with packages, 1 when the account is unknown or the vendor offers none,
    2 when the check cannot be made (the key, the account's base_url, the network)."""
    from admin.operations import VendorUnchecked

    async def check(operations) -> Any:
        try:
            return await operations.check_vendor_account(vendor_account_id)
        except VendorUnchecked as err:
            return err

    checked = _operate(check)
    if isinstance(checked, VendorUnchecked):
        problems.print(f"[red]Error:[/red] {escape(str(checked))}", soft_wrap=True)
        raise typer.Exit(2)
    account = checked.vendor_account
    if as_json:
        _print_json(_dumped(checked))
    elif checked.packages:
        console.print(
            f"{escape(account.name)} ({account.adapter} at {escape(checked.vendor_url)}) accepted the credentials; "
            f"SmartRecruiters would be offered {len(checked.packages)} package(s):",
            soft_wrap=True,
        )
        table = _table(
            "What SmartRecruiters would be offered",
            "Package",
            "Name",
            "Type",
            "Assessments",
            "Deadline (days)",
        )
        for package in checked.packages:
            tests = "\n".join(escape(test.name) for test in package.assessments)
            table.add_row(
                escape(package.id),
                escape(package.name),
                package.type.value,
                tests,
                f"{package.deadline_days:g}",
            )
        console.print(table)
    if not checked.packages:
        problems.print(
            f"[yellow]Nothing to offer:[/yellow] {account.adapter} at {escape(checked.vendor_url)} accepted the credentials of "
            f"{escape(account.name)} but lists no package SmartRecruiters could order (none published, or all drafts or archived).",
            soft_wrap=True,
        )
        raise typer.Exit(1)


@token_app.command("issue")
def token_issue(
    vendor_account_id: Annotated[
        str, typer.Argument(help="The vendor account the token connects companies to.")
    ],
    expires_in_days: Annotated[
        Optional[float],
        typer.Option(
            "--expires-in-days",
            min=0.001,
            help="Days until it expires; ASSESSMENTS_TRIGGER_TOKEN_DAYS (7) if omitted.",
        ),
    ] = None,
    company_id: Annotated[
        Optional[str],
        typer.Option(
            "--company", help="The one SmartRecruiters company it may connect; any if omitted."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an External Trigger Token; it is printed once and cannot be shown again."""
    from admin.models import NewTriggerToken

    from pydantic import ValidationError

    try:
        new = NewTriggerToken(expires_in_days=expires_in_days, company_id=company_id)
    except ValidationError as err:  # e.g. more days than allowed
        error = err.errors()[0]
        _fail(
            f"{'--company' if error['loc'] == ('company_id',) else '--expires-in-days'}: {error['msg']}"
        )
    issued = _operate(lambda operations: operations.issue_trigger_token(vendor_account_id, new))
    if as_json:
        _print_json(_dumped(issued))
    else:
        limited = f" for company {escape(issued.company_id)}" if issued.company_id else ""
        console.print(
            f"External Trigger Token [bold]{issued.id}[/bold] for vendor account {issued.vendor_account_id}{limited}, expires: {_when(issued.expires_at)}"
        )
        typer.echo(issued.token)  # on a line of its own, unformatted, for copying
    problems.print(f"[yellow]Warning:[/yellow] {issued.notice}", soft_wrap=True)


@token_app.command("list")
def token_list(
    vendor_account_id: Annotated[
        Optional[str], typer.Option("--vendor-account", help="Only this vendor account's tokens.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List External Trigger Tokens (their plaintext is never stored)."""
    tokens = _operate(lambda operations: operations.trigger_tokens(vendor_account_id))
    if as_json:
        _print_json(_dumped(tokens))
        return
    if _none_yet(tokens, "External Trigger Tokens"):
        return
    table = _table(
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
            _when(token.created_at),
            _when(token.expires_at),
            _when(token.revoked_at),
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `token list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke an External Trigger Token for good; companies already connected stay connected."""
    _operate(lambda operations: operations.revoke_trigger_token(token_id))
    if as_json:
        _print_json({"id": token_id, "revoked": True})
    else:
        console.print(
            f"Revoked trigger token {escape(token_id)}; companies already connected with it stay connected."
        )


@app.command("connections")
def connections_list(as_json: JsonFlag = False) -> None:
    """List company connections and their state."""
    found = _operate(lambda operations: operations.connections())
    if as_json:
        _print_json(_dumped(found))
        return
    if _none_yet(found, "company connections"):
        return
    table = _table(
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
            _when(c.connected_at),
            _when(c.disconnected_at),
        )
    console.print(table)


def _configuration_table(title: str, configuration: dict) -> Table:
    table = _table(title, "Setting", "Value")
    for key, value in configuration.items():
        table.add_row(key, escape(value if isinstance(value, str) else json.dumps(value)))
    return table


@partner_config_app.command("register")
def partner_config_register(as_json: JsonFlag = False) -> None:
    """Register our URLs and assessment types at SmartRecruiters (PUT partner/configuration)."""
    stored = _operate(lambda operations: operations.register_partner_configuration())
    if as_json:
        _print_json(stored)
    else:
        console.print(_configuration_table("Registered at SmartRecruiters", stored))


@partner_config_app.command("show")
def partner_config_show(as_json: JsonFlag = False) -> None:
    """Show the partner configuration SmartRecruiters holds for us (GET partner/configuration)."""

    async def read(operations) -> tuple[dict, dict]:
        return await operations.partner_configuration(), operations.expected_partner_configuration()

    stored, ours = _operate(read)
    if as_json:
        _print_json(stored)
        return
    console.print(_configuration_table("Partner configuration at SmartRecruiters", stored))
    from admin.sr_check import configuration_differences

    differing = sorted(difference.setting for difference in configuration_differences(stored, ours))
    if differing:
        problems.print(
            f"[yellow]Warning:[/yellow] differs from this deployment's settings in {', '.join(differing)}: "
            "run `assessments partner-config register` to update it.",
            soft_wrap=True,
        )


@smartrecruiters_app.command("check")
def smartrecruiters_check() -> None:
    """Compare the partner configuration SmartRecruiters holds for us with the one we would register.

    Read-only: a token with the master credentials, then GET partner/configuration. Exits 0 when
    they agree, 1 when they differ or SR holds none, 2 when the check cannot be made (credentials,
    region, network)."""
    from admin.sr_check import CheckFailed, NoConfiguration, partner_configuration_differences

    settings = get_settings()
    try:
        differences = asyncio.run(partner_configuration_differences(settings))
    except NoConfiguration as err:
        problems.print(f"[yellow]Differs:[/yellow] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except CheckFailed as err:
        problems.print(f"[red]Error:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if not differences:
        console.print(
            f"SmartRecruiters at {escape(settings.sr_base_url)} holds the partner configuration we would register.",
            soft_wrap=True,
        )
        return
    # One line per setting, never folded: URLs are compared and copied from here.
    console.print(
        f"The partner configuration at SmartRecruiters ({escape(settings.sr_base_url)}) differs from ours in:",
        soft_wrap=True,
    )
    for difference in differences:
        at_sr, ours = (
            escape(json.dumps(value)) for value in (difference.at_smartrecruiters, difference.ours)
        )
        console.print(
            f"  {difference.setting}: at SmartRecruiters {at_sr}, we would register {ours}",
            soft_wrap=True,
        )
    problems.print("Run `assessments partner-config register` to update it.", soft_wrap=True)
    raise typer.Exit(1)


# --- Orders: find and inspect (admin/orders.py) ----------------------------------------------


def _orders(work: Callable[[Any], Awaitable[Any]]) -> Any:
    from admin.orders import opened

    return _operate(work, opened)


def _revision_window(detail: Any) -> str:
    ends = _when(detail.revision_window_ends)
    if detail.workflow_status == "RUNNING":
        return (
            f"watching the posted result for revisions until {ends}; the workflow runs until then"
        )
    return f"the posted result was watched for revisions until {ends}"


def _order_table(title: str, found: list, *, stuck: bool = False) -> Table:
    columns = ["Order", "SR status", "Workflow", "Vendor", "Package", "Company", "Placed"]
    table = _table(title, *columns, *(("Last progress", "Stuck on") if stuck else ("Closed",)))
    for order in found:
        row = [
            order.order_id,
            order.status or "–",
            order.workflow_status.lower(),
            order.vendor or "–",
            order.package or "–",
            escape(order.company or "–"),
            _when(order.started_at),
        ]
        row += (
            [_when(order.last_progress_at), escape(order.stuck_on or "–")]
            if stuck
            else [_when(order.closed_at)]
        )
        table.add_row(*row)
    return table


# The listing's filters, as options of `orders list` and `orders repair-all`.
CompanyOption = Annotated[
    Optional[str], typer.Option("--company", help="SmartRecruiters companyId.")
]
VendorOption = Annotated[
    Optional[str], typer.Option("--vendor", help="sandbox, hackerrank, checkr or testgorilla.")
]
PackageOption = Annotated[
    Optional[str], typer.Option("--package", help="Package id, e.g. skills-fullstack.")
]
StatusOption = Annotated[
    Optional[str],
    typer.Option(
        "--status",
        help="RECEIVED, PENDING, IN_PROGRESS, COMPLETED, REJECTED, EXPIRED, CANCELLED, SR_REFUSING (SR refuses us for the company; the order keeps trying) or UNDELIVERED (it gave up; repost-result or reset once SR listens).",
    ),
]
OlderThanOption = Annotated[
    Optional[str],
    typer.Option("--older-than", help="Placed longer ago than this: 30m, 12h, 3d, 2w, 1d12h."),
]
OpenOption = Annotated[
    Optional[bool],
    typer.Option("--open/--closed", help="Only orders still running, or only finished ones."),
]
StuckOption = Annotated[
    bool,
    typer.Option(
        "--stuck",
        help="Only stuck orders: a call to SR or the vendor unfinished and no progress for ASSESSMENTS_STUCK_AFTER_HOURS.",
    ),
]
StuckForOption = Annotated[
    Optional[str],
    typer.Option("--stuck-for", help="Only orders stuck for this long (implies --stuck), e.g. 2h."),
]
FailedOption = Annotated[
    bool,
    typer.Option(
        "--failed",
        help="Only orders whose workflow failed (SR refused their final update: a reset repairs those), was terminated or timed out (past Temporal's history limits, or by hand): SR never heard how they ended.",
    ),
]
_FILTER_OPTIONS = {
    "company": "--company",
    "vendor": "--vendor",
    "package": "--package",
    "status": "--status",
    "older_than": "--older-than",
    "stuck_for": "--stuck-for",
    "limit": "--limit",
    "page_token": "--page-token",
}


def _order_filter(**typed: Any) -> Any:
    """The listing's filter from the options typed; a bad one exits 1, naming its option."""
    from admin.operations import Invalid
    from admin.orders import order_filter

    try:
        return order_filter(get_settings(), names=_FILTER_OPTIONS, **typed)
    except Invalid as err:
        _fail(str(err))


@orders_app.command("list")
def orders_list(
    company: CompanyOption = None,
    vendor: VendorOption = None,
    package: PackageOption = None,
    status: StatusOption = None,
    older_than: OlderThanOption = None,
    open_: OpenOption = None,
    stuck: StuckOption = False,
    stuck_for: StuckForOption = None,
    failed: FailedOption = False,
    limit: Annotated[int, typer.Option("--limit", help="Orders per page (at most 200).")] = 50,
    page_token: Annotated[
        Optional[str], typer.Option("--page-token", help="The token the previous page printed.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List orders, newest first, by company, vendor, package, status, age, or stuck."""
    wanted = _order_filter(
        company=company,
        vendor=vendor,
        package=package,
        status=status,
        older_than=older_than,
        open=open_,
        stuck=stuck,
        stuck_for=stuck_for,
        failed=failed,
        limit=limit,
        page_token=page_token,
    )
    page = _orders(lambda lookup: lookup.list(wanted))
    if as_json:
        _print_json(_dumped(page))
        return
    if page.orders:
        console.print(
            _order_table(
                "Stuck orders" if wanted.stuck_for is not None else "Orders",
                page.orders,
                stuck=wanted.stuck_for is not None,
            )
        )
    else:
        console.print("No orders match" + (" on this page." if page.next_page_token else "."))
    if page.next_page_token:
        console.print(f"More: add [bold]--page-token {page.next_page_token}[/bold]", soft_wrap=True)


@orders_app.command("find")
def orders_find(
    order_id: Annotated[
        Optional[str], typer.Option("--order-id", help="The SmartRecruiters order id.")
    ] = None,
    vendor_ref: Annotated[
        Optional[str],
        typer.Option(
            "--vendor-ref", help="The vendor's reference (its invitation, candidate or test id)."
        ),
    ] = None,
    email: Annotated[
        Optional[str],
        typer.Option(
            "--email",
            help='The candidate\'s email, in any case; "-" reads it from standard input (not in shell history).',
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Find orders by SR order id, vendor reference or candidate email (looked up by its keyed hash)."""
    from pydantic import ValidationError

    from admin.models import OrderSearch

    if email == "-":
        email = sys.stdin.readline().strip()
    try:
        search = OrderSearch(order_id=order_id, vendor_ref=vendor_ref, email=email)
    except ValidationError as err:  # never the value: it may be an email
        reason = err.errors()[0]
        what = f"--{str(reason['loc'][0]).replace('_', '-')}: " if reason["loc"] else ""
        _fail(
            f"{what}{reason['msg'].removeprefix('Value error, ')}".replace(
                "order_id, vendor_ref and email", "--order-id, --vendor-ref and --email"
            )
        )
    found = _orders(lambda lookup: lookup.find(search))
    if as_json:
        _print_json(_dumped(found))
    elif found:
        console.print(_order_table("Orders found", found))
    else:
        console.print("No order found.")


@orders_app.command("show")
def orders_show(
    order_id: Annotated[str, typer.Argument(help="The SmartRecruiters order id.")],
    as_json: JsonFlag = False,
) -> None:
    """An order's state and timeline (steps, each SR and vendor call with its attempts), and its Temporal UI link."""
    detail = _orders(lambda lookup: lookup.show(order_id))
    if as_json:
        _print_json(_dumped(detail))
        return
    about = _table(f"Order {detail.order_id}", "", "")
    candidate = detail.candidate
    result = "–"
    if detail.score is not None or detail.outcome:
        score = (
            f"{detail.score:g}"
            + (f" of {detail.max_score:g}" if detail.max_score is not None else "")
            if detail.score is not None
            else ""
        )
        result = ", ".join(part for part in (score, detail.outcome) if part)
    rows = [
        ("SR status", f"{detail.status or '–'} (SR was told: {detail.sr_status or 'nothing yet'})"),
        (
            "Workflow",
            f"{detail.workflow_status.lower()}, placed {_when(detail.started_at)}"
            + (f", closed {_when(detail.closed_at)}" if detail.closed_at else ""),
        ),
        (
            "Candidate",
            f"{candidate.first_name} {candidate.last_name} <{candidate.email}>"
            if candidate
            else "–",
        ),
        (
            "Package",
            f"{detail.package_name or detail.package or '–'} ({detail.package or '–'})"
            + (", inline" if detail.inline else ""),
        ),
        ("Company", detail.company or "–"),
        ("Job", detail.job_title or "–"),
        (
            "Vendor",
            f"{detail.vendor or '–'}"
            + (f", account {detail.vendor_account_id}" if detail.vendor_account_id else ""),
        ),
        ("Vendor reference", detail.vendor_ref or "–"),
        ("Vendor status", detail.vendor_status or "–"),
        ("Deadline", _when(detail.deadline)),
        *([("Revision window", _revision_window(detail))] if detail.revision_window_ends else []),
        *(
            [
                (
                    "SR refuses us",
                    f"for this company: the final update is tried again until {_when(detail.sr_refusing_until)}",
                )
            ]
            if detail.sr_refusing_until
            else []
        ),
        *(
            [
                (
                    "Undelivered",
                    f"SR never took {detail.undelivered}; once it listens again, repair it: repost-result (an order with a result) or reset",
                )
            ]
            if detail.undelivered
            else []
        ),
        ("Result", result),
        ("Report", detail.report_url or "–"),
        (
            "Webhooks",
            "–"
            if detail.webhooks_received is None
            else f"{detail.webhooks_received} received, {detail.duplicate_webhooks} duplicates",
        ),
        ("Temporal UI", detail.temporal_ui_url),
    ]
    for name, value in rows:
        about.add_row(name, escape(value))
    console.print(about)
    if detail.note:
        problems.print(f"[yellow]Note:[/yellow] {escape(detail.note)}", soft_wrap=True)
    timeline = _table("Timeline", "When (UTC)", "What", "Outcome", "Attempts", "Failure")
    for item in detail.timeline:
        what = f"{item.what} ({item.peer})" if item.peer else item.what
        timeline.add_row(
            item.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(what),
            item.outcome or "",
            "" if item.attempts is None else str(item.attempts),
            escape(item.failure or ""),
        )
    console.print(timeline)


RepairKindArgument = Annotated[
    str,
    typer.Argument(
        help="extend-deadline (with --days), resend-invitation, cancel, repost-result, or reset (one order at a time)."
    ),
]
ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason",
        help="Why, in 3 to 200 characters; recorded in the order's history (cancel: SR's summary). Never candidate data.",
    ),
]
OperatorOption = Annotated[
    str, typer.Option("--operator", help="Who repairs: your handle (letters, digits, _ . @ + -).")
]
DaysOption = Annotated[
    Optional[float],
    typer.Option("--days", help="extend-deadline: days added to the current deadline."),
]


def _repair_request(kind: str, **given: Any) -> tuple[Any, Any]:
    """The repair (RepairKind) and its RepairRequest from what was typed; bad input exits 1."""
    from pydantic import ValidationError

    from admin.models import RepairRequest
    from admin.repairs import RepairKind

    kinds = [k.value for k in RepairKind]
    if kind not in kinds:
        _fail(f"the repair is one of {', '.join(kinds)}")
    try:
        return RepairKind(kind), RepairRequest(**given)
    except ValidationError as err:
        problem = err.errors()[0]
        _fail(f"--{problem['loc'][0]}: {problem['msg']}")


@orders_app.command("repair")
def orders_repair(
    order_id: Annotated[str, typer.Argument(help="The SmartRecruiters order id.")],
    kind: RepairKindArgument,
    reason: ReasonOption,
    operator: OperatorOption,
    days: DaysOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Repair an order, recorded in its history with who and why: extend its deadline, resend the
    invitation, cancel it (SR shows REJECTED with the reason), re-post its result (an ended order's
    through a reset), or reset a failed order to just before its final update (`reset`)."""
    repair, request = _repair_request(kind, operator=operator, reason=reason, days=days)
    outcome = _orders(lambda lookup: lookup.repair(order_id, repair, request))
    if as_json:
        _print_json(_dumped(outcome))
        return
    console.print(escape(outcome.note), soft_wrap=True)
    if outcome.deadline is not None:
        console.print(f"Deadline: {_when(outcome.deadline)}")
    if outcome.sr_status is not None:
        console.print(f"SR status: {outcome.sr_status.value}")


_OUTCOME_STYLE = {"would-repair": "cyan", "repaired": "green", "refused": "yellow", "failed": "red"}


@orders_app.command("repair-all")
def orders_repair_all(
    kind: RepairKindArgument,
    reason: ReasonOption,
    operator: OperatorOption,
    days: DaysOption = None,
    company: CompanyOption = None,
    vendor: VendorOption = None,
    package: PackageOption = None,
    status: StatusOption = None,
    older_than: OlderThanOption = None,
    open_: OpenOption = None,
    stuck: StuckOption = False,
    stuck_for: StuckForOption = None,
    failed: FailedOption = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run/--apply",
            help="--dry-run (the default): say what each order would do, change nothing; --apply: make the repairs.",
        ),
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Repair every order matching the filters (those of `orders list`; at least one, --open alone
    is every running order), newest first, up to ASSESSMENTS_BULK_REPAIR_LIMIT. A dry run unless
    --apply; exits 1 if any order failed (a refusal is an outcome, not a failure)."""
    repair, request = _repair_request(kind, operator=operator, reason=reason, days=days)
    wanted = _order_filter(
        company=company,
        vendor=vendor,
        package=package,
        status=status,
        older_than=older_than,
        open=open_,
        stuck=stuck,
        stuck_for=stuck_for,
        failed=failed,
    )
    answer = _orders(lambda lookup: lookup.repair_all(wanted, repair, request, dry_run=dry_run))
    if as_json:
        _print_json(_dumped(answer))
    else:
        title = f"{'Dry run: ' if dry_run else ''}{answer.repair} of {answer.examined} order{'' if answer.examined == 1 else 's'}"
        table = _table(title, "Order", "SR status", "Workflow", "Outcome", "Detail")
        for item in answer.orders:
            style = _OUTCOME_STYLE[item.outcome]
            table.add_row(
                item.order_id,
                item.status or "–",
                item.workflow_status.lower(),
                f"[{style}]{item.outcome}[/{style}]",
                escape(item.detail),
            )
        console.print(table if answer.orders else "No orders match.")
        if answer.orders:
            console.print(
                ", ".join(f"{count} {outcome}" for outcome, count in answer.counts.items() if count)
            )
        if dry_run:
            console.print(
                "Dry run: nothing was changed. Add [bold]--apply[/bold] to make the repairs."
            )
        if answer.more_matched:
            problems.print(
                f"[yellow]Note:[/yellow] more orders matched than the {answer.examined} examined (ASSESSMENTS_BULK_REPAIR_LIMIT); narrow the filter, e.g. --older-than, to reach the rest.",
                soft_wrap=True,
            )
    if answer.counts["failed"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
