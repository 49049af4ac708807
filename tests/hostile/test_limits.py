"""Oversized bodies (413) and too many authentication attempts (429),
refused before any route runs."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from types import SimpleNamespace
from typing import cast
from urllib.parse import urlsplit

import httpx
import pytest

from settings import Settings
from simulators.smartrecruiters.config import SmartRecruitersSimConfig
from simulators.smartrecruiters.partner import order_request
from tests.hostile.conftest import api_process, own_api
from tests.support.http import client as http_client
from tests.support.waiting import eventually

SMALL_LIMIT = 4096
# Every route family that takes a body: SR's, the vendors', the consent form, the operators'.
BODY_ROUTES = [
    "/packages/orders",
    "/packages/inline/orders",
    "/oauth/token",
    "/webhooks/sandbox",
    "/integration",
    "/admin/vendor-accounts",
]


async def raw_request(url: str, head: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send a request's head and only `body` (never the rest the head promises); read the answer."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        headers = {}
        while (line := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        content = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
        return int(status_line.split()[1]), headers, content
    finally:
        writer.close()


def head(method: str, path: str, *lines: str) -> str:
    return "".join(f"{line}\r\n" for line in (f"{method} {path} HTTP/1.1", "Host: test", *lines))


def assert_our_413(status: int, body: bytes, limit: int) -> None:
    assert status == 413
    answer = json.loads(body)
    assert str(limit) in answer["message"] and answer["errors"][0]["code"] == "HTTP_413"


@pytest.mark.parametrize("path", BODY_ROUTES)
async def test_a_declared_oversized_body_is_refused_before_it_is_sent(stack, path):
    limit = stack.settings.max_request_bytes
    started = time.monotonic()
    status, headers, body = await raw_request(
        stack.settings.public_url,
        head("POST", path, "Content-Type: application/json", f"Content-Length: {limit + 1}"),
        b"{" * 100,
    )
    assert_our_413(status, body, limit)
    assert headers["connection"] == "close"
    assert time.monotonic() - started < 5  # answered without waiting for the promised bytes


@pytest.fixture(scope="module")
def small_limit_api(stack):
    with own_api(stack.settings, max_request_bytes=SMALL_LIMIT) as url:
        yield url


@pytest.mark.parametrize("path", BODY_ROUTES)
async def test_a_chunked_body_is_refused_as_it_grows_past_the_limit(small_limit_api, path):
    """Chunks past the limit, and no end: the 413 comes while the body is still being read."""
    chunk = b"a" * 1024
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(SMALL_LIMIT // len(chunk) + 1)
    )
    content_type = (
        "application/x-www-form-urlencoded"
        if path in ("/oauth/token", "/integration")
        else "application/json"
    )
    status, _, body = await raw_request(
        small_limit_api,
        head("POST", path, f"Content-Type: {content_type}", "Transfer-Encoding: chunked"),
        chunks,
    )
    assert_our_413(status, body, SMALL_LIMIT)


async def test_bodies_up_to_the_limit_reach_the_routes(small_limit_api):
    async def chunked(size: int):
        yield b" " * (size - 2)
        yield b"{}"

    async with http_client(base_url=small_limit_api, timeout=30) as http:
        at_limit = await http.post(
            "/webhooks/sandbox",
            content=chunked(SMALL_LIMIT),
            headers={"Sandbox-Signature": "t=1,v1=00"},
        )
        declared = await http.post(
            "/packages/orders",
            content=b" " * (SMALL_LIMIT - 2) + b"{}",
            headers={"Content-Type": "application/json"},
        )
        over = await http.post("/webhooks/sandbox", content=chunked(SMALL_LIMIT + 1))
    assert at_limit.status_code == 401  # the route ran: the signature is what is wrong
    assert declared.status_code == 401  # the route ran: no bearer token
    assert over.status_code == 413


def test_real_orders_and_webhooks_fit_the_default_limit_a_hundred_times_over():
    limit = Settings().max_request_bytes
    candidate = {
        "id": "c" * 36,
        "email": "a" * 64 + "@example.com",
        "first_name": "F" * 100,
        "last_name": "L" * 100,
        "job": {"id": "j" * 36, "title": "T" * 200},
    }
    # The one setting order_request reads.
    config = cast(
        SmartRecruitersSimConfig, SimpleNamespace(public_url="https://api.smartrecruiters.com")
    )
    callback = f"{config.public_url}/assessment-api/v202010/orders/{'o' * 36}/results"
    orders = [
        order_request(config, kind, callback, candidate, "skills-fullstack", "c" * 64)
        for kind in ("manual", "inline")
    ]
    webhook = {
        "id": "evt_" + "e" * 32,
        "type": "invitation.completed",
        "data": {"invitation_id": "i" * 36, "reference": "o" * 36, "status": "completed"},
    }
    largest = max(len(json.dumps(body).encode()) for body in [*orders, webhook])
    assert largest * 100 < limit, largest


# --- rate limits ----------------------------------------------------------------------------

PER_MINUTE = 30  # a bucket of 30, one more every 2 s


@pytest.fixture
def tight_api(stack):
    """A fresh API (fresh buckets) allowing PER_MINUTE attempts per minute and address."""
    with own_api(stack.settings, auth_requests_per_minute=PER_MINUTE) as url:
        yield url


def token_form(settings: Settings) -> dict:
    return {
        "grant_type": "client_credentials",
        "client_id": settings.partner_client_id,
        "client_secret": settings.partner_client_secret.get_secret_value(),
    }


async def until_refused(send) -> tuple[list[httpx.Response], httpx.Response]:
    """Send until the first 429: (the answers before it, the 429). The bucket holds PER_MINUTE and
    refills meanwhile, so on a slow machine a few more may pass: as many as the time allows."""
    started, admitted = time.monotonic(), []
    while (answer := await send()).status_code != 429:
        admitted.append(answer)
        assert len(admitted) <= 2 * PER_MINUTE, "never refused"
    refilled = (time.monotonic() - started) * PER_MINUTE / 60
    assert PER_MINUTE <= len(admitted) <= PER_MINUTE + refilled + 1
    return admitted, answer


async def test_token_requests_beyond_the_rate_get_429_with_retry_after(tight_api, stack):
    async with http_client(base_url=tight_api, timeout=30) as http:

        async def ask():
            return await http.post("/oauth/token", data=token_form(stack.settings))

        admitted, refused = await until_refused(ask)
        other_routes = await http.get("/healthz")

        assert {a.status_code for a in admitted} == {200}
        assert refused.headers["retry-after"] == "2"
        assert (
            refused.json()["errors"][0]["code"] == "HTTP_429"
            and "Too many requests" in refused.json()["message"]
        )
        assert stack.settings.partner_client_secret.get_secret_value() not in refused.text
        assert other_routes.status_code == 200

        async def admitted_again():
            return (await ask()).status_code == 200

        await eventually(admitted_again, timeout=10, what="the bucket to refill")


async def test_the_consent_page_beyond_the_rate_is_a_429_page(tight_api):
    async with http_client(base_url=tight_api, timeout=30) as http:
        sent = itertools.count()

        async def get_or_post():  # GET and POST share the bucket
            if next(sent) % 2:
                return await http.post(
                    "/integration",
                    data={"companyId": "acme", "token": "ett_x", "email": "a@example.com"},
                )
            return await http.get("/integration", params={"companyId": "acme"})

        admitted, refused = await until_refused(get_or_post)
        also_refused = await get_or_post()
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )

    assert {a.status_code for a in admitted} == {
        200,
        400,
    }  # the form, and the form's refusal of a post without its cookie
    for answer in (refused, also_refused):
        assert answer.status_code == 429 and answer.headers["retry-after"] == "2"
        assert (
            answer.headers["content-type"].startswith("text/html")
            and "Too many attempts" in answer.text
        )
        assert (
            answer.headers["x-frame-options"] == "DENY"
            and "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        )
    assert token.status_code == 400  # invalid_client: the token endpoint's bucket is its own


async def test_each_client_address_has_its_own_bucket(tight_api, stack):
    async with (
        http_client(base_url=tight_api, timeout=30) as first,
        httpx.AsyncClient(
            base_url=tight_api,
            timeout=30,
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2"),
        ) as second,
    ):
        await until_refused(lambda: first.post("/oauth/token", data=token_form(stack.settings)))
        assert (
            await second.post("/oauth/token", data=token_form(stack.settings))
        ).status_code == 200


async def test_a_client_dropping_mid_body_leaves_one_calm_log_line(stack):
    """Headers promising 1,000 bytes, 400 sent, then the connection closed: the API notes it in one
    line (no traceback, nothing at ERROR) and goes on serving."""
    log = stack.log_dir / "api.log"
    start = log.stat().st_size

    def written() -> str:
        with log.open("rb") as lines:
            lines.seek(start)
            return lines.read().decode("utf-8", "replace")

    parts = urlsplit(stack.settings.public_url)
    _, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        head(
            "POST", "/webhooks/sandbox", "Content-Type: application/json", "Content-Length: 1000"
        ).encode()
        + b"\r\n"
        + b'{"id": "'
        + b"x" * 392
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()

    async def drop_noted() -> str | None:
        text = written()
        return text if "closed the connection" in text or '"level": "ERROR"' in text else None

    async def next_request_logged() -> list[str] | None:
        lines = written().splitlines()
        return lines if any("rejected sandbox webhook" in line for line in lines) else None

    await eventually(drop_noted, what="the API to note the dropped request")
    # A request after it is served, and its line marks where the dropped request's lines end.
    refused = httpx.post(
        f"{stack.settings.public_url}/webhooks/sandbox",
        content=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert refused.status_code == 401
    lines = await eventually(next_request_logged, what="the API to log the next request")
    about_the_drop = list(
        itertools.takewhile(lambda line: "rejected sandbox webhook" not in line, lines)
    )
    assert not [
        line for line in about_the_drop if '"level": "ERROR"' in line or "exc_info" in line
    ], about_the_drop
    [noted] = [line for line in about_the_drop if "closed the connection" in line]
    assert json.loads(noted)["level"] == "INFO"


# --- client addresses behind proxies ----------------------------------------------------------

PROXY = "127.0.0.3"  # our one trusted proxy in these tests


@pytest.fixture(scope="module")
def proxied_api(stack):
    """Our API served as in production (cli/running.py's uvicorn), allowing PER_MINUTE attempts
    per minute and address, with PROXY as its only trusted proxy."""
    with api_process(
        stack.settings, auth_requests_per_minute=PER_MINUTE, trusted_proxies=[PROXY]
    ) as url:
        yield url


async def test_x_forwarded_for_from_a_client_that_is_no_trusted_proxy_is_ignored(
    proxied_api, stack
):
    """A local client rotating X-Forwarded-For still has one bucket: its own address's."""
    forged = (f"203.0.113.{n % 250 + 1}" for n in itertools.count())
    async with http_client(base_url=proxied_api, timeout=30) as http:
        _, refused = await until_refused(
            lambda: http.post(
                "/oauth/token",
                data=token_form(stack.settings),
                headers={"X-Forwarded-For": next(forged)},
            )
        )
    assert (
        refused.headers["retry-after"] == "2" and "Too many requests" in refused.json()["message"]
    )


async def test_a_trusted_proxys_x_forwarded_for_names_the_client(proxied_api, stack):
    """Behind the proxy, each client forwarded has its own bucket,
    and the proxy's is not used up."""
    async with httpx.AsyncClient(
        base_url=proxied_api, timeout=30, transport=httpx.AsyncHTTPTransport(local_address=PROXY)
    ) as proxy:

        def ask(client: str):
            return proxy.post(
                "/oauth/token", data=token_form(stack.settings), headers={"X-Forwarded-For": client}
            )

        await until_refused(lambda: ask("198.51.100.7"))
        other_client = await ask("198.51.100.8")
        the_proxy_itself = await proxy.post("/oauth/token", data=token_form(stack.settings))
    assert other_client.status_code == 200
    assert the_proxy_itself.status_code == 200


async def test_unauthenticated_disconnects_beyond_the_rate_get_429(tight_api):
    """Anyone may send the DELETE without a token, and each starts a disconnection check: an
    address gets its bucket's worth, then 429, whatever companies it names."""
    async with http_client(base_url=tight_api, timeout=30) as http:
        sent = itertools.count()

        async def delete():
            return await http.delete(f"/integrations/companies/nobody-{next(sent)}")

        admitted, refused = await until_refused(delete)
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )

    assert {a.status_code for a in admitted} == {204}
    assert (
        refused.headers["retry-after"] == "2" and refused.json()["errors"][0]["code"] == "HTTP_429"
    )
    assert token.status_code == 400  # the token endpoint's bucket is its own


