"""Requests that never finish arriving: a connection holding half its request head, or a body that
stops midway, is closed within ASSESSMENTS_REQUEST_READ_TIMEOUT_SECONDS instead of being held open
for as long as the client likes (a few hundred such connections would exhaust the API's sockets).

On our API as `assessments api` serves it, since the head's deadline is the server's
(cli/running.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import pytest

from tests.hostile.conftest import api_process

READ_TIMEOUT = 2.0
# What a loaded machine may add to the deadline before the server gets round to closing.
SLACK = 3.0


@pytest.fixture(scope="module")
def api_url(stack):
    with api_process(stack.settings, request_read_timeout_seconds=READ_TIMEOUT) as url:
        yield url


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def until_closed(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took; fails if
    the connection is still open after the deadline and its slack."""
    started = time.monotonic()
    try:
        received = await asyncio.wait_for(reader.read(), READ_TIMEOUT + SLACK)
    except TimeoutError:
        raise AssertionError(
            f"the connection is still open {READ_TIMEOUT + SLACK:.0f} s on"
        ) from None
    except ConnectionResetError:
        received = b""
    return received, time.monotonic() - started


def head(method: str, path: str, *lines: str) -> bytes:
    return "".join(
        f"{line}\r\n" for line in (f"{method} {path} HTTP/1.1", "Host: test", *lines)
    ).encode()


async def test_a_request_head_that_stops_halfway_is_closed_within_the_deadline(api_url):
    reader, writer = await connect(api_url)
    writer.write(b"POST /oauth/token HTTP/1.1\r\nHost: test\r\nContent-Type: applica")
    await writer.drain()
    received, took = await until_closed(reader)
    writer.close()
    assert received == b""  # nothing to answer: there is no request yet
    assert took >= READ_TIMEOUT - 0.5


async def test_a_kept_alive_connection_is_closed_when_its_next_head_stops_halfway(api_url):
    reader, writer = await connect(api_url)
    writer.write(head("GET", "/healthz") + b"\r\n")
    await writer.drain()
    assert (await asyncio.wait_for(reader.readline(), 10)).startswith(b"HTTP/1.1 200")
    length = 0
    while (line := await asyncio.wait_for(reader.readline(), 10)) != b"\r\n":
        name, _, value = line.partition(b":")
        length = int(value) if name.lower() == b"content-length" else length
    assert json.loads(await asyncio.wait_for(reader.readexactly(length), 10)) == {"status": "ok"}

    writer.write(b"GET /healthz HTTP/1.1\r\nHo")  # a byte stops uvicorn's keep-alive timer
    await writer.drain()
    received, _ = await until_closed(reader)
    writer.close()
    assert received == b""


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/packages/orders", "application/json"),
        ("/webhooks/sandbox", "application/json"),
        ("/integration", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_body_that_stops_midway_gets_408_and_the_connection_closed(
    api_url, path, content_type
):
    reader, writer = await connect(api_url)
    writer.write(
        head("POST", path, f"Content-Type: {content_type}", "Content-Length: 1000")
        + b"\r\n"
        + b"{" * 100
    )
    await writer.drain()
    received, took = await until_closed(reader)
    writer.close()
    status_line, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", received
    assert b"connection: close" in headers.lower()
    answer = json.loads(body)
    assert answer["message"] == f"The request body did not arrive within {READ_TIMEOUT:g} seconds"
    assert answer["errors"][0]["code"] == "HTTP_408"
    assert took >= READ_TIMEOUT - 0.5
