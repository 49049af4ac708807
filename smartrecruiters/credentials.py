"""Whether SmartRecruiters still honours a pair of SR-issued client credentials.

A company that disconnected us at SR has its credentials revoked there; SR refusing them at its
token endpoint is the evidence a disconnection we cannot authenticate rests on.
"""

from __future__ import annotations

import httpx

from peers import PeerError
from smartrecruiters.oauth import TokenAnswer, token_request

PEER = "SmartRecruiters"


async def credentials_refused(
    http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str
) -> bool:
    """True if SR's token endpoint refuses these credentials as an unknown client, False if it
    issues a token; PeerError (retryable) for any other answer or none, which proves nothing."""
    try:
        response = await http.send(token_request(http, token_url, client_id, client_secret))
    except httpx.HTTPError as err:
        raise PeerError(PEER, f"credentials check failed: {type(err).__name__}") from None
    if response.status_code == httpx.codes.OK:
        return False
    # Any refusal but invalid_client (invalid_request, a malformed form of ours, a 401 of a gateway
    # in an SR incident) says nothing about the credentials, and a company is never disconnected
    # on it.
    if TokenAnswer.of(response).refuses_the_client:
        return True
    raise PeerError(
        PEER, "credentials check got an answer that proves nothing", status=response.status_code
    )