async def test_an_api_vendor_past_its_rate_waits_and_another_vendor_does_not(stack, store):
    """The Vendor API's budget is per account: one vendor's burst never holds up another's."""
    keys = []
    for name in ("first", "second"):
        account = await store.create_vendor_account(
            name=f"api-limits-{name}-{uuid.uuid4().hex[:8]}",
            adapter="api",
            credentials={"webhook_url": "http://127.0.0.1:9/hooks"},
        )
        keys.append((await store.vendor_api.issue_key(account.id, "limits")).key)
    with own_api(stack.settings, vendor_api_requests_per_second=0.5, vendor_api_burst=5) as url:
        async with http_client(base_url=f"{url}/vendor/v1") as http:

            def as_vendor(key: str):
                return lambda: http.get("/packages", headers={"Authorization": f"Bearer {key}"})

            started, admitted = time.monotonic(), []
            while (refused := await as_vendor(keys[0])()).status_code != 429:
                admitted.append(refused)
                assert len(admitted) <= 20, "never refused"
            # The burst, and what the time spent refilled (one every 2 s).
            assert 5 <= len(admitted) <= 5 + (time.monotonic() - started) / 2 + 1
            assert all(answer.status_code == 200 for answer in admitted)
            assert refused.headers["Retry-After"] == "2"  # one request more every 2 s
            assert refused.json()["errors"][0]["code"] == "HTTP_429"
            assert (await as_vendor(keys[1])()).status_code == 200


async def test_console_sign_ins_beyond_the_rate_get_429(tight_api):
    """Each sign-in may cost an Argon2 hash: an address gets its bucket's worth, then 429,
    whatever names it tries; the console's other pages keep their own way."""
    async with http_client(base_url=tight_api, timeout=30) as http:
        sent = itertools.count()

        async def sign_in():
            return await http.post(
                "/console/sign-in",
                data={"name": f"guess-{next(sent)}", "password": "p" * 12, "form_token": "x"},
            )

        admitted, refused = await until_refused(sign_in)
        form = await http.get("/console/sign-in")

    assert {a.status_code for a in admitted} == {403}  # no form token of ours: refused unhashed
    assert refused.headers["retry-after"] == "2" and "Too many requests" in refused.text
    assert form.status_code == 200
