"""The console as an attacker meets it, over real HTTP against the stack: with no account, with a
viewer's, with an operator's, and through a page of their own that a signed-in operator visits.

Each test names what it guards: forged forms and sign-ins, sessions that must end, guessing
passwords (in parallel too), telling operators' names apart, stalling the API through the sign-in
form, and hand-made input, markup and redirects that must stay harmless.
"""

from __future__ import annotations

import asyncio
import html
import re
import secrets
import statistics
import time
from typing import Any

import httpx
import pytest

from admin import identity
from admin.audit import Actor, Role
from admin.identity import Identities, IdentityError
from api import console
from store.operators import AuditQuery
from tests.support.console import FORM_TOKEN, Operator, csrf_of, new_operator, sign_in, signed_in
from tests.support.http import client as http_client

WRONG = "Wrong name or password."
# The POSTs a viewer may send: they change nothing (sign-in has a guard of its own).
READS_BY_POST = ("/console/orders/find", "/console/vendor-accounts/{vendor_account_id}/check")


def _browser(settings) -> httpx.AsyncClient:
    return http_client(base_url=settings.public_url, follow_redirects=False)


def console_posts() -> list[str]:
    """Every route of the console that takes a POST but the sign-in form, from its routers, so a
    route added later is swept too."""
    paths = [
        "/console" + route.path
        for module in console.PAGES
        for route in module.router.routes
        if "POST" in (getattr(route, "methods", None) or ())
    ]
    assert "/console/trigger-tokens" in paths and "/console/orders/bulk-repairs" in paths
    return [path for path in paths if path != "/console/sign-in"]


def filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "nothing-here", path)


async def _form_token(http: httpx.AsyncClient) -> str:
    found = FORM_TOKEN.search((await http.get("/console/sign-in")).text)
    assert found
    return found.group(1)


async def _sign_in_events(store, name: str) -> list:
    """The operator's sign-in events, oldest first."""
    return list(reversed(await store.operators.events(AuditQuery(target=name, action="sign-in"))))


# --- forged forms -------------------------------------------------------------------------------


async def test_every_form_needs_the_csrf_token_of_its_own_session(stack, store):
    """A token missing, or one from another operator's session (the attacker's own, say), is
    refused on every POST route, before anything is looked up or changed."""
    attacker = await new_operator(store)
    victim = await new_operator(store)
    async with signed_in(stack.settings, attacker) as theirs:
        attackers_csrf = csrf_of(await theirs.get("/console"))
    async with signed_in(stack.settings, victim) as http:
        victims_csrf = csrf_of(await http.get("/console"))
        assert victims_csrf != attackers_csrf
        for path in console_posts():
            for fields in ({}, {"csrf": attackers_csrf}, {"csrf": ""}):
                forged = await http.post(filled(path), data={**fields, "reason": "Forged here"})
                assert forged.status_code == 403, (path, fields, forged.text)
                assert "did not come from the console" in forged.text
        assert (await http.get("/console")).status_code == 200  # not signed out by a forgery
    events = await store.operators.events(AuditQuery(operator=victim.name))
    assert [e.action for e in events] == ["sign-in"]


async def test_sign_in_cannot_be_forced_from_elsewhere_nor_a_planted_cookie_survive_it(
    stack, store
):
    attacker = await new_operator(store, Role.VIEWER)
    victim = await new_operator(store)
    async with _browser(stack.settings) as theirs, _browser(stack.settings) as browser:
        # Login CSRF: the attacker's page posts the attacker's name, password and their own
        # form token from the victim's browser, which holds a sign-in cookie of its own or none.
        token = await _form_token(theirs)
        for cookies_first in (False, True):
            if cookies_first:
                await browser.get("/console/sign-in")
            forced = await browser.post(
                "/console/sign-in",
                data={"name": attacker.name, "password": attacker.password, "form_token": token},
            )
            assert forced.status_code == 403 and "console_session" not in str(forced.headers)
        # Session fixation: a cookie the attacker planted (their own valid session) before the
        # victim signs in is replaced, and still names the attacker only.
        assert (await sign_in(theirs, attacker.name, attacker.password)).status_code == 303
        planted = theirs.cookies["console_session"]
        for cookie in theirs.cookies.jar:  # as the server set it: same domain and path
            if cookie.name == "console_session":
                browser.cookies.jar.set_cookie(cookie)
        assert attacker.name in (await browser.get("/console")).text
        signed = await sign_in(browser, victim.name, victim.password)
        assert signed.status_code == 303
        assert signed.cookies["console_session"] not in ("", planted)
        assert victim.name in (await browser.get("/console")).text
        with_planted = await theirs.get("/console")
        assert attacker.name in with_planted.text and victim.name not in with_planted.text


