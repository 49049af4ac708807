"""`assessments smartrecruiters check` against the SR simulator: what differs,
and clear failures."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from typer.testing import CliRunner

import settings as settings_module
from cli import app
from connections.partner_configuration import partner_configuration
from embedded import free_port
from smartrecruiters.client import smartrecruiters_client
from tests.support.servers import serve, smartrecruiters_alone

PUBLIC_URL = "https://partner.example"


@pytest.fixture(scope="module")
def sr(tmp_path_factory):
    with smartrecruiters_alone(tmp_path_factory.mktemp("sr-check")) as (url, config):
        yield url, config


def use_settings(monkeypatch, **values: str):
    for name, value in values.items():
        monkeypatch.setenv(f"ASSESSMENTS_{name.upper()}", value)
    settings_module.get_settings.cache_clear()
    return settings_module.get_settings()


@pytest.fixture
def settings(sr, monkeypatch, tmp_path):
    url, config = sr
    yield use_settings(
        monkeypatch,
        sr_base_url=url,
        public_url=PUBLIC_URL,
        data_dir=str(tmp_path),
        sr_master_client_id=config.master_client_id,
        sr_master_client_secret=config.master_client_secret,
    )
    settings_module.get_settings.cache_clear()


def register(settings, configuration: dict) -> None:
    async def put():
        master = smartrecruiters_client(
            settings,
            settings.sr_master_client_id,
            settings.sr_master_client_secret.get_secret_value(),
            None,  # the test's own calls, outside the service's limits
        )
        try:
            await master.put_partner_configuration(configuration)
        finally:
            await master.aclose()

    asyncio.run(put())


def check():
    return CliRunner().invoke(app, ["smartrecruiters", "check"])


def puts_at(sr_url: str) -> int:
    return len(httpx.get(f"{sr_url}/__sim/requests", params={"method": "PUT"}).json())


def test_no_configuration_yet_then_the_same_then_a_difference(settings, sr):
    nothing = check()
    assert (
        nothing.exit_code == 1
        and "no partner configuration" in nothing.stderr
        and "partner-config register" in nothing.stderr
    )

    register(settings, partner_configuration(settings))
    puts = puts_at(settings.sr_base_url)
    same = check()
    assert same.exit_code == 0, (same.stdout, same.stderr)
    assert "holds the partner configuration we would register" in same.stdout

    older = partner_configuration(settings) | {
        "singleAssessmentPackageUrl": f"{PUBLIC_URL}/packages",
        "integrationDisableUrl": f"{PUBLIC_URL}/integrations/companies",
    }
    register(settings, older)
    puts = puts_at(settings.sr_base_url)
    differs = check()
    assert differs.exit_code == 1, (differs.stdout, differs.stderr)
    for needle in (
        "singleAssessmentPackageUrl",
        "integrationDisableUrl",
        f"{PUBLIC_URL}/packages/{{assessmentPackageId}}",
        f'"{PUBLIC_URL}/packages"',
    ):
        assert needle in differs.stdout
    assert "consentUrl" not in differs.stdout and "partner-config register" in differs.stderr
    assert puts_at(settings.sr_base_url) == puts  # read-only: it never registers anything itself


def test_a_wrong_secret_is_named_without_the_secret(sr, monkeypatch, tmp_path):
    url, config = sr
    use_settings(
        monkeypatch,
        sr_base_url=url,
        data_dir=str(tmp_path),
        sr_master_client_id=config.master_client_id,
        sr_master_client_secret="not-the-secret-4711",
    )
    result = check()
    assert (
        result.exit_code == 2
        and "refused our master credentials" in result.stderr
        and "ASSESSMENTS_SR_MASTER_CLIENT_SECRET" in result.stderr
    )
    assert "not-the-secret-4711" not in result.output and "Traceback" not in result.output


def test_nothing_listening_is_a_network_error(monkeypatch, tmp_path):
    use_settings(
        monkeypatch,
        sr_base_url=f"http://127.0.0.1:{free_port()}",
        data_dir=str(tmp_path),
        sr_master_client_secret="s3cret-4711",
    )
    result = check()
    assert (
        result.exit_code == 2
        and "could not reach" in result.stderr
        and "ConnectError" in result.stderr
    )
    assert "s3cret-4711" not in result.output and "Traceback" not in result.output


def test_another_kind_of_server_is_a_wrong_region_or_url(monkeypatch, tmp_path):
    elsewhere = FastAPI()

    @elsewhere.api_route("/{path:path}", methods=["GET", "POST"])
    async def not_sr(path: str) -> HTMLResponse:
        return HTMLResponse("<h1>Not here</h1>", status_code=404)

    with serve(elsewhere) as url:
        use_settings(monkeypatch, sr_base_url=url, data_dir=str(tmp_path))
        result = check()
    assert (
        result.exit_code == 2
        and "HTTP 404" in result.stderr
        and "ASSESSMENTS_SR_BASE_URL" in result.stderr
    )
    assert "Traceback" not in result.output
