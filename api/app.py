"""The partner API SmartRecruiters and vendors call. Routes are thin; orders/ holds the logic."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from admin.identity import Identities
from admin.overview import Counted
from api import (
    codec,
    consent,
    console,
    docs,
    errors,
    headers,
    health,
    integrations,
    limits,
    oauth,
    openapi,
    orders,
    packages,
    vendor_api,
    webhooks,
)
from api.admin import router as admin_router
from api.auth import TokenIssuer
from api.consent_form import FormGuard
from connections.connect import CompanyConnector
from connections.disconnect import CompanyDisconnector
from ordering.catalog import Catalog
from ordering.intake import OlderOrders, OrderIntake
from settings import Settings, get_settings
from smartrecruiters.client import smartrecruiters_client
from store import Store
from temporal_client import connect
from vendors import api_protocol as protocol
from vendors.registry import Vendors

log = logging.getLogger("assessments.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        settings.check_secrets()
        if settings.public_secrets_in_use():
            log.warning(
                "embedded secrets in use (%s): fine on this machine only",
                ", ".join(settings.public_secrets_in_use()),
            )
        app.state.temporal = await connect(settings)
        app.state.store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
        await app.state.store.migrate()
        app.state.vendors = Vendors(settings, app.state.store)
        app.state.catalog = Catalog(app.state.vendors, settings)
        older_orders = OlderOrders()
        app.state.intake = OrderIntake(
            app.state.temporal, app.state.catalog, app.state.store, settings, older_orders
        )
        app.state.tokens = TokenIssuer(settings, app.state.store)
        app.state.identities = Identities(app.state.store, settings)
        app.state.overview = Counted()
        app.state.vendor_hints = vendor_api.WorkflowHints(app.state.temporal, settings)
        app.state.vendor_api_limits = vendor_api.Limits()
        app.state.form_guard = FormGuard(settings.token_signing_key.get_secret_value())
        master = smartrecruiters_client(
            settings,
            settings.sr_master_client_id,
            settings.sr_master_client_secret.get_secret_value(),
            app.state.store.limits,
        )
        app.state.connector = CompanyConnector(app.state.store, master, settings.integration_name)
        app.state.disconnector = CompanyDisconnector(app.state.store, app.state.temporal, settings)
        reading = asyncio.create_task(older_orders.read(app.state.temporal, settings))
        try:
            yield
        finally:
            reading.cancel()
            await app.state.vendors.aclose()
            await master.aclose()
            await app.state.disconnector.aclose()
            await app.state.store.dispose()

    app = FastAPI(
        title="SmartRecruiters assessment partner",
        description=(
            "The partner API of the SmartRecruiters Assessment API (2021), and vendor webhooks."
        ),
        version="0.1.0",
        lifespan=lifespan,
        # Served by api/docs.py from a package, not from a CDN; ReDoc has no such package.
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    openapi.install(app)
    for module in (oauth, packages, orders, webhooks, vendor_api, consent, integrations):
        app.include_router(module.router)
    app.include_router(admin_router)
    console.install(app)
    app.add_api_route(
        f"{vendor_api.router.prefix}/openapi.json",
        vendor_api_document,
        include_in_schema=False,
        summary="The Vendor API's own OpenAPI document",
    )
    app.include_router(codec.router)
    docs.install(app)
    app.include_router(health.router)
    limits.install(app, settings)
    headers.install(app)  # outermost: the refusals' pages get the headers too

    return app


@functools.cache
def vendor_api_document() -> dict[str, Any]:
    """The Vendor API alone, for vendors (docs/vendor-api.openapi.json is a copy)."""
    app = FastAPI(
        title="Vendor API",
        version=vendor_api.VERSION_NUMBER,
        description=(
            "How an assessment or background-check vendor reaches SmartRecruiters through this "
            "hub: publish packages, take orders by signed webhook (Standard Webhooks), report "
            "status, results and reports. Guide: docs/vendor-api.md."
        ),
    )
    app.include_router(vendor_api.router)
    for event in protocol.Event:

        async def delivered(body: protocol.OrderEvent) -> None:
            """Answer 2xx to take it; 422 with {"message"} to refuse an order.created."""

        app.webhooks.post(event.value, summary=f"{event.value}, to your webhook URL")(delivered)
    return openapi.truthful_document(app)