async def test_next_never_leads_off_the_console(stack, store):
    operator = await new_operator(store)
    ours = httpx.URL(stack.settings.public_url)
    async with _browser(stack.settings) as http:
        for wanted in (
            "//evil.example/console",
            "https://evil.example/console",
            "/\\evil.example",
            "/console\\..\\..\\evil.example",
            "javascript:alert(1)//console",
            " //evil.example",
            "/console/../..//evil.example",
            "/%2F%2Fevil.example",
        ):
            answer = await sign_in(http, operator.name, operator.password, wanted)
            assert answer.status_code == 303, wanted
            went = ours.join(answer.headers["location"])
            assert (went.scheme, went.host, went.port) == (ours.scheme, ours.host, ours.port)
            assert answer.headers["location"].startswith("/console"), wanted
            sso = await http.get("/console/sign-in/oidc", params={"next": wanted})
            assert sso.status_code == 404 and "evil.example" not in sso.headers.get("location", "")


# --- sessions -----------------------------------------------------------------------------------


async def test_no_session_outlives_a_disable_a_role_change_or_a_new_password(stack, store):
    """A new password is what an operator gets when theirs leaked: whoever signed in with the old
    one must be signed out too, as a disable or a new role signs everyone out."""
    identities = Identities(store, stack.settings)
    cli = Actor.command_line()
    operator = await new_operator(store)
    new_password = "an-entirely-new-password"
    changes: dict[str, dict[str, Any]] = {
        "a new role": {"role": Role.VIEWER},
        "a new password": {"password": new_password},
        "a disable": {"disabled": True},
    }
    for what, change in changes.items():
        async with signed_in(stack.settings, operator) as http:
            page = await http.get("/console")
            assert page.status_code == 200
            csrf = csrf_of(page)
            await identities.change(operator.name, cli, **change)
            after = await http.get("/console")
            assert after.status_code == 303, f"the session outlived {what}"
            forged = await http.post("/console/trigger-tokens", data={"csrf": csrf})
            assert forged.status_code == 303  # to the sign-in page: no session any more
        if "password" in change:
            operator = Operator(operator.name, new_password, operator.role)


# --- guessing passwords -------------------------------------------------------------------------


async def test_wrong_passwords_sent_at_once_lock_the_operator_out_all_the_same(stack, store):
    """Sent in parallel, a dozen wrong passwords each count: the lockout comes after five, and a
    right password evaluated after it is refused like the others."""
    operator = await new_operator(store)
    failures = stack.settings.console_lockout_failures
    async with _browser(stack.settings) as http:
        token = await _form_token(http)

        async def attempt(password: str) -> httpx.Response:
            return await http.post(
                "/console/sign-in",
                data={"name": operator.name, "password": password, "form_token": token},
            )

        wrong = [attempt(f"wrong-password-{n}") for n in range(2 * failures + 2)]
        answers = await asyncio.gather(*wrong, attempt(operator.password))
        assert {a.status_code for a in answers[:-1]} == {401}
        events = await _sign_in_events(store, operator.name)
        locks = [n for n, e in enumerate(events) if e.detail and "now locked out" in e.detail]
        assert locks, [(e.outcome, e.detail) for e in events]
        assert all(e.outcome == "refused" for e in events[locks[0] :])
        # Locked: the right password is refused, and so are its name's variants (no operator).
        for name in (
            operator.name,
            operator.name.upper(),
            f" {operator.name}",
            f"{operator.name} ",
        ):
            again = await sign_in(http, name, operator.password)
            assert again.status_code == 401 and WRONG in again.text, name


