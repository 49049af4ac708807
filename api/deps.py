"""What routes depend on, as typed dependencies: the objects the app builds at startup (api/app.py
keeps them on `app.state`), and the two ways a caller authenticates (SR's bearer token, the admin
key). A route names what it needs in its signature, e.g. `store: StoreDep` or `caller: CallerDep`.
"""

from __future__ import annotations

import hmac
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from admin.audit import Actor, Role, Via
from admin.identity import Identities
from api.auth import NOT_THIS_COMPANY, Caller, TokenIssuer, connection_instant
from api.consent_form import FormGuard
from connections.connect import CompanyConnector
from connections.disconnect import CompanyDisconnector
from ordering.catalog import Catalog
from ordering.intake import OrderIntake
from settings import Settings
from store import ConnectionState, Store
from store.operators import OPERATOR_KEY_PREFIX
from vendors.registry import Vendors

# The dependencies are coroutines, however little they do: FastAPI runs a plain function in its
# thread pool: a hand-off per dependency and request, costlier than the lookup itself.


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _temporal(request: Request) -> Client:
    return request.app.state.temporal


async def _store(request: Request) -> Store:
    return request.app.state.store


async def _vendors(request: Request) -> Vendors:
    return request.app.state.vendors


async def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def _intake(request: Request) -> OrderIntake:
    return request.app.state.intake


async def _tokens(request: Request) -> TokenIssuer:
    return request.app.state.tokens


async def _form_guard(request: Request) -> FormGuard:
    return request.app.state.form_guard


async def _connector(request: Request) -> CompanyConnector:
    return request.app.state.connector


async def _disconnector(request: Request) -> CompanyDisconnector:
    return request.app.state.disconnector


async def _identities(request: Request) -> Identities:
    return request.app.state.identities


SettingsDep = Annotated[Settings, Depends(_settings)]
TemporalDep = Annotated[Client, Depends(_temporal)]
StoreDep = Annotated[Store, Depends(_store)]
VendorsDep = Annotated[Vendors, Depends(_vendors)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
IntakeDep = Annotated[OrderIntake, Depends(_intake)]
TokensDep = Annotated[TokenIssuer, Depends(_tokens)]
FormGuardDep = Annotated[FormGuard, Depends(_form_guard)]
ConnectorDep = Annotated[CompanyConnector, Depends(_connector)]
DisconnectorDep = Annotated[CompanyDisconnector, Depends(_disconnector)]
IdentitiesDep = Annotated[Identities, Depends(_identities)]

_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def smartrecruiters_caller(
    tokens: TokensDep, store: StoreDep, credentials: BearerDep
) -> Caller:
    """Dependency of every SR-facing route: a valid bearer token from POST /oauth/token whose
    credentials still speak for their company, checked against the company's connection row.

    Credentials minted at Connect speak for it while that connection lasts: a disconnect ends
    their tokens at once, not at expiry, and a reconnect does not bring them back (it mints new
    ones). The settings' credentials speak for their company only while it never connected through
    Connect: from then on its own credentials, which its disconnect revokes, are the only ones."""
    if credentials is None:
        raise HTTPException(
            401,
            "A bearer token from POST /oauth/token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        caller: Caller | None = tokens.verify(credentials.credentials)
    except jwt.PyJWTError:
        caller = None
    if caller is not None:
        connection = await store.connection(caller.company_id)
        if caller.connected_at is None:
            if connection is not None:
                raise HTTPException(403, NOT_THIS_COMPANY)
        elif (
            connection is None
            or connection.state != ConnectionState.CONNECTED
            or connection_instant(connection) != caller.connected_at
        ):
            caller = None
    if caller is None:
        raise HTTPException(
            401,
            "The bearer token is invalid or expired",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return caller


# The SR caller of the request: the one company its bearer token speaks for.
CallerDep = Annotated[Caller, Depends(smartrecruiters_caller)]

DISABLED = (
    "admin API disabled: set ASSESSMENTS_ADMIN_API_KEY, or call it with an operator's own key "
    "(`assessments operators key NAME`)"
)
READ_ONLY = "{name} may read only (role viewer): ask an operator with role operator"
# POSTs that change nothing: a viewer may send them.
_READS_BY_POST = frozenset(
    {"/admin/orders/find", "/codec/encode", "/codec/decode", "/codec/{direction}"}
)
_admin_bearer = HTTPBearer(
    auto_error=False, description="An operator's own key (ok_…), or ASSESSMENTS_ADMIN_API_KEY"
)


def changes(method: str, path: str) -> bool:
    """Whether a request to the admin API (or the codec) may change something."""
    return method.upper() not in ("GET", "HEAD") and path not in _READS_BY_POST


async def admin_actor(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> Actor:
    """Dependency of every /admin route: who calls, by an operator's own key, or by the shared
    admin key (compared in constant time), whose caller names themselves where it matters. A
    viewer's key reads only."""
    presented = credentials.credentials if credentials is not None else ""
    if presented.startswith(OPERATOR_KEY_PREFIX):
        actor = await (await _identities(request)).key_actor(presented)
    else:
        key = settings.admin_api_key
        expected = key.get_secret_value().encode() if key is not None else b""
        if not expected:  # unset or empty: the shared key is off, never open
            raise HTTPException(503, DISABLED)
        matches = hmac.compare_digest(presented.encode(), expected)
        actor = Actor(name="admin-key", via=Via.ADMIN_KEY, role=Role.OPERATOR) if matches else None
    if actor is None:
        raise HTTPException(
            401,
            "A valid admin API key is required as a bearer token: an operator's own key or "
            "ASSESSMENTS_ADMIN_API_KEY",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if changes(request.method, request.url.path) and not actor.may_change:
        raise HTTPException(403, READ_ONLY.format(name=actor.name))
    return actor


# The operator calling the admin API.
AdminActorDep = Annotated[Actor, Depends(admin_actor)]
