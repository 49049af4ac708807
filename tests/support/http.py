"""The HTTP client the tests' shared fixtures use."""

from __future__ import annotations

from typing import Any

import httpx

# Our servers (uvicorn) close a connection after 5 s idle, and httpx keeps one for 5 s too: on a
# busy machine a request could leave on a connection the server is closing, and fail with a
# ReadError that a vendor's or SR's retry would mend but a test cannot. Clients let idle
# connections go well before the servers do.
KEEPALIVE_EXPIRY_SECONDS = 2.0


def client(*, max_connections: int = 100, **options: Any) -> httpx.AsyncClient:
    options.setdefault("timeout", 30)
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(max_connections, 50),
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
    )
    return httpx.AsyncClient(limits=limits, **options)
