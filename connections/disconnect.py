"""Disconnect: SR tells us a company left. Its credentials stop working and its open orders end.

SR's DELETE on our integrationDisableUrl carries no authentication in SR's spec, so anyone can
send one. With a bearer token of the company itself it is acted on at once; otherwise it is only
a hint, and the company is disconnected only on evidence: SR refusing the credentials it issued
to us for that company. SR may call before it revokes them, so a durable workflow
(workflows/disconnect_check.py) asks again for a while.
"""

from __future__ import annotations

import logging

import httpx
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from orders import visibility
from peers import peer_client
from settings import Settings
from smartrecruiters.credentials import credentials_refused
from smartrecruiters.observations import observed
from store import ConnectionState, Store

log = logging.getLogger("assessments.disconnect")

CHECK_WORKFLOW = "CompanyDisconnectCheckWorkflow"
CHECK_SIGNAL = "recheck"
CHECK_WORKFLOW_ID_PREFIX = "company-disconnect-check:"

# What one check found.
DISCONNECTED = "disconnected"  # SR refused the company's credentials: we disconnected it
NOT_CONNECTED = "not connected"  # nothing to do: unknown, or disconnected already
STILL_ACCEPTED = "still accepted"  # SR still honours the credentials: ask again later
NO_EVIDENCE = "no evidence"  # we hold no SR-issued credentials of the company to ask with


class DisconnectCheck(BaseModel):
    """The input of the check workflow: which company, and until when to ask SR again."""

    company_id: str
    hours: float
    # Set by the workflow when it continues as new, so the bound stays that of the first DELETE.
    deadline: str | None = None
    # How the first DELETE was sent (open protocol points and their forms, fixed names): logged
    # once SR's refusal of the credentials proves the call was SR's.
    forms: list[tuple[str, str]] = []


class CompanyDisconnector:
    def __init__(
        self,
        store: Store,
        temporal: Client,
        settings: Settings,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._store = store
        self._temporal = temporal
        self._settings = settings
        self._rpc_timeout = settings.temporal_rpc_timeout
        self._http = http

    async def disconnect(self, company_id: str) -> int:
        """Revoke the company's credentials and cancel its open orders; returns how many."""
        await self._store.disconnect(company_id)
        # Each cancelled order withdraws its invitation at the vendor; SR hears nothing more of it
        # (the company's results endpoint is no longer ours to use: smartrecruiters_clients.py).
        # Visibility lags a moment: an order started in the same second may be missed.
        query = (
            f'{visibility.COMPANY.name} = "{_quoted(company_id)}" AND ExecutionStatus = "Running"'
        )
        cancelled = 0
        async for execution in self._temporal.list_workflows(query, rpc_timeout=self._rpc_timeout):
            await self._temporal.get_workflow_handle(execution.id).cancel(
                rpc_timeout=self._rpc_timeout
            )
            cancelled += 1
        log.info("company disconnected; %d open orders cancelled", cancelled)
        return cancelled

    async def check_later(
        self, company_id: str, forms: list[tuple[str, str]] | None = None
    ) -> None:
        """An unauthenticated disconnection: have the check workflow ask SR (now, and again later).

        The same call for every company id, known or not, so the caller learns nothing from it;
        repeated calls signal the one running check instead of starting more."""
        await self._temporal.start_workflow(
            CHECK_WORKFLOW,
            DisconnectCheck(
                company_id=company_id,
                hours=self._settings.disconnect_check_hours,
                forms=forms or [],
            ),
            id=f"{CHECK_WORKFLOW_ID_PREFIX}{company_id}",
            task_queue=self._settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal=CHECK_SIGNAL,
            rpc_timeout=self._rpc_timeout,
        )

    async def disconnect_if_revoked_at_sr(self, check: DisconnectCheck) -> str:
        """One check: disconnect the company if SR refuses the credentials it issued for it.

        PeerError when SR's answer proves nothing (unreachable, 5xx, 429): the caller retries."""
        company_id = check.company_id
        connection = await self._store.connection(company_id)
        if connection is None or connection.state != ConnectionState.CONNECTED:
            return NOT_CONNECTED
        credentials = await self._store.smartrecruiters_credentials(company_id)
        if credentials is None:
            return NO_EVIDENCE
        if not await credentials_refused(
            self._client(), self._settings.sr_token_endpoint, *credentials
        ):
            return STILL_ACCEPTED
        # The company may have connected again since we read its credentials: those are new ones,
        # which SR has not refused.
        current = await self._store.connection(company_id)
        if current is None or current.connected_at != connection.connected_at:
            return NOT_CONNECTED
        await self.disconnect(company_id)
        for point, form in check.forms:
            observed(point, form)
        return DISCONNECTED

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = peer_client(timeout=self._settings.sr_timeout_seconds)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
