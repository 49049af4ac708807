"""Whether SmartRecruiters still honours a pair of SR-issued client credentials.

A company that disconnected us at SR has its credentials revoked there; SR refusing them at its
token endpoint is the evidence a disconnection we cannot authenticate rests on.
"""

from __future__ import annotations

import httpx

from peers import PeerError

PEER = "SmartRecruiters"


async def credentials_refused(
    http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str
) -> bool:
    """True if SR's token endpoint refuses these credentials as an unknown client, False if it
    issues a token; PeerError (retryable) for any other answer or none, which proves nothing."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        response = await http.post(token_url, data=form)
    except httpx.HTTPError as err:
        raise PeerError(PEER, f"credentials check failed: {type(err).__name__}") from None
    if response.status_code == httpx.codes.OK:
        return False
    # RFC 6749 §5.2: invalid_client is 401 (HTTP authentication) or 400, and says so in its body.
    # Any other refusal (invalid_request, a malformed form of ours, a 401 of a gateway in an SR
    # incident) says nothing about the credentials, and a company is never disconnected on it.
    if (
        response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.BAD_REQUEST)
        and _oauth_error(response) == "invalid_client"
    ):
        return True
    raise PeerError(
        PEER, "credentials check got an answer that proves nothing", status=response.status_code
    )


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None
