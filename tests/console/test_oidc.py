"""Single sign-on to the console through an OpenID Connect provider (the simulated one of
simulators/identity_provider.py), over real HTTP: the redirects followed by hand, as a browser
would, against an API of our own with the SSO settings."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import jwt
import pytest
from pydantic import SecretStr

from admin.audit import Actor, Role
from admin.identity import Identities
from api.app import create_app
from api.console.oidc import COOKIE, COOKIE_AUDIENCE
from embedded import free_port
from settings import Settings
from simulators.identity_provider import (
    IdentityProvider,
    Misbehaviour,
    create_app as identity_provider_app,
)
from store.operators import AuditQuery
from tests.support.http import client as http_client
from tests.support.servers import serve

CLIENT_ID = "hub-console"
CLIENT_SECRET = "a-secret-of-the-console-at-the-provider"
REQUEST_ID = re.compile(r"name='request_id' value='([^']+)'")
SESSION = "console_session"


@dataclass
class SSO:
    provider: IdentityProvider
    settings: Settings
    url: str


@pytest.fixture(scope="module")
def sso(stack) -> Iterator[SSO]:
    """The simulated provider, and an API of ours (the stack's store and Temporal) that signs in
    through it."""
    provider_port, api_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    provider = IdentityProvider(
        f"http://127.0.0.1:{provider_port}",
        CLIENT_ID,
        CLIENT_SECRET,
        [f"{api_url}/console/sign-in/oidc/callback"],
    )
    settings = stack.settings.model_copy(
        update={
            "public_url": api_url,
            "api_port": api_port,
            "console_oidc_issuer": provider.issuer,
            "console_oidc_client_id": CLIENT_ID,
            "console_oidc_client_secret": SecretStr(CLIENT_SECRET),
            "console_oidc_provider_name": "Example IdP",
        }
    )
    with (
        serve(identity_provider_app(provider), provider_port),
        serve(create_app(settings), api_port) as url,
    ):
        yield SSO(provider, settings, url)


async def operator_without_password(store, settings: Settings, role: Role = Role.VIEWER) -> str:
    """As `assessments operators add NAME --no-password` makes one."""
    name = f"sso-{role.value}-{secrets.token_hex(4)}"
    await Identities(store, settings).add(name, role, None)
    return name


async def to_provider(http: httpx.AsyncClient, next_page: str = "/console") -> str:
    """Our redirect to the provider's /authorize (checked), and the id of the request it took."""
    start = await http.get(f"/console/sign-in/oidc?next={quote(next_page, safe='')}")
    assert start.status_code == 303, start.text
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["response_type"] == ["code"] and asked["client_id"] == [CLIENT_ID]
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["state"][0] and asked["nonce"][0] and "openid" in asked["scope"][0].split()
    assert "HttpOnly" in start.headers["set-cookie"]
    page = await http.get(start.headers["location"])
    assert page.status_code == 200 and "Sign in as" in page.text
    return REQUEST_ID.search(page.text).group(1)


async def back_from_provider(
    http: httpx.AsyncClient,
    user: str,
    next_page: str = "/console",
    action: str = "sign-in",
    *,
    provider_url: str,
) -> tuple[httpx.Response, str]:
    """The whole round: to the provider, `user` signs in there (or cancels), back to our
    callback; (its answer, the callback's URL)."""
    request_id = await to_provider(http, next_page)
    signed = await http.post(
        f"{provider_url}/authorize", data={"request_id": request_id, "user": user, "action": action}
    )
    assert signed.status_code == 303, signed.text
    callback = signed.headers["location"]
    assert callback.startswith(f"{http.base_url}".rstrip("/") + "/console/sign-in/oidc/callback")
    return await http.get(callback), callback


def signed_in_cookie(answer: httpx.Response) -> bool:
    return any(
        value.startswith(f"{SESSION}=") and not value.startswith(f'{SESSION}=""')
        for value in answer.headers.get_list("set-cookie")
    )


async def test_an_operator_signs_in_through_the_provider_and_opens_the_console(sso, store):
    name = await operator_without_password(store, sso.settings)
    async with http_client(base_url=sso.url, follow_redirects=False) as http:
        form = await http.get("/console/sign-in?next=%2Fconsole%3Ffrom%3Dsso")
        assert 'href="/console/sign-in/oidc?next=/console%3Ffrom%3Dsso"' in form.text
        assert "Sign in with Example IdP" in form.text
        answer, callback = await back_from_provider(
            http, name, "/console?from=sso", provider_url=sso.provider.issuer
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/console?from=sso"
        assert signed_in_cookie(answer)
        session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION))
        assert "HttpOnly" in session and "samesite=lax" in session.lower()
        page = await http.get("/console")
        assert page.status_code == 200 and name in page.text
        assert '<span class="badge" title="role">viewer</span>' in page.text  # the store's role
        # The callback once more (its code and state replayed): nothing pending, refused.
        again = await http.get(callback)
        assert again.status_code == 400 and "did not start in this browser" in again.text
    events = await store.operators.events(AuditQuery(target=name, action="sign-in"))
    assert [(e.operator, e.via, e.outcome, e.detail) for e in events] == [
        (name, "console", "done", "sso")
    ]


async def test_someone_who_is_not_an_operator_or_is_disabled_is_refused(sso, store, stack):
    stranger = f"stranger-{secrets.token_hex(4)}"
    disabled = await operator_without_password(store, sso.settings, Role.OPERATOR)
    await Identities(store, stack.settings).change(disabled, Actor.command_line(), disabled=True)
    async with http_client(base_url=sso.url, follow_redirects=False) as http:
        for who in (stranger, disabled):
            answer, _ = await back_from_provider(http, who, provider_url=sso.provider.issuer)
            assert answer.status_code == 403
            assert f"as {who}, who is not an operator of this hub" in answer.text
            assert 'role="alert"' in answer.text and not signed_in_cookie(answer)
            assert (await http.get("/console")).status_code == 303  # to the sign-in page
    refused = [
        (e.target, e.via, e.outcome, e.detail)
        for who in (stranger, disabled)
        for e in await store.operators.events(AuditQuery(target=who, action="sign-in"))
    ]
    assert refused == [
        (stranger, "console", "refused", "sso: not an operator"),
        (disabled, "console", "refused", "sso: not an operator (disabled)"),
    ]


