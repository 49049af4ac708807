"""Connect: an SR company admin enters an External Trigger Token, and the company is connected.

The steps (docs/smartrecruiters-protocol.md): check the token, mint the credentials SR will
present to us, hand them to SR with our master credentials, and keep the customer credentials SR
answers with. The store writes everything in one transaction only after SR said yes, so a refusal
or an outage leaves nothing half-created behind.
"""

from __future__ import annotations

import logging

from peers import PeerError
from smartrecruiters.client import SmartRecruitersClient
from store import AlreadyConnected, CompanyConnection, Store

log = logging.getLogger("assessments.connect")
# SmartRecruiters company ids as Connect accepts them (the consent page's link, a token's company).
COMPANY_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,200}$"


class ConnectRefused(Exception):
    """Connect did not happen; the message is for the admin, in plain words."""


class CompanyConnector:
    def __init__(
        self, store: Store, smartrecruiters_master: SmartRecruitersClient, integration_name: str
    ) -> None:
        self._store = store
        self._master = smartrecruiters_master
        self._name = integration_name

    async def vendor_name(self, connection: CompanyConnection) -> str | None:
        """The name of the vendor account a company connected to, as the admin who connected it
        with that account's token may read it."""
        account = await self._store.vendor_account(connection.vendor_account_id)
        return account.name if account else None

    async def connect(
        self, company_id: str, trigger_token: str, consent_email: str
    ) -> CompanyConnection:
        token = await self._store.redeem_trigger_token(trigger_token)
        if token is None:
            raise ConnectRefused(
                "This External Trigger Token is not valid: it may be mistyped, revoked or expired. "
                f"Ask your {self._name} contact for a new one."
            )
        if not token.admits(company_id):
            raise ConnectRefused(
                "This External Trigger Token was issued for another SmartRecruiters company. "
                f"Ask your {self._name} contact for a token for this company."
            )
        existing = await self._store.connection(company_id)
        if existing is not None and existing.state == "connected":
            raise ConnectRefused(
                f"This SmartRecruiters company is already connected to {self._name}."
            )
        client_id, client_secret = Store.mint_partner_credentials()
        try:
            sr_client_id, sr_client_secret = await self._master.integrate_company(
                company_id, client_id, client_secret
            )
        except PeerError as err:
            log.warning("SmartRecruiters refused to connect a company: %s", err)
            raise ConnectRefused(self._explain(err)) from None
        try:
            return await self._store.complete_connection(
                company_id=company_id,
                vendor_account_id=token.vendor_account_id,
                trigger_token_id=token.id,
                consent_email=consent_email,
                partner_client_id=client_id,
                partner_client_secret=client_secret,
                sr_client_id=sr_client_id,
                sr_client_secret=sr_client_secret,
            )
        except AlreadyConnected:
            raise ConnectRefused(
                f"This SmartRecruiters company is already connected to {self._name}."
            ) from None

    def _explain(self, err: PeerError) -> str:
        if err.status == 409:
            return (
                f"SmartRecruiters says this company is already connected to {self._name}. "
                "Disconnect it in SmartRecruiters first, then connect again."
            )
        if err.status == 403:
            return (
                "SmartRecruiters has no consent from this company yet. Start again in "
                "SmartRecruiters: "
                f"Settings → Apps & Integrations → {self._name} → Connect → Allow and Continue."
            )
        if err.status == 404:
            return (
                f"{self._name} is not registered with SmartRecruiters yet. Please contact "
                f"{self._name} support."
            )
        if err.status in (400, 401):
            return (
                f"SmartRecruiters did not accept {self._name}'s own credentials. Please "
                f"contact {self._name} support."
            )
        if err.status is None:
            # The request may have reached SR even though its answer did not reach us.
            return (
                "SmartRecruiters did not answer in time, so the company may or may not be "
                "connected. "
                "Please try again in a few minutes; if SmartRecruiters then says it is "
                "already connected, contact support."
            )
        return (
            "SmartRecruiters could not connect the company right now. Nothing was changed: "
            "please try again in a few minutes."
        )
