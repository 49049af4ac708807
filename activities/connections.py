"""Activities of a company's link with SmartRecruiters: thin wrappers over
connections/disconnect.py."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connections.disconnect import CompanyDisconnector, DisconnectCheck
from peers import PeerError


class ConnectionActivities:
    def __init__(self, disconnector: CompanyDisconnector) -> None:
        self._disconnector = disconnector

    @activity.defn
    async def disconnect_if_revoked_at_sr(self, check: DisconnectCheck) -> str:
        """Disconnect the company if SR refuses its SR-issued credentials; says what it found."""
        try:
            return await self._disconnector.disconnect_if_revoked_at_sr(check)
        except PeerError as err:  # SR's answer proved nothing: the workflow's policy asks again
            raise ApplicationError(str(err), type="CredentialsCheckInconclusive") from None

    def all(self) -> list:
        return [self.disconnect_if_revoked_at_sr]
