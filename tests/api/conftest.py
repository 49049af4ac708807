"""The partner API as SR calls it, on the session's running stack."""

from __future__ import annotations

import pytest

from tests.support.http import client as http_client


@pytest.fixture
async def api(stack):
    async with http_client(base_url=stack.settings.public_url, timeout=30) as http:
        yield http


@pytest.fixture
async def bearer(api, stack) -> dict:
    """A bearer token of the settings' credentials (the settings' company)."""
    settings = stack.settings
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.partner_client_id,
        "client_secret": settings.partner_client_secret.get_secret_value(),
    }
    response = await api.post("/oauth/token", data=form)
    return {"Authorization": f"Bearer {response.raise_for_status().json()['access_token']}"}
