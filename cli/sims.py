"""Running the simulators of SmartRecruiters and the vendors with this deployment's settings: one
each (`sim-…`), or all of them in one process (`sims`, as `run` starts them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, urlsplit

import typer

from cli.output import fail
from cli.running import serve, serve_together
from settings import Settings, get_settings

commands = typer.Typer()


def _address(url: SplitResult) -> tuple[str, int]:
    """The host and port of a simulator's URL in the settings, where it serves."""
    if url.hostname is None or url.port is None:
        fail(f"{url.geturl()} names no host and port to serve on")
    return url.hostname, url.port


def _smartrecruiters(settings: Settings) -> tuple[Any, SplitResult]:
    from simulators.smartrecruiters.app import create_app
    from simulators.smartrecruiters.config import SmartRecruitersSimConfig

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
    return create_app(config), urlsplit(settings.sr_base_url)


def _sandbox_vendor(settings: Settings) -> tuple[Any, SplitResult]:
    from simulators.sandbox_vendor.app import create_app
    from simulators.sandbox_vendor.config import SandboxVendorConfig

    config = SandboxVendorConfig(
        public_url=settings.sandbox_vendor_url,
        database_path=settings.data_dir / "sandbox-vendor.db",
        api_key=settings.sandbox_vendor_api_key.get_secret_value(),
        webhook_url=f"{settings.public_url}/webhooks/sandbox",
        webhook_secret=settings.sandbox_webhook_secret.get_secret_value(),
    )
    return create_app(config), urlsplit(settings.sandbox_vendor_url)


def _hackerrank(settings: Settings) -> tuple[Any, SplitResult]:
    from embedded import SIMULATED_HACKERRANK_KEY
    from simulators.hackerrank import HackerRankSimConfig, create_app

    url = urlsplit(settings.hackerrank_sim_url)
    config = HackerRankSimConfig(
        api_key=SIMULATED_HACKERRANK_KEY,
        public_url=url.geturl(),
        database_path=settings.data_dir / "hackerrank-sim.db",
    )
    return create_app(config), url


def _checkr(settings: Settings) -> tuple[Any, SplitResult]:
    from embedded import SIMULATED_CHECKR_KEY
    from simulators.checkr import CheckrSimConfig, create_app

    url = urlsplit(settings.checkr_sim_url)
    config = CheckrSimConfig(
        api_key=SIMULATED_CHECKR_KEY,
        public_url=url.geturl(),
        database_path=settings.data_dir / "checkr-sim.db",
    )
    return create_app(config), url


def _testgorilla(settings: Settings) -> tuple[Any, SplitResult]:
    from simulators.testgorilla.app import create_app
    from simulators.testgorilla.config import TestGorillaSimConfig

    url = urlsplit(settings.testgorilla_sim_url)
    config = TestGorillaSimConfig(
        public_url=url.geturl(), database_path=settings.data_dir / "testgorilla-sim.db"
    )
    return create_app(config), url


def _reference_vendor(settings: Settings) -> tuple[Any, SplitResult]:
    from embedded import REFERENCE_VENDOR_API_KEY, REFERENCE_VENDOR_WEBHOOK_SECRET
    from examples.reference_vendor import ReferenceVendorConfig, create_app

    url = urlsplit(settings.reference_vendor_url)
    config = ReferenceVendorConfig(
        public_url=url.geturl(),
        hub_url=settings.public_url,
        api_key=REFERENCE_VENDOR_API_KEY,
        webhook_secret=REFERENCE_VENDOR_WEBHOOK_SECRET,
        database_path=settings.data_dir / "reference-vendor.db",
        # The API starts after the simulators: its catalog is published within seconds of it.
        retry_max_delay=5.0,
    )
    return create_app(config), url


# Each simulator's command, what the command says it runs, and what it serves where.
SIMULATORS: tuple[tuple[str, str, Callable[[Settings], tuple[Any, SplitResult]]], ...] = (
    ("sim-smartrecruiters", "Run the SmartRecruiters simulator.", _smartrecruiters),
    ("sim-vendor", "Run the sandbox vendor.", _sandbox_vendor),
    (
        "sim-hackerrank",
        "Run the HackerRank for Work simulator (embedded mode's key).",
        _hackerrank,
    ),
    (
        "sim-checkr",
        "Run the Checkr simulator (embedded mode's key; `make run` registers our webhook URL "
        "there).",
        _checkr,
    ),
    ("sim-testgorilla", "Run the TestGorilla simulator (its default API user).", _testgorilla),
    (
        "sim-reference-vendor",
        "Run the reference vendor of the Vendor API (examples/reference_vendor).",
        _reference_vendor,
    ),
)


def _run_alone(build: Callable[[Settings], tuple[Any, SplitResult]]) -> Callable[[], None]:
    def command() -> None:
        app, url = build(get_settings())
        serve(app, *_address(url))

    return command


for name, help_text, build in SIMULATORS:
    commands.command(name, help=help_text)(_run_alone(build))


@commands.command("sims")
def sims() -> None:
    """Run every simulator (SmartRecruiters, the sandbox vendor, HackerRank, Checkr, TestGorilla,
    the reference vendor) in one process, each on the port of its URL."""
    settings = get_settings()
    serve_together(
        [(app, *_address(url)) for app, url in (build(settings) for _, _, build in SIMULATORS)]
    )
