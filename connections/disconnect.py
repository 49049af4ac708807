"""Disconnect: SR tells us a company left. Its credentials stop working and its open orders end."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import Client

from orders import visibility
from store import Store

log = logging.getLogger("assessments.disconnect")


class CompanyDisconnector:
    def __init__(self, store: Store, temporal: Client, rpc_timeout: timedelta) -> None:
        self._store = store
        self._temporal = temporal
        self._rpc_timeout = rpc_timeout

    async def disconnect(self, company_id: str) -> int:
        """Revoke the company's credentials and cancel its open orders; returns how many."""
        await self._store.disconnect(company_id)
        # Each cancelled order withdraws its invitation at the vendor and tells SR, if SR still
        # listens. Visibility lags a moment: an order started in the same second may be missed.
        query = f'{visibility.COMPANY.name} = "{_quoted(company_id)}" AND ExecutionStatus = "Running"'
        cancelled = 0
        async for execution in self._temporal.list_workflows(query, rpc_timeout=self._rpc_timeout):
            await self._temporal.get_workflow_handle(execution.id).cancel(rpc_timeout=self._rpc_timeout)
            cancelled += 1
        log.info("company disconnected; %d open orders cancelled", cancelled)
        return cancelled


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
