"""`assessments smartrecruiters check`: does SmartRecruiters hold the partner configuration we would
register? Read-only: a token with our master credentials, then GET partner/configuration.

Each failure says what to fix in words an operator can act on (credentials, region, network),
never with a secret or SR's answer in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from connections.partner_configuration import partner_configuration
from peers import peer_client
from settings import Settings
from smartrecruiters.client import ASSESSMENT_API
from smartrecruiters.oauth import TokenAnswer, token_request

CONFIGURATION_PATH = f"{ASSESSMENT_API}/partner/configuration"
REGION_HINT = (
    "check ASSESSMENTS_SR_BASE_URL (SR's API host of our region) and ASSESSMENTS_SR_TOKEN_URL"
)
CREDENTIALS_HINT = "check ASSESSMENTS_SR_MASTER_CLIENT_ID and ASSESSMENTS_SR_MASTER_CLIENT_SECRET"


class CheckFailed(Exception):
    """The check could not be made; the message is safe to show."""


class NoConfiguration(CheckFailed):
    """SR answered that it holds no partner configuration for us."""


@dataclass(frozen=True)
class Difference:
    setting: str
    at_smartrecruiters: Any
    ours: Any


async def partner_configuration_differences(settings: Settings) -> list[Difference]:
    """What differs between the configuration SR holds for us and the one we would register."""
    async with peer_client(timeout=settings.sr_timeout_seconds) as http:
        token = await _master_token(http, settings)
        stored = await _stored_configuration(http, settings, token)
    return configuration_differences(stored, partner_configuration(settings))


def configuration_differences(stored: dict[str, Any], ours: dict[str, Any]) -> list[Difference]:
    """Each setting of ours that SR holds otherwise (lists compared in any order)."""
    return [
        Difference(key, stored.get(key), value)
        for key, value in ours.items()
        if not _same(stored.get(key), value)
    ]


def _same(at_sr: Any, ours: Any) -> bool:
    if isinstance(at_sr, list) and isinstance(
        ours, list
    ):  # e.g. the assessment types, in any order
        return sorted(map(str, at_sr)) == sorted(map(str, ours))
    return at_sr == ours


async def _master_token(http: httpx.AsyncClient, settings: Settings) -> str:
    url = settings.sr_token_endpoint
    response = await _send(
        http,
        url,
        lambda: token_request(
            http,
            url,
            settings.sr_master_client_id,
            settings.sr_master_client_secret.get_secret_value(),
        ),
    )
    answer = TokenAnswer.of(response)
    # Any OAuth error, not only invalid_client: whichever SR names, the credentials are to check.
    if answer.status in (400, 401) and answer.error is not None:
        raise CheckFailed(
            f"SmartRecruiters refused our master credentials (HTTP {answer.status}): "
            f"{CREDENTIALS_HINT}"
        )
    _refuse_other_answers(response, url, "token endpoint")
    token = answer.access_token
    if token is None:
        raise CheckFailed(
            f"{url} answered, but not as SmartRecruiters' token endpoint does (no "
            f"access_token): {REGION_HINT}"
        )
    return token


async def _stored_configuration(
    http: httpx.AsyncClient, settings: Settings, token: str
) -> dict[str, Any]:
    url = f"{settings.sr_base_url.rstrip('/')}{CONFIGURATION_PATH}"
    response = await _send(
        http,
        url,
        lambda: http.build_request("GET", url, headers={"Authorization": f"Bearer {token}"}),
    )
    if response.status_code == 404 and _json_field(response, "errors") is not None:
        # SR's own error body (ErrorResponse: `errors` required):
        # the API answered, and holds nothing for us.
        raise NoConfiguration(
            "SmartRecruiters holds no partner configuration for us yet: run `assessments "
            "partner-config register`"
        )
    if response.status_code in (401, 403):
        raise CheckFailed(
            "SmartRecruiters gave our master credentials a token but refused the partner "
            f"configuration (HTTP {response.status_code}): "
            "they lack the partner_configuration_manage scope, or the token is for "
            f"another region; {REGION_HINT}"
        )
    _refuse_other_answers(response, url, "partner configuration API")
    try:
        stored = response.json()
    except ValueError:
        stored = None
    if not isinstance(stored, dict):
        raise CheckFailed(f"{url} answered, but not with a partner configuration: {REGION_HINT}")
    return stored


def _refuse_other_answers(response: httpx.Response, url: str, what: str) -> None:
    status = response.status_code
    if status >= 500:
        raise CheckFailed(
            f"SmartRecruiters' {what} at {url} answered HTTP {status}; try again later"
        )
    if status != 200:
        raise CheckFailed(
            f"{url} answered HTTP {status}, not as SmartRecruiters' {what} does: {REGION_HINT}"
        )


async def _send(
    http: httpx.AsyncClient, url: str, request: Callable[[], httpx.Request]
) -> httpx.Response:
    """The request sent to `url`; CheckFailed, with what to check, when it cannot be."""
    try:
        return await http.send(request())
    except httpx.TimeoutException:
        raise CheckFailed(
            f"{url} did not answer within {http.timeout.read} s: check the network and "
            f"{REGION_HINT}"
        ) from None
    except httpx.TransportError as err:  # refused, unknown host, TLS
        raise CheckFailed(
            f"could not reach {url} ({type(err).__name__}): check the network and {REGION_HINT}"
        ) from None
    except httpx.InvalidURL:
        raise CheckFailed(f"{url} is not a URL we can call: {REGION_HINT}") from None


def _json_field(response: httpx.Response, name: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None