@pytest.mark.parametrize(
    ("misbehaviour", "words"),
    [
        (Misbehaviour.WRONG_AUDIENCE, "it was issued for another client"),
        (Misbehaviour.WRONG_NONCE, "it was issued for another sign-in"),
        (Misbehaviour.EXPIRED, "it has expired"),
        (Misbehaviour.UNKNOWN_KEY, "signed with a key the provider does not publish"),
        (Misbehaviour.FORGED_SIGNATURE, "its signature does not match"),
        (Misbehaviour.WRONG_ISSUER, "another provider issued it"),
    ],
)
async def test_an_id_token_the_client_must_reject_signs_nobody_in(
    sso, store, misbehaviour, words, caplog
):
    name = await operator_without_password(store, sso.settings)
    sso.provider.misbehaviour = misbehaviour
    try:
        async with http_client(base_url=sso.url, follow_redirects=False) as http:
            answer, callback = await back_from_provider(
                http, name, provider_url=sso.provider.issuer
            )
            assert answer.status_code == 401, answer.text
            assert "Example IdP&#39;s ID token was refused" in answer.text and words in answer.text
            assert not signed_in_cookie(answer)
            assert (await http.get("/console")).status_code == 303
    finally:
        sso.provider.misbehaviour = Misbehaviour.NONE
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert code not in caplog.text  # the refusal is logged, its code and tokens never
    assert await store.operators.events(AuditQuery(target=name, action="sign-in")) == []


async def test_a_refusal_at_the_provider_a_foreign_state_or_a_wrong_verifier_signs_nobody_in(
    sso, store
):
    name = await operator_without_password(store, sso.settings)
    issuer = sso.provider.issuer
    async with http_client(base_url=sso.url, follow_redirects=False) as http:
        # The person cancels at the provider: Core §3.1.2.6's error comes back.
        cancelled, _ = await back_from_provider(http, name, action="cancel", provider_url=issuer)
        assert cancelled.status_code == 401
        assert "Example IdP did not sign you in (access_denied)" in cancelled.text
        # An answer to another browser's request (a state that is not ours).
        request_id = await to_provider(http)
        signed = await http.post(
            f"{issuer}/authorize", data={"request_id": request_id, "user": name}
        )
        callback = urlsplit(signed.headers["location"])
        params = parse_qs(callback.query)
        foreign = await http.get(
            callback.path, params={"code": params["code"][0], "state": "somebody-elses"}
        )
        assert foreign.status_code == 400 and "not for this sign-in" in foreign.text
        # A pending sign-in (as a forged cookie would hold) whose PKCE verifier is not the one
        # the challenge came from: the provider will not trade the code.
        request_id = await to_provider(http)
        pending = jwt.decode(
            http.cookies[COOKIE],
            sso.settings.token_signing_key.get_secret_value(),
            algorithms=["HS256"],
            audience=COOKIE_AUDIENCE,
        )
        signed = await http.post(
            f"{issuer}/authorize", data={"request_id": request_id, "user": name}
        )
        pending["verifier"] = secrets.token_urlsafe(48)
        http.cookies.set(
            COOKIE,
            jwt.encode(pending, sso.settings.token_signing_key.get_secret_value()),
            domain="127.0.0.1",
            path="/console/sign-in/oidc",
        )
        wrong = await http.get(signed.headers["location"])
        assert wrong.status_code == 401 and "refused this sign-in&#39;s code (invalid_grant)" in (
            wrong.text
        )
        for answer in (cancelled, foreign, wrong):
            assert not signed_in_cookie(answer)
        assert (await http.get("/console")).status_code == 303
    assert await store.operators.events(AuditQuery(target=name, action="sign-in")) == []


@pytest.mark.parametrize("away", ["https://evil.example/console", "//evil.example/console"])
async def test_next_cannot_send_the_operator_off_site(sso, store, away):
    name = await operator_without_password(store, sso.settings)
    async with http_client(base_url=sso.url, follow_redirects=False) as http:
        answer, _ = await back_from_provider(http, name, away, provider_url=sso.provider.issuer)
        assert answer.status_code == 303 and answer.headers["location"] == "/console"


async def test_without_its_settings_there_is_no_single_sign_on(stack):
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as http:
        page = await http.get("/console/sign-in")
        assert page.status_code == 200 and "Sign in with" not in page.text
        assert "/console/sign-in/oidc" not in page.text
        for path in ("/console/sign-in/oidc", "/console/sign-in/oidc/callback?code=x&state=y"):
            answer = await http.get(path)
            assert answer.status_code == 404 and "not set up on this hub" in answer.text
            assert "location" not in answer.headers


async def test_a_provider_that_cannot_be_reached_is_a_page_not_a_500(stack):
    port = free_port()
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = stack.settings.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "console_oidc_issuer": nowhere,
            "console_oidc_client_id": CLIENT_ID,
        }
    )
    with serve(create_app(settings), port) as url:
        async with http_client(base_url=url, follow_redirects=False) as http:
            started = time.monotonic()
            answer = await http.get("/console/sign-in/oidc")
            assert answer.status_code == 502
            assert "Single sign-on through 127.0.0.1 is not working now" in answer.text
            assert time.monotonic() - started < 15
