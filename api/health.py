"""GET /healthz (liveness: the process answers) and GET /readyz (readiness: Temporal and the store
answer), for a load balancer or an orchestrator."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from api.deps import StoreDep, TemporalDep
from store import Store

router = APIRouter(tags=["Operations"])
log = logging.getLogger("assessments.api")

# A dependency slower than this counts as down: readiness probes must answer quickly.
READINESS_TIMEOUT_SECONDS = 2.0
# A company id no connection can have (the consent page's pattern refuses it): the store's
# readiness query finds nothing, quickly.
_NO_COMPANY = "readiness probe"


@router.get("/healthz", summary="Liveness: the API process answers (checks nothing else)")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: Temporal and the store answer",
    responses={503: {"description": "Temporal or the store does not answer; the body names which"}},
)
async def readyz(temporal: TemporalDep, store: StoreDep) -> JSONResponse:
    temporal_state, store_state = await asyncio.gather(_temporal(temporal), _store(store))
    checks = {"temporal": temporal_state, "store": store_state}
    return JSONResponse(
        checks, status_code=200 if all(state == "ok" for state in checks.values()) else 503
    )


async def _temporal(temporal: Client) -> str:
    return await _probe(
        "temporal",
        temporal.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=READINESS_TIMEOUT_SECONDS)
        ),
    )


async def _store(store: Store) -> str:
    return await _probe("store", store.connection(_NO_COMPANY))


async def _probe(name: str, check) -> str:
    try:
        await asyncio.wait_for(check, READINESS_TIMEOUT_SECONDS)
    except Exception as err:  # noqa: BLE001 - any failure means not ready
        # The type only: messages can carry addresses or credentials (a database URL).
        log.warning("readiness: %s unavailable (%s)", name, type(err).__name__)
        return "unavailable"
    return "ok"
