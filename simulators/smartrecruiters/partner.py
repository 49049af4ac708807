"""SmartRecruiters as a client of the partner service: token exchange, package catalog, orders.

Paths and bodies follow SR's partner-app registry (`assessment-partner-app.json`): SR exchanges
the partner-issued credentials at `/oauth/token`, then calls `/packages*` with a bearer token.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .config import SmartRecruitersSimConfig

# The recruiter on whose behalf every simulated order is placed.
REQUESTER = {"userId": "5f0c2a52-6a0e-4d1c-9a4b-2b7f3c1e8d10", "email": "recruiter@example.com"}

ORDER_PATHS = {"manual": "/packages/orders", "inline": "/packages/inline/orders"}

# Renew a cached token this long before the partner says it expires, so it never lapses in flight.
TOKEN_RENEWAL_MARGIN_SECONDS = 30


class PartnerError(Exception):
    """The partner could not be reached, or it refused SR's credentials."""


@dataclass(frozen=True)
class PartnerAnswer:
    status: int
    body: Any


def order_request(
    config: SmartRecruitersSimConfig,
    kind: str,
    order_id: str,
    candidate: dict[str, Any],
    package_id: str,
) -> dict[str, Any]:
    """The body SR posts to the partner for a manual (`AssessmentPackageOrderRequest`) or
    inline (`InlineAssessmentPackageOrderRequest`) order."""
    job = candidate["job"]
    common = {
        # The order request has no orderId field; the partner learns it from this URL (Gap 2).
        "resultCallbackURL": (
            f"{config.public_url}/assessment-api/v202010/orders/{order_id}/results"
        ),
        "assessmentPackageId": package_id,
        "jobId": job["id"],
        "companyId": config.company_id,
    }
    name = {
        "email": candidate["email"],
        "firstName": candidate["first_name"],
        "lastName": candidate["last_name"],
    }
    if kind == "inline":
        return {
            **common,
            "candidate": {**name, "applicationLanguage": "en"},
            "job": {"id": job["id"]},
            "completedAssessmentCallbackUrl": f"{config.public_url}/candidates/{candidate['id']}",
        }
    return {
        **common,
        "candidate": {"id": candidate["id"], **name},
        "job": {"id": job["id"], "title": job["title"]},
        "requester": REQUESTER,
    }


class PartnerClient:
    def __init__(self, http: httpx.AsyncClient, config: SmartRecruitersSimConfig) -> None:
        self._http = http
        self._config = config
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_lock = asyncio.Lock()

    async def post(self, path: str, body: dict[str, Any]) -> PartnerAnswer:
        return await self._send("POST", path, json=body)

    async def packages(self) -> list[dict[str, Any]]:
        # How SR encodes the `requester` object in a header is undocumented (Gap 9): JSON here.
        answer = await self._send(
            "GET", "/packages", headers={"requester": json.dumps({"email": REQUESTER["email"]})}
        )
        if answer.status == httpx.codes.NO_CONTENT:
            return []
        if answer.status != httpx.codes.OK:
            raise PartnerError(f"GET /packages answered {answer.status}")
        if not _is_package_list(answer.body):
            raise PartnerError("GET /packages answered something other than a package list")
        return answer.body

    async def _send(self, method: str, path: str, **kwargs: Any) -> PartnerAnswer:
        response = await self._authorized(method, path, renew_token=False, **kwargs)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            # A restarted partner may have forgotten the cached token; retry once with a new one.
            response = await self._authorized(method, path, renew_token=True, **kwargs)
        return PartnerAnswer(response.status_code, _body(response))

    async def _authorized(
        self,
        method: str,
        path: str,
        *,
        renew_token: bool,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        token = await self._access_token(renew_token)
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        return await self._request(method, path, headers=headers, **kwargs)

    async def _access_token(self, renew: bool) -> str:
        async with self._token_lock:
            if renew or self._token is None or time.monotonic() >= self._token_renew_at:
                response = await self._request(
                    "POST",
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._config.partner_client_id,
                        "client_secret": self._config.partner_client_secret,
                    },
                )
                if response.status_code != httpx.codes.OK:
                    raise PartnerError(f"partner token endpoint answered {response.status_code}")
                try:
                    grant = response.json()
                    token, lifetime = str(grant["access_token"]), int(grant["expires_in"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise PartnerError("partner token endpoint answered an invalid grant") from exc
                self._token = token
                renew_in = max(0, lifetime - TOKEN_RENEWAL_MARGIN_SECONDS)
                self._token_renew_at = time.monotonic() + renew_in
            return self._token

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self._config.partner_api_url}{path}"
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PartnerError(f"{method} {url} failed: {exc!r}") from exc


def _is_package_list(body: Any) -> bool:
    return isinstance(body, list) and all(
        isinstance(package, dict) and {"id", "name"} <= package.keys() for package in body
    )


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
