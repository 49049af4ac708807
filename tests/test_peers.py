"""Calls to peers: what a Retry-After can make us do (wait as asked, at most a day, never crash
the retry), and the transport every call takes."""

import asyncio
import gzip
import json
import socket
from datetime import timedelta

import httpx
import pytest

from peers import MAX_RETRY_AFTER_SECONDS, PeerError, peer_client, retry_after_seconds, send
from tests.support.servers import serve


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (
            "9" * 5000,
            MAX_RETRY_AFTER_SECONDS,
        ),  # past int()'s digit limit: float() reads it as infinity
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_SECONDS),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_a_retry_after_header_is_a_wait_a_timer_can_hold(header, seconds):
    parsed = retry_after_seconds(header)
    assert parsed == seconds
    if parsed is not None:
        assert timedelta(seconds=parsed) <= timedelta(
            days=1
        )  # what the activity's retry delay is made of


# The transport every call to SR and a vendor takes (peers.peer_client): httpx's API, aiohttp's
# connections. A real server on a loopback port for each case.


def _echo_app():
    """Answers what it was sent: method, path and query, headers, body; and a few fixed answers."""
    from fastapi import FastAPI, Request, Response
    from fastapi.responses import RedirectResponse

    app = FastAPI()

    @app.get("/gzipped")
    async def gzipped() -> Response:
        return Response(
            gzip.compress(b'{"score": 80}'),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    @app.get("/moved")
    async def moved() -> Response:
        return RedirectResponse("/echo?from=moved", status_code=302)

    @app.get("/cookie")
    async def cookie() -> Response:
        response = Response("set")
        response.set_cookie("session", "theirs")
        return response

    @app.get("/slow")
    async def slow() -> Response:
        await asyncio.sleep(1)
        return Response("late")

    @app.api_route("/echo", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    async def echo(request: Request) -> dict:
        return {
            "method": request.method,
            "query": str(request.url.query),
            "headers": dict(request.headers.items()),
            "body": (await request.body()).decode("latin-1"),
        }

    return app


@pytest.fixture(scope="module")
def echo_server():
    with serve(_echo_app()) as url:
        yield url


async def test_a_peer_call_sends_what_httpx_built_and_reads_what_came_back(echo_server):
    async with peer_client(
        base_url=echo_server, timeout=5, headers={"Authorization": "Bearer t0ken"}
    ) as http:
        sent = (await http.patch("/echo", params={"a": "1 2"}, json={"status": "COMPLETED"})).json()
        assert sent["method"] == "PATCH" and sent["query"] == "a=1+2"
        assert sent["headers"]["authorization"] == "Bearer t0ken"
        assert sent["headers"]["content-type"] == "application/json"
        assert json.loads(sent["body"]) == {"status": "COMPLETED"}
        assert "python-httpx" in sent["headers"]["user-agent"]  # httpx's headers, not aiohttp's

        uploaded = (
            await http.post("/echo", files={"file": ("report.pdf", b"%PDF-1.4", "application/pdf")})
        ).json()
        assert uploaded["headers"]["content-type"].startswith("multipart/form-data; boundary=")
        assert 'filename="report.pdf"' in uploaded["body"] and "%PDF-1.4" in uploaded["body"]

        assert (await http.get("/gzipped")).json() == {"score": 80}  # httpx decodes, as before

        redirected = await http.get("/moved", follow_redirects=True)
        assert redirected.json()["query"] == "from=moved"
        assert [r.status_code for r in redirected.history] == [302]
        assert (await http.get("/moved")).status_code == 302  # not followed unless asked


async def test_a_peers_cookie_is_kept_by_httpx_alone(echo_server):
    async with peer_client(base_url=echo_server, timeout=5) as http:
        await http.get("/cookie")
        sent = (await http.get("/echo")).json()
        assert sent["headers"]["cookie"] == "session=theirs"  # once: aiohttp keeps none of its own
        http.cookies.clear()
        assert "cookie" not in (await http.get("/echo")).json()["headers"]


async def test_peer_failures_are_the_httpx_errors_callers_classify(echo_server):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{unused.getsockname()[1]}"
    async with peer_client(timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(refused)
        with pytest.raises(PeerError) as failed:
            await send("vendor", "invitation", http, http.build_request("POST", refused))
        assert str(failed.value) == "vendor: invitation failed: ConnectError"
        assert failed.value.retryable
    async with peer_client(timeout=httpx.Timeout(5, read=0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{echo_server}/slow")


async def test_a_peer_that_hangs_up_without_answering_is_a_protocol_error():
    """A GET, PUT or DELETE is sent once more on a new connection (RFC 9112 lets a client retry
    an idempotent request whose connection closed); a POST or PATCH never is."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(10)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        requests: list[bytes] = []

        def hang_up(times: int) -> None:
            for _ in range(times):
                connection, _ = listener.accept()
                requests.append(connection.recv(65536).split(b" ", 1)[0])
                connection.close()

        loop = asyncio.get_running_loop()
        async with peer_client(timeout=5) as http:
            for method, connections in (("POST", 1), ("PATCH", 1), ("GET", 2), ("PUT", 2)):
                hanging_up = loop.run_in_executor(None, hang_up, connections)
                with pytest.raises(httpx.RemoteProtocolError):
                    await http.request(method, url)
                await hanging_up
    assert requests == [b"POST", b"PATCH", b"GET", b"GET", b"PUT", b"PUT"]


async def test_a_proxy_set_in_the_environment_carries_peer_calls(monkeypatch):
    """As httpx's own transport did: HTTP_PROXY and its kin from the environment are honoured."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(10)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)

        def proxy() -> bytes:
            connection, _ = listener.accept()
            with connection:
                request_line = connection.recv(65536).split(b"\r\n", 1)[0]
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return request_line

        proxied = asyncio.get_running_loop().run_in_executor(None, proxy)
        async with peer_client(timeout=5) as http:
            assert (await http.get("http://vendor.invalid/v1/status")).text == "ok"
        assert await proxied == b"GET http://vendor.invalid/v1/status HTTP/1.1"
