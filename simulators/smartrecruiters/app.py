"""SmartRecruiters simulator: plays SR toward the partner service, over SR's real 2021 API paths.

- SR-hosted API (the partner calls it): `sr_api`.
- SR as a client of the partner (orders, package catalog): `partner`, driven from `control`
  (`/__sim`, for tests) and `pages` (the recruiter's HTML view).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from ..docstore import DocumentStore
from . import control, pages, sr_api
from .config import SmartRecruitersSimConfig
from .partner import PartnerClient
from .simulator import Simulator

PARTNER_TIMEOUT_SECONDS = 10


def create_app(config: SmartRecruitersSimConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = DocumentStore(config.database_path)
        async with httpx.AsyncClient(timeout=PARTNER_TIMEOUT_SECONDS) as http:
            simulator = Simulator(config, store, PartnerClient(http))
            simulator.seed()
            app.state.simulator = simulator
            try:
                yield
            finally:
                store.close()

    app = FastAPI(title="SmartRecruiters (simulator)", lifespan=lifespan)
    app.middleware("http")(sr_api.record_and_inject_faults)
    app.exception_handler(sr_api.SrApiError)(sr_api.sr_api_error_handler)
    app.include_router(sr_api.router)
    app.include_router(control.router)
    app.include_router(pages.router)
    return app
