"""Which SmartRecruiters credentials an order's results are posted with.

A company connected through Connect has its own SR-issued customer credentials; the embedded
default company uses the credentials from the settings. One client (and token cache, and rate
limit) per credential, as SR counts its limits per credential.

A company that disconnected gets none: its orders post nothing more to SR, not even how they
ended, although the store keeps its SR-issued credentials until it connects again.
"""

from __future__ import annotations

from peers import PeerError
from settings import Settings
from smartrecruiters.client import PEER, SmartRecruitersClient, smartrecruiters_client
from store import ConnectionState, Store


class SmartRecruitersClients:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        self._default = smartrecruiters_client(
            settings,
            settings.sr_client_id,
            settings.sr_client_secret.get_secret_value(),
            store.limits,
        )
        self._by_client_id: dict[str, SmartRecruitersClient] = {}

    async def for_company(self, company_id: str) -> SmartRecruitersClient:
        """The client for a company; refuses (finally) once the company has disconnected us."""
        connection = await self._store.connection(company_id)
        if connection is not None and connection.state == ConnectionState.DISCONNECTED:
            raise PeerError(PEER, "the company has disconnected the integration", retryable=False)
        # Read every time: a company that reconnects gets new credentials from SR.
        credentials = await self._store.smartrecruiters_credentials(company_id)
        if credentials is None:
            return self._default
        client_id, client_secret = credentials
        if client_id not in self._by_client_id:
            self._by_client_id[client_id] = smartrecruiters_client(
                self._settings, client_id, client_secret, self._store.limits
            )
        return self._by_client_id[client_id]

    async def order_accepted(self, order_id: str, company_id: str) -> None:
        """SR took an update of the order with the company's credentials, so the order id is the
        company's: another company sending it is refused from now on (ordering/intake.py)."""
        await self._store.confirm_order_owner(order_id, company_id)

    async def aclose(self) -> None:
        for client in (self._default, *self._by_client_id.values()):
            await client.aclose()