async def test_a_failed_sign_in_is_recorded_as_nobodys_doing(stack, store):
    """Whoever types an operator's name with a wrong password is not that operator: the audit
    log's operator column names only operators the hub authenticated."""
    operator = await new_operator(store)
    async with _browser(stack.settings) as http:
        assert (await sign_in(http, operator.name, "not-the-password")).status_code == 401
    [event] = await _sign_in_events(store, operator.name)
    assert (event.outcome, event.detail) == ("refused", "wrong password")
    assert (event.operator, event.via) == (identity.UNAUTHENTICATED, "console")
    assert await store.operators.events(AuditQuery(operator=operator.name)) == []


async def test_sign_in_attempts_never_stall_the_api(stack):
    """Each attempt costs an Argon2 hash (a fraction of a second of CPU): computed on the event
    loop, a burst from one address would hold up every other request of the API meanwhile."""
    async with _browser(stack.settings) as http:
        token = await _form_token(http)
        started = time.monotonic()
        burst = asyncio.gather(
            *(
                http.post(
                    "/console/sign-in",
                    data={
                        "name": f"nobody-{secrets.token_hex(4)}",
                        "password": "a-wrong-password",
                        "form_token": token,
                    },
                )
                for _ in range(10)
            )
        )
        waits = []
        while not burst.done():
            asked = time.monotonic()
            assert (await http.get("/healthz")).status_code == 200
            waits.append(time.monotonic() - asked)
            await asyncio.sleep(0.02)
        assert {a.status_code for a in await burst} == {401}
        took = time.monotonic() - started
    # On the event loop, most asks wait for a hash; off it, for nothing.
    typical = statistics.median(waits)
    assert typical < took / 40, f"/healthz waited {typical:.3f} s of the burst's {took:.2f} s"


async def test_a_wrong_name_and_a_wrong_password_take_as_long_on_a_slow_store(
    stack, store, monkeypatch
):
    """A known name's refusal writes to the store (its count, the audit log), an unknown one's
    does not: the refusal must not answer sooner for the unknown name, or its timing names the
    operators. The store is made slow here, so that the difference would show."""
    identities = Identities(store, stack.settings)
    operator = await new_operator(store)
    # The hash, as long every time (a sleep: a loaded machine's CPU does not blur it), and the
    # store slow, within the hash's own time (the most a refusal may be held back by).
    hashing, delay = 0.2, 0.12

    def steady_verify(hashed: str, password: str) -> bool:
        time.sleep(hashing)
        return False

    monkeypatch.setattr(identity, "_verify", steady_verify)
    record = store.operators.record

    async def slow_record(**event):
        await asyncio.sleep(delay)
        return await record(**event)

    monkeypatch.setattr(store.operators, "record", slow_record)

    async def refusal(name: str) -> float:
        began = time.monotonic()
        with pytest.raises(IdentityError):
            await identities.sign_in(name, "not-the-password")
        return time.monotonic() - began

    known, unknown = [], []
    for _ in range(5):
        known.append(await refusal(operator.name))
        unknown.append(await refusal(f"nobody-{secrets.token_hex(4)}"))
    assert abs(min(known) - min(unknown)) < delay / 2, (known, unknown, delay)


# --- hostile input ------------------------------------------------------------------------------


async def test_hand_made_input_is_a_page_never_a_500(stack, store):
    operator = await new_operator(store)
    odd = ("x" * 3000, "\u202e\ufeff\u0301", "%", "<b>", "a'b\"c", "\U0001f600", "..")
    async with signed_in(stack.settings, operator) as http:
        csrf = csrf_of(await http.get("/console"))
        urls = [
            "/console/audit?until=9999-12-31",
            "/console/audit?since=9999-12-31&until=9999-12-31",
            "/console/audit?since=0001-01-01&until=0001-01-01",
            "/console/audit?before=999999999999999999",
            "/console/orders?page_token=not-a-page&limit=0",
            "/console/orders?older_than=99999999999d&expiring_within=1e308&stuck_for=nan",
        ]
        for value in odd:
            urls.extend(
                path.replace("{}", value)
                for path in (
                    "/console/orders/{}",
                    "/console/vendor-accounts/{}",
                    "/console/vendor-accounts/{}/api-keys/{}/revoke",
                    "/console/trigger-tokens/{}/revoke",
                    "/console/connections/{}/disconnect",
                )
            )
            urls.append(f"/console/trigger-tokens?vendor_account={value}")
            urls.append(f"/console/audit?operator={value[:64]}&target={value[:400]}")
        for url in urls:
            answer = await http.get(url)
            assert answer.status_code < 500, (url[:80], answer.text[:300])
        for value in (*odd, "\x00", "1e400", "nan", "-inf"):
            for path, fields in (
                ("/console/trigger-tokens", {"vendor_account": value[:100], "days": value[:20]}),
                ("/console/vendor-accounts", {"name": value[:200], "adapter": "sandbox"}),
                ("/console/orders/find", {"by": "any", "value": value[:320]}),
                ("/console/orders/bulk-repairs", {"kind": "cancel", "company": value[:200]}),
                ("/console/orders/abc/repairs/extend-deadline/confirm", {"days": value[:32]}),
            ):
                answer = await http.post(
                    path, data={"csrf": csrf, "reason": "A good reason", **fields}
                )
                assert answer.status_code < 500, (path, value[:20], answer.text[:300])


