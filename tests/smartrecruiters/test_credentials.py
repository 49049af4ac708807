"""SR refusing a company's credentials is the evidence an unauthenticated disconnection rests on;
any other answer proves nothing and must not disconnect anyone."""

from __future__ import annotations

import httpx
import pytest

from peers import PeerError
from smartrecruiters.credentials import credentials_refused
from tests.support.http import client as http_client


def answering(
    status: int, body: dict | None = None
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client SR answers with `status` and `body`, and the requests it sent."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (200, {"access_token": "t", "expires_in": 60}, False),
        (401, {"error": "invalid_client"}, True),
        (400, {"error": "invalid_client"}, True),
    ],
)
async def test_srs_answer_to_the_credentials(status, body, refused):
    http, seen = answering(status, body)
    async with http:
        assert (
            await credentials_refused(
                http, "https://sr.example/identity/oauth/token", "id", "secret"
            )
            is refused
        )
        [request] = seen
    assert request.content == b"grant_type=client_credentials&client_id=id&client_secret=secret"


# A 401 without invalid_client (a gateway's, in an SR incident) would otherwise disconnect a
# company on anyone's bare DELETE.
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_request"}),
        (400, None),
        (401, None),
        (401, {"error": "unauthorized"}),
        (429, None),
        (503, None),
        (404, None),
    ],
)
async def test_answers_that_prove_nothing_are_errors_to_retry(status, body):
    http, _ = answering(status, body)
    async with http:
        with pytest.raises(PeerError) as raised:
            await credentials_refused(
                http, "https://sr.example/identity/oauth/token", "id", "secret"
            )
    assert raised.value.retryable and "secret" not in str(raised.value)


async def test_no_answer_is_an_error_to_retry():
    async with http_client() as http:
        with pytest.raises(PeerError):
            await credentials_refused(http, "http://127.0.0.1:9/token", "id", "secret")
