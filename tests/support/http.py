"""The HTTP client the tests' shared fixtures use: the one our service uses for its peers
(httpx's API over aiohttp's connections, a fifth of httpx's own CPU per request)."""

from __future__ import annotations

from typing import Any

import httpx

from peers import peer_client

# Our servers (uvicorn) close a connection after 5 s idle: on a busy machine a request could leave
# on a connection the server is closing, and fail with an error that a vendor's or SR's retry
# would mend but a test cannot. Clients let idle connections go well before the servers do.
KEEPALIVE_EXPIRY_SECONDS = 2.0


def client(*, max_connections: int = 100, **options: Any) -> httpx.AsyncClient:
    options.setdefault("timeout", 30)
    return peer_client(
        keepalive_seconds=KEEPALIVE_EXPIRY_SECONDS, max_connections=max_connections, **options
    )
