"""Fixtures of the end-to-end tests: our registration at SR, a trigger token,
the admin API and the CLI on the running stack, and an order awaiting its candidate."""

from __future__ import annotations

import uuid

import pytest

import cli
import settings as settings_module
from smartrecruiters.client import smartrecruiters_client
from tests.support.connect import register_partner_configuration
from tests.support.http import client as http_client
from tests.support.order_workflows import terminate_quietly
from tests.support.session_stack import ADMIN_KEY


@pytest.fixture
async def registered(stack):
    """Our partner configuration, registered at SR with our master credentials."""
    settings = stack.settings
    stored = await register_partner_configuration(settings)
    master = smartrecruiters_client(
        settings,
        settings.sr_master_client_id,
        settings.sr_master_client_secret.get_secret_value(),
        None,  # the test's own calls, outside the service's limits
    )
    try:
        assert await master.get_partner_configuration() == stored
    finally:
        await master.aclose()
    return stored


@pytest.fixture
async def trigger_token(store, stack) -> str:
    """A token of a fresh vendor account at the sandbox vendor
    (a short deadline for the logic quiz)."""
    account = await store.create_vendor_account(
        name=f"sandbox-{uuid.uuid4().hex[:8]}",
        adapter="sandbox",
        credentials={"api_key": stack.settings.sandbox_vendor_api_key.get_secret_value()},
        package_settings={"logic-quiz": {"deadline_days": 6 / 86400}},
    )
    return (await store.issue_trigger_token(account.id)).token


@pytest.fixture
async def admin(stack):
    async with http_client(
        base_url=f"{stack.settings.public_url}/admin",
        timeout=30,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as http:
        yield http


@pytest.fixture
def stack_cli(stack, monkeypatch):
    """`assessments` with the stack's settings: its Temporal and its store."""
    for name, value in stack.env.items():
        if name.startswith("ASSESSMENTS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli.console, "width", 240)  # a wide terminal: no id folded over two lines
    settings_module.get_settings.cache_clear()
    yield
    settings_module.get_settings.cache_clear()


@pytest.fixture
async def pending(world, temporal):
    order = await world.order("skills-fullstack")
    await world.sr_status_becomes(order["order_id"], "PENDING")
    yield order
    await terminate_quietly(temporal, order["order_id"])
