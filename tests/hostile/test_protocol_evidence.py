"""The first-seen lines of SR's protocol forms are evidence of how SR behaves: nobody but SR (a
client that authenticates, or a call SR's own answer confirms) can write them."""

from __future__ import annotations

import logging
import uuid

import pytest

from smartrecruiters.observations import log
from tests.hostile.conftest import own_api
from tests.support.http import client as http_client


@pytest.fixture
def first_sights(monkeypatch, caplog) -> pytest.LogCaptureFixture:
    """Every form is seen for the first time in this test."""
    monkeypatch.setattr("smartrecruiters.observations._seen", set())
    caplog.set_level(logging.INFO, logger=log.name)
    return caplog


def protocol_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == log.name]


async def test_anyones_requests_write_no_evidence_of_srs_forms(stack, first_sights):
    with own_api(stack.settings) as url:
        async with http_client(base_url=url, timeout=30) as http:
            # Credentials we never issued, by HTTP Basic and in the form.
            assert (
                await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=("nobody", "wrong"),
                )
            ).status_code == 401
            form = {
                "grant_type": "client_credentials",
                "client_id": "nobody",
                "client_secret": "wrong",
            }
            assert (await http.post("/oauth/token", data=form)).status_code == 400
            # A bare DELETE, in both expansions, for a company nobody connected.
            company = f"nobody-{uuid.uuid4().hex[:8]}"
            assert (await http.delete(f"/integrations/companies/{company}")).status_code == 204
            assert (
                await http.delete(f"/integrations/companies/%7BcompanyId%7D/{company}")
            ).status_code == 204
            # The consent page opened with a return address on SR's web origin, never submitted.
            page = await http.get(
                "/integration",
                params={
                    "companyId": "acme",
                    "redirect": "https://www.smartrecruiters.com/settings",
                },
            )
            assert page.status_code == 200
    assert protocol_lines(first_sights) == []


async def test_a_client_we_know_writes_how_it_authenticated(stack, first_sights):
    settings = stack.settings
    with own_api(settings) as url:
        async with http_client(base_url=url, timeout=30) as http:
            credentials = (
                settings.partner_client_id,
                settings.partner_client_secret.get_secret_value(),
            )
            assert (
                await http.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials
                )
            ).status_code == 200
    assert protocol_lines(first_sights) == [
        "SmartRecruiters protocol: client authentication at our token endpoint is HTTP "
        "Basic (first seen in this process)"
    ]
