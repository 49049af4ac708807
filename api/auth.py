"""Bearer tokens we issue to SmartRecruiters at POST /oauth/token (api/deps.py checks them on every
SR route).

Tokens are signed JWTs, so any API replica can check them without shared state. Each names the one
company its credentials speak for and, for credentials minted at Connect, the connection they were
minted with; every SR route checks that against the company's connection row, so a token dies
with its connection, even when the company connects again.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import HTTPException

from settings import Settings
from store import CompanyConnection, Store

AUDIENCE = "smartrecruiters"
CONNECTED_AT = "connected_at"
# Another replica may issue a token by a clock this far ahead of ours.
CLOCK_SKEW_SECONDS = 60
NOT_THIS_COMPANY = "These credentials are not valid for this company"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Caller:
    client_id: str
    # The one SR company the credentials speak for.
    company_id: str
    # For credentials minted at Connect: when the company connected with them (microseconds since
    # the epoch, exact in a token). None for the settings' credentials.
    connected_at: int | None

    def check_acts_for(self, company_id: str) -> None:
        if company_id != self.company_id:
            raise HTTPException(403, NOT_THIS_COMPANY)


def connection_instant(connection: CompanyConnection) -> int:
    """The connection's `connected_at` as a token carries it:
    whole microseconds, compared exactly."""
    return (connection.connected_at - _EPOCH) // timedelta(microseconds=1)


class TokenIssuer:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._key = settings.token_signing_key.get_secret_value()
        self._ttl = settings.token_ttl_seconds
        self._client_id = settings.partner_client_id
        self._client_secret = settings.partner_client_secret.get_secret_value()
        self._company_id = settings.partner_company_id
        self._store = store

    async def authenticate(self, client_id: str, client_secret: str) -> Caller | None:
        """The caller these client credentials belong to: a connected company,
        or the settings' company."""
        # Both parts compared in constant time, so timing tells nothing about which was wrong.
        id_ok = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        if id_ok & secret_ok and self._client_secret:  # an empty secret turns them off
            return Caller(client_id=client_id, company_id=self._company_id, connected_at=None)
        if "\x00" in client_id:  # never in an id we mint; PostgreSQL could not even look it up
            return None
        connection = await self._store.authenticate_partner(client_id, client_secret)
        if connection is None:
            return None
        return Caller(
            client_id=client_id,
            company_id=connection.company_id,
            connected_at=connection_instant(connection),
        )

    def issue(self, caller: Caller) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "sub": caller.client_id,
            "company": caller.company_id,
            CONNECTED_AT: caller.connected_at,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self._ttl,
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), self._ttl

    def verify(self, token: str) -> Caller:
        """The caller of a token we issued; jwt.InvalidTokenError for any token we never issue."""
        claims = jwt.decode(
            token,
            self._key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "company"]},
        )
        # PyJWT checks that sub is a string and that exp and iat convert to integers; the rest is
        # ours (bool is an int to Python, and a null connected_at is the settings' credentials).
        company, exp, connected_at = claims["company"], claims["exp"], claims.get(CONNECTED_AT)
        if (
            CONNECTED_AT not in claims
            or not isinstance(company, str)
            or type(exp) is not int
            or type(connected_at) not in (int, type(None))
        ):
            raise jwt.InvalidTokenError("a claim missing, or of a type we never issue")
        if exp > time.time() + self._ttl + CLOCK_SKEW_SECONDS:
            raise jwt.InvalidTokenError("a lifetime longer than we give")
        # The settings' credentials, changed to another company or turned off, end their tokens.
        if connected_at is None and (company != self._company_id or not self._client_secret):
            raise jwt.InvalidTokenError("not the settings' company")
        return Caller(client_id=claims["sub"], company_id=company, connected_at=connected_at)
