"""Bearer tokens we issue to SmartRecruiters at POST /oauth/token, and the check on every SR route.

Tokens are signed JWTs, so any API replica can check them without shared state.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from settings import Settings
from store import ConnectionState, Store

AUDIENCE = "smartrecruiters"


@dataclass(frozen=True)
class Caller:
    client_id: str
    # The SR company the credentials were minted for at Connect; None for the embedded-mode
    # credentials from the settings, which speak for any company.
    company_id: str | None

    def may_act_for(self, company_id: str) -> bool:
        return self.company_id is None or self.company_id == company_id


class TokenIssuer:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._key = settings.token_signing_key.get_secret_value()
        self._ttl = settings.token_ttl_seconds
        self._client_id = settings.partner_client_id
        self._client_secret = settings.partner_client_secret.get_secret_value()
        self._store = store

    async def authenticate(self, client_id: str, client_secret: str) -> Caller | None:
        """The caller these client credentials belong to: a connected company, or embedded mode."""
        # Both parts compared in constant time, so timing tells nothing about which was wrong.
        id_ok = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        if id_ok & secret_ok and self._client_secret:  # an empty secret turns them off
            return Caller(client_id=client_id, company_id=None)
        if "\x00" in client_id:  # never in an id we mint; PostgreSQL could not even look it up
            return None
        company_id = await self._store.authenticate_partner(client_id, client_secret)
        return Caller(client_id=client_id, company_id=company_id) if company_id else None

    def issue(self, caller: Caller) -> tuple[str, int]:
        now = int(time.time())
        claims = {"sub": caller.client_id, "company": caller.company_id, "aud": AUDIENCE, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._key, algorithm="HS256"), self._ttl

    def verify(self, token: str) -> Caller:
        claims = jwt.decode(token, self._key, algorithms=["HS256"], audience=AUDIENCE, options={"require": ["exp", "sub"]})
        return Caller(client_id=claims["sub"], company_id=claims.get("company"))


_bearer = HTTPBearer(auto_error=False)


async def smartrecruiters_caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Caller:
    """Dependency of every SR-facing route: a valid bearer token from POST /oauth/token, of a
    company that is still connected (a disconnect ends its tokens at once, not at expiry)."""
    if credentials is None:
        raise HTTPException(401, "A bearer token from POST /oauth/token is required", headers={"WWW-Authenticate": "Bearer"})
    try:
        caller = request.app.state.tokens.verify(credentials.credentials)
    except jwt.PyJWTError:
        caller = None
    if caller is not None and caller.company_id is not None:
        connection = await request.app.state.store.connection(caller.company_id)
        if connection is None or connection.state != ConnectionState.CONNECTED:
            caller = None
    if caller is None:
        raise HTTPException(401, "The bearer token is invalid or expired", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return caller
