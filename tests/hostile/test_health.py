"""GET /healthz and GET /readyz: alive, and ready only while Temporal and the store answer."""

from __future__ import annotations

import logging
import time

from temporalio.client import Client

from api.app import create_app
from api.health import READINESS_TIMEOUT_SECONDS
from store import Store
from tests.hostile.conftest import own_api
from tests.support.http import client as http_client
from tests.support.servers import free_port, serve

DATABASE_PASSWORD = "never-shown-db-password"


async def test_the_stack_is_alive_and_ready(api):
    alive, ready = await api.get("/healthz"), await api.get("/readyz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json() == {"temporal": "ok", "store": "ok"}


async def test_not_ready_while_temporal_is_unreachable(stack, monkeypatch):
    """An API whose Temporal address leads nowhere still answers: readiness names Temporal."""

    async def connect_lazily(settings):  # the API's connect, without waiting for a server
        return await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace, lazy=True
        )

    monkeypatch.setattr("api.app.connect", connect_lazily)
    with own_api(stack.settings, temporal_address=f"127.0.0.1:{free_port()}") as url:
        async with http_client(base_url=url, timeout=30) as http:
            started = time.monotonic()
            ready = await http.get("/readyz")
            alive = await http.get("/healthz")
    assert ready.status_code == 503 and ready.json() == {"temporal": "unavailable", "store": "ok"}
    # Bounded by the readiness check's own limit, not by the client's 30 s (a busy machine may add
    # seconds to that limit, never the client's whole timeout).
    assert time.monotonic() - started < READINESS_TIMEOUT_SECONDS + 10
    assert alive.status_code == 200


async def test_not_ready_while_the_store_is_unreachable_and_no_secret_is_shown(stack, caplog):
    caplog.set_level(logging.DEBUG)
    app_store = (
        f"postgresql+psycopg://assessments:{DATABASE_PASSWORD}@127.0.0.1:{free_port()}/assessments"
    )
    app = create_app(stack.settings)
    with serve(app) as url:
        own_store = app.state.store
        app.state.store = Store(
            app_store, stack.settings.encryption_keys.get_secret_value()
        )  # a database that went away
        try:
            async with http_client(base_url=url, timeout=30) as http:
                ready = await http.get("/readyz")
        finally:
            app.state.store = own_store  # closed with the app
    assert ready.status_code == 503 and ready.json() == {"temporal": "ok", "store": "unavailable"}
    assert DATABASE_PASSWORD not in ready.text and DATABASE_PASSWORD not in caplog.text