async def test_markup_from_names_records_and_filters_is_shown_as_text(stack, store):
    operator = await new_operator(store)
    markup = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
    account = await store.create_vendor_account(
        name=f"{markup} {operator.name}", adapter="sandbox", credentials={}
    )
    await store.operators.record(
        operator=operator.name,
        via="admin-key",
        action="order.repair",
        target=markup,
        reason=markup,
        outcome="refused",
        detail=markup,
    )
    async with signed_in(stack.settings, operator) as http:
        for url in (
            "/console/vendor-accounts",
            f"/console/vendor-accounts/{account.id}",
            "/console/trigger-tokens",
            f"/console/audit?operator={operator.name}",
            f"/console/orders?company={markup}&package={markup}",
            f"/console/audit?target={markup}&operator={markup[:60]}",
        ):
            page = await http.get(url)
            assert page.status_code in (200, 400), url
            assert "<script>" not in page.text and "<img" not in page.text, url
            assert html.escape("<script>alert(1)</script>") in page.text, url


async def test_a_viewer_changes_nothing_through_any_form_or_their_admin_key(stack, store):
    viewer = await new_operator(store, Role.VIEWER)
    key = await Identities(store, stack.settings).issue_key(
        viewer.name, "hostile", Actor.command_line()
    )
    async with signed_in(stack.settings, viewer) as http:
        csrf = csrf_of(await http.get("/console"))
        for path in console_posts():
            if path in (*READS_BY_POST, "/console/sign-out"):
                continue
            fields = {"csrf": csrf, "reason": "A good reason", "kind": "cancel", "open": "true"}
            refused = await http.post(filled(path), data=fields)
            assert refused.status_code == 403 and "may read only" in refused.text, path
    as_viewer = {"Authorization": f"Bearer {key.key}"}
    async with http_client(base_url=stack.settings.public_url) as api:
        bulk = await api.post(
            "/admin/orders/bulk-repairs/cancel",
            headers=as_viewer,
            json={"reason": "Only a dry run", "open": True},
        )
        assert bulk.status_code == 403 and "read only" in bulk.json()["message"]
        # The codec reads (a viewer reads orders' pages too); a change it is not.
        codec = await api.post("/codec/encode", headers=as_viewer, json={"payloads": []})
        assert codec.status_code == 200, codec.text
    changes = [
        e
        for e in await store.operators.events(AuditQuery(operator=viewer.name))
        if e.action != "sign-in"
    ]
    assert changes == []


async def test_console_pages_are_never_framed_nor_cached(stack, store):
    operator = await new_operator(store)
    account = await store.create_vendor_account(
        name=f"framed {operator.name}", adapter="sandbox", credentials={}
    )
    async with signed_in(stack.settings, operator) as http:
        csrf = csrf_of(await http.get("/console"))
        answers = [
            await http.get("/console"),
            await http.get("/console/sign-in"),
            await http.get("/console/orders/no-such-order"),
            # A secret's one showing.
            await http.post(
                "/console/trigger-tokens", data={"csrf": csrf, "vendor_account": account.id}
            ),
        ]
    for answer in answers:
        assert answer.headers["content-type"].startswith("text/html"), answer.url
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "script-src" not in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store", answer.url
    assert "tt_" in answers[-1].text or 'id="secret"' in answers[-1].text
