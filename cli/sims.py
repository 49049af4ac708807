"""Running one simulator of SmartRecruiters or a vendor, with this deployment's settings."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

import typer

from cli.output import fail
from cli.running import serve
from settings import get_settings

commands = typer.Typer()


def _serve_at(asgi_app, url: SplitResult) -> None:
    """Serve a simulator on the host and port of its URL in the settings."""
    if url.hostname is None or url.port is None:
        fail(f"{url.geturl()} names no host and port to serve on")
    serve(asgi_app, url.hostname, url.port)


@commands.command("sim-smartrecruiters")
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
    _serve_at(create_app(config), url)


@commands.command("sim-vendor")
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
    _serve_at(create_app(config), url)


@commands.command("sim-hackerrank")
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
    _serve_at(create_app(config), url)


@commands.command("sim-checkr")
def sim_checkr() -> None:
    """Run the Checkr simulator (embedded mode's key; `make run` registers our webhook URL
    there)."""
    from embedded import SIMULATED_CHECKR_KEY
    from simulators.checkr import CheckrSimConfig, create_app

    settings = get_settings()
    url = urlsplit(settings.checkr_sim_url)
    config = CheckrSimConfig(
        api_key=SIMULATED_CHECKR_KEY,
        public_url=url.geturl(),
        database_path=settings.data_dir / "checkr-sim.db",
    )
    _serve_at(create_app(config), url)


@commands.command("sim-testgorilla")
def sim_testgorilla() -> None:
    """Run the TestGorilla simulator (its default API user)."""
    from simulators.testgorilla.app import create_app
    from simulators.testgorilla.config import TestGorillaSimConfig

    settings = get_settings()
    url = urlsplit(settings.testgorilla_sim_url)
    _serve_at(
        create_app(
            TestGorillaSimConfig(
                public_url=url.geturl(), database_path=settings.data_dir / "testgorilla-sim.db"
            )
        ),
        url,
    )
