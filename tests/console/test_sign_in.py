"""Operators sign in to the console with their own name and password; sessions, CSRF, lockout,
and the admin API's per-operator keys and roles."""

from __future__ import annotations

from admin.audit import Role
from admin.identity import Identities
from store.operators import AuditQuery
from tests.support.console import csrf_of, new_operator, sign_in, signed_in
from tests.support.http import client as http_client


async def test_a_page_without_a_session_asks_to_sign_in_and_comes_back_after(stack, store):
    operator = await new_operator(store)
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as http:
        answer = await http.get("/console?from=mail")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole%3Ffrom%3Dmail"
        form = await http.get(answer.headers["location"])
        # The test stack runs on the repository's embedded secrets, as `make run` does.
        assert "Its banner printed the operator" in form.text
        assert 'value="/console?from=mail"' in form.text
        signed = await sign_in(http, operator.name, operator.password, "/console?from=mail")
        assert signed.status_code == 303 and signed.headers["location"] == "/console?from=mail"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        page = await http.get("/console")
        assert page.status_code == 200 and operator.name in page.text
        assert page.headers["cache-control"] == "no-store"


async def test_a_wrong_password_and_an_unknown_name_read_alike_and_lock_out_after_five(
    stack, store
):
    operator = await new_operator(store)
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as http:
        unknown = await sign_in(http, "nobody-at-all", "whatever-password")
        wrong = await sign_in(http, operator.name, "not-the-password")
        assert unknown.status_code == wrong.status_code == 401
        message = "Wrong name or password."
        assert message in unknown.text and message in wrong.text
        for _ in range(stack.settings.console_lockout_failures - 1):
            await sign_in(http, operator.name, "not-the-password")
        # Locked: the right password is refused too, in the same words.
        locked = await sign_in(http, operator.name, operator.password)
        assert locked.status_code == 401 and message in locked.text
    events = await store.operators.events(AuditQuery(target=operator.name, action="sign-in"))
    assert [e.outcome for e in events][:2] == ["refused", "refused"]
    assert events[0].detail == "locked out" and "now locked out" in events[1].detail
    # A new password (the CLI's) unlocks.
    await Identities(store, stack.settings).change(
        operator.name, Identities_actor(), password="a-brand-new-password"
    )
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as http:
        assert (await sign_in(http, operator.name, "a-brand-new-password")).status_code == 303


def Identities_actor():
    from admin.audit import Actor

    return Actor.command_line()


async def test_a_sign_in_form_from_elsewhere_is_refused(stack, store):
    operator = await new_operator(store)
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as http:
        forged = await http.post(
            "/console/sign-in",
            data={"name": operator.name, "password": operator.password, "form_token": "x"},
        )
        # Refused, and no session: at most the sign-in form's own cookie comes back.
        assert forged.status_code == 403
        assert "console_session" not in forged.headers.get("set-cookie", "")
        assert (await http.get("/console")).status_code == 303


async def test_sign_out_needs_the_sessions_csrf_token_and_ends_the_session(stack, store):
    operator = await new_operator(store)
    async with signed_in(stack.settings, operator) as http:
        page = await http.get("/console")
        forged = await http.post("/console/sign-out", data={"csrf": "0" * 64})
        assert forged.status_code == 403
        assert (await http.get("/console")).status_code == 200  # still signed in
        token = http.cookies["console_session"]
        out = await http.post("/console/sign-out", data={"csrf": csrf_of(page)})
        assert out.status_code == 303
        # The old cookie, replayed, no longer signs anyone in.
        http.cookies.set("console_session", token)
        assert (await http.get("/console")).status_code == 303


async def test_the_admin_api_takes_an_operators_own_key_and_a_viewers_only_reads(stack, store):
    identities = Identities(store, stack.settings)
    viewer = await new_operator(store, Role.VIEWER)
    operator = await new_operator(store)
    by = Identities_actor()
    viewer_key = (await identities.issue_key(viewer.name, "test", by)).key
    operator_key = (await identities.issue_key(operator.name, "test", by)).key
    async with http_client(base_url=stack.settings.public_url) as http:
        as_viewer = {"Authorization": f"Bearer {viewer_key}"}
        assert (await http.get("/admin/vendor-accounts", headers=as_viewer)).status_code == 200
        refused = await http.post(
            "/admin/orders/some-order/repairs/cancel",
            headers=as_viewer,
            json={"reason": "trying my luck"},
        )
        assert refused.status_code == 403 and "read only" in refused.json()["message"]
        as_operator = {"Authorization": f"Bearer {operator_key}"}
        account = await http.post(
            "/admin/vendor-accounts",
            headers=as_operator,
            json={"name": f"of {operator.name}", "adapter": "sandbox", "credentials": {}},
        )
        assert account.status_code == 201, account.text
        account_id = account.json()["id"]
        issued = await http.post(
            f"/admin/vendor-accounts/{account_id}/trigger-tokens", headers=as_operator
        )
        assert issued.status_code == 201
        revoked_key = await identities.revoke_key(
            (await store.operators.keys(operator.name))[0].id, by
        )
        assert revoked_key.revoked_at is not None
        again = await http.get(
            "/admin/vendor-accounts", headers={"Authorization": f"Bearer {operator_key}"}
        )
        assert again.status_code == 401
    events = await store.operators.events(AuditQuery(operator=operator.name))
    assert [(e.action, e.via, e.target, e.outcome) for e in events] == [
        ("trigger-token.issue", "api", account_id, "done"),
        ("vendor-account.create", "api", f"of {operator.name}", "done"),
    ]
