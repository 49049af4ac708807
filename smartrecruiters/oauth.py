"""SmartRecruiters' token endpoint: the one client-credentials token request we make, and SR's
answer as read from it.

Three callers ask for a token: the SR client (to call SR), the disconnect check (does SR still
honour a company's credentials?) and `assessments smartrecruiters check` (do our master
credentials work?). Each sends this request through its own connection and classifies the
answer in its own terms; none reads SR's body any other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


def token_request(
    http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str
) -> httpx.Request:
    """A client-credentials grant, the credentials in the form body (RFC 6749 §4.4, §2.3.1)."""
    return http.build_request(
        "POST",
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )


@dataclass(frozen=True)
class TokenAnswer:
    """What SR's token endpoint answered: a token, or an RFC 6749 §5.2 error, or neither."""

    status: int
    # The body's fields, when it is a JSON object; None otherwise.
    body: dict[str, Any] | None

    @classmethod
    def of(cls, response: httpx.Response) -> TokenAnswer:
        try:
            body = response.json()
        except ValueError:
            body = None
        return cls(response.status_code, body if isinstance(body, dict) else None)

    @property
    def access_token(self) -> str | None:
        token = (self.body or {}).get("access_token")
        return token if isinstance(token, str) and token else None

    @property
    def error(self) -> Any:
        """The OAuth error code of a refusal (e.g. invalid_client), as SR wrote it."""
        return (self.body or {}).get("error")

    @property
    def refuses_the_client(self) -> bool:
        """SR says it does not know these credentials: invalid_client, at 401 (the client used
        HTTP authentication) or 400. Any other refusal says nothing about the credentials."""
        return self.status in (400, 401) and self.error == "invalid_client"
