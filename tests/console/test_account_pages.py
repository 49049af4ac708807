"""The console's vendor accounts, trigger tokens, connections, SmartRecruiters and audit log pages,
over real HTTP against the stack: what each page shows, what each form changes, and what the audit
log recorded of it, as whom."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from admin.audit import Role
from store.operators import AuditQuery
from tests.support.connect import connect_company
from tests.support.console import Operator, csrf_of, new_operator, signed_in
from tests.support.http import client as http_client

SECRET = re.compile(r'<p class="secret" id="secret">([^<]+)</p>')
ACCOUNT_LINK = re.compile(r"^/console/vendor-accounts/([0-9a-f-]{36})\?done=created$")


def secret_of(page: httpx.Response) -> str:
    found = SECRET.search(page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def row_of(page: httpx.Response, text: str) -> str:
    """The table row holding `text`."""
    for row in re.findall(r"<tr>.*?</tr>", page.text, re.DOTALL):
        if text in row:
            return row
    raise AssertionError(f"no row with {text!r}")


async def changes_by(store, operator: Operator) -> list[tuple[str, str, str]]:
    """What the audit log holds of the operator's, newest first, but their sign-ins."""
    return [
        (event.action, event.via, event.outcome)
        for event in await store.operators.events(AuditQuery(operator=operator.name))
        if event.action != "sign-in"
    ]


async def test_a_vendor_account_and_a_trigger_token_made_checked_and_revoked(stack, store):
    operator = await new_operator(store)
    name = f"console {operator.name}"
    async with signed_in(stack.settings, operator) as http:
        listing = await http.get("/console/vendor-accounts")
        assert listing.status_code == 200 and "Create vendor account" in listing.text
        csrf = csrf_of(listing)

        created = await http.post(
            "/console/vendor-accounts",
            data={"csrf": csrf, "name": name, "adapter": "sandbox", "credentials": ""},
        )
        assert created.status_code == 303, created.text
        found = ACCOUNT_LINK.match(created.headers["location"])
        assert found, created.headers["location"]
        account_id = found.group(1)
        account_page = await http.get(created.headers["location"])
        assert "The vendor account was created." in account_page.text
        assert account_id in account_page.text
        listed = await http.get("/console/vendor-accounts")
        assert html.escape(name) in row_of(listed, account_id)

        # Refusals are explained on the form, and nothing is made.
        taken = await http.post(
            "/console/vendor-accounts",
            data={"csrf": csrf, "name": name, "adapter": "sandbox", "credentials": "{}"},
        )
        assert taken.status_code == 409 and "already exists" in taken.text
        assert 'role="alert"' in taken.text
        not_json = await http.post(
            "/console/vendor-accounts",
            data={"csrf": csrf, "name": f"{name} 2", "adapter": "sandbox", "credentials": "{oops"},
        )
        assert not_json.status_code == 400 and "are not JSON" in not_json.text
        assert f"{name} 2" not in [a.name for a in await store.vendor_accounts()]

        # The check calls the sandbox vendor (the stack's simulator) with the account's key.
        checked = await http.post(
            f"/console/vendor-accounts/{account_id}/check", data={"csrf": csrf}
        )
        assert checked.status_code == 200, checked.text
        assert "accepted the credentials" in checked.text and "skills-fullstack" in checked.text

        # The account's page names the fields its credentials hold (never their values), and
        # a replacement is answered by the vendor's verdict on the new credentials.
        api_key = stack.settings.sandbox_vendor_api_key.get_secret_value()
        wrong = await http.post(
            f"/console/vendor-accounts/{account_id}/credentials",
            data={"csrf": csrf, "credentials": '{"api_key": "not-the-key"}', "confirmed": "yes"},
        )
        assert "The credentials were replaced" in wrong.text and 'role="alert"' in wrong.text
        assert "accepted the credentials" not in wrong.text
        right = await http.post(
            f"/console/vendor-accounts/{account_id}/credentials",
            data={
                "csrf": csrf,
                "credentials": json.dumps({"api_key": api_key}),
                "confirmed": "yes",
            },
        )
        assert "accepted the credentials" in right.text
        page = await http.get(f"/console/vendor-accounts/{account_id}")
        assert "<code>api_key</code>" in page.text and api_key not in page.text

        issued = await http.post(
            "/console/trigger-tokens",
            data={"csrf": csrf, "vendor_account": account_id, "company_id": "", "days": "7"},
        )
        assert issued.status_code == 200, issued.text
        assert issued.headers["cache-control"] == "no-store"
        assert "cannot be shown again" in issued.text
        token = secret_of(issued)
        redeemed = await store.redeem_trigger_token(token)
        assert redeemed is not None and redeemed.vendor_account_id == account_id
        assert redeemed.expires_at is not None
        left = redeemed.expires_at - datetime.now(UTC)
        assert timedelta(days=6.9) < left <= timedelta(days=7)
        token_id = redeemed.id
        tokens = await http.get(f"/console/trigger-tokens?vendor_account={account_id}")
        assert token not in tokens.text and token_id in tokens.text
        assert ">active<" in row_of(tokens, token_id)
        assert token not in (await http.get("/console/trigger-tokens")).text

        confirm = await http.get(f"/console/trigger-tokens/{token_id}/revoke")
        assert confirm.status_code == 200 and "Confirm revoking" in confirm.text
        assert token not in confirm.text
        revoked = await http.post(f"/console/trigger-tokens/{token_id}/revoke", data={"csrf": csrf})
        assert revoked.status_code == 303
        assert revoked.headers["location"] == "/console/trigger-tokens?done=revoked"
        after = await http.get(revoked.headers["location"])
        assert "was revoked" in after.text and ">revoked<" in row_of(after, token_id)
        assert await store.redeem_trigger_token(token) is None

        # An unknown token's confirmation is a page that says so, not an error.
        unknown = await http.get(f"/console/trigger-tokens/{uuid.uuid4()}/revoke")
        assert unknown.status_code == 404 and "No trigger token" in unknown.text

        audit = await http.get(f"/console/audit?operator={operator.name}")
    assert await changes_by(store, operator) == [
        ("trigger-token.revoke", "console", "done"),
        ("trigger-token.issue", "console", "done"),
        ("vendor-account.check", "console", "done"),
        ("vendor-account.credentials", "console", "done"),
        ("vendor-account.check", "console", "failed"),
        ("vendor-account.credentials", "console", "done"),
        ("vendor-account.check", "console", "done"),
        ("vendor-account.create", "console", "refused"),
        ("vendor-account.create", "console", "done"),
    ]
    for action in ("trigger-token.revoke", "trigger-token.issue", "vendor-account.create"):
        assert action in audit.text
    assert token_id in audit.text and token not in audit.text


async def test_a_vendor_account_name_that_would_show_as_nothing_is_refused(stack, store):
    """A name of a direction override, a byte-order mark and a lone combining accent is not
    blank to Python, yet shows as nothing: the account's link would have no text to click."""
    invisible = "\u202e\ufeff\u0301"
    operator = await new_operator(store)
    async with signed_in(stack.settings, operator) as http:
        csrf = csrf_of(await http.get("/console/vendor-accounts"))
        refused = await http.post(
            "/console/vendor-accounts",
            data={"csrf": csrf, "name": invisible, "adapter": "sandbox", "credentials": ""},
        )
        assert refused.status_code == 400 and "must be printable text" in refused.text
    async with http_client(base_url=stack.settings.public_url) as api:
        answer = await api.post(
            "/admin/vendor-accounts",
            json={"name": f"{invisible} api", "adapter": "sandbox", "credentials": {}},
            headers={"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"},
        )
        assert answer.status_code == 400, answer.text
        assert "must be printable text" in answer.text
    assert not [a for a in await store.vendor_accounts() if invisible in a.name]


async def test_an_api_vendor_accounts_secret_and_keys_are_shown_once(stack, store):
    operator = await new_operator(store)
    async with signed_in(stack.settings, operator) as http:
        csrf = csrf_of(await http.get("/console/vendor-accounts"))
        created = await http.post(
            "/console/vendor-accounts",
            data={
                "csrf": csrf,
                "name": f"api {operator.name}",
                "adapter": "api",
                "credentials": '{"webhook_url": "https://vendor.example/hooks"}',
            },
        )
        assert created.status_code == 200, created.text
        assert created.headers["cache-control"] == "no-store"
        webhook_secret = secret_of(created)
        assert webhook_secret.startswith("whsec_") and "cannot be shown again" in created.text
        account_id = next(
            a.id for a in await store.vendor_accounts() if a.name == f"api {operator.name}"
        )
        page = await http.get(f"/console/vendor-accounts/{account_id}")
        assert webhook_secret not in page.text and "No API keys yet." in page.text

        issued = await http.post(
            f"/console/vendor-accounts/{account_id}/api-keys",
            data={"csrf": csrf, "label": "production"},
        )
        assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
        key = secret_of(issued)
        assert await store.vendor_api.account_of_key(key) == account_id
        page = await http.get(f"/console/vendor-accounts/{account_id}")
        assert key not in page.text
        (key_id,) = re.findall(
            rf"/console/vendor-accounts/{account_id}/api-keys/([^/]+)/revoke", page.text
        )

        confirm = await http.get(f"/console/vendor-accounts/{account_id}/api-keys/{key_id}/revoke")
        assert confirm.status_code == 200 and "Confirm revoking API key production" in confirm.text
        revoked = await http.post(
            f"/console/vendor-accounts/{account_id}/api-keys/{key_id}/revoke", data={"csrf": csrf}
        )
        assert revoked.status_code == 303
        page = await http.get(revoked.headers["location"])
        assert "The API key was revoked" in page.text and ">revoked<" in row_of(page, key_id)
        assert await store.vendor_api.account_of_key(key) is None

        # Credentials the adapter cannot use are refused, and the account keeps its own.
        unusable = await http.post(
            f"/console/vendor-accounts/{account_id}/credentials",
            data={"csrf": csrf, "credentials": '{"webhook_url": "ftp://x"}', "confirmed": "yes"},
        )
        assert unusable.status_code == 400 and "webhook_url must be an http" in unusable.text
        account = await store.vendor_account(account_id)
        assert account is not None and account.credentials["webhook_secret"] == webhook_secret
    assert await changes_by(store, operator) == [
        ("vendor-account.credentials", "console", "refused"),
        ("api-key.revoke", "console", "done"),
        ("api-key.issue", "console", "done"),
        ("vendor-account.create", "console", "done"),
    ]


async def test_a_company_disconnected_through_its_confirmation(stack, store):
    operator = await new_operator(store)
    account = await store.create_vendor_account(
        name=f"disconnect {operator.name}", adapter="sandbox", credentials={}
    )
    company = await connect_company(
        stack.settings.sr_base_url, (await store.issue_trigger_token(account.id)).token
    )
    async with signed_in(stack.settings, operator) as http:
        listing = await http.get("/console/connections")
        assert ">connected<" in row_of(listing, company)
        assert html.escape(account.name) in row_of(listing, company)

        confirm = await http.get(f"/console/connections/{company}/disconnect")
        assert confirm.status_code == 200, confirm.text
        assert "Confirm disconnecting company" in confirm.text and company in confirm.text
        assert re.search(r"<dt>Open orders</dt><dd>0</dd>", confirm.text), confirm.text
        done = await http.post(
            f"/console/connections/{company}/disconnect", data={"csrf": csrf_of(confirm)}
        )
        assert done.status_code == 303
        after = await http.get(done.headers["location"])
        assert "The company was disconnected. Open orders cancelled: 0." in after.text
        assert ">disconnected<" in row_of(after, company)

        never = await http.get("/console/connections/co-never-connected/disconnect")
        assert never.status_code == 404 and "No connection for company" in never.text
    connection = await store.connection(company)
    assert connection is not None and connection.disconnected_at is not None
    (event,) = await store.operators.events(
        AuditQuery(operator=operator.name, action="connection.disconnect")
    )
    assert (event.target, event.via, event.detail) == (
        company,
        "console",
        "0 open orders cancelled",
    )


async def test_the_smartrecruiters_page_compares_and_registers(stack, store):
    operator = await new_operator(store)
    public = stack.settings.public_url.rstrip("/")
    async with signed_in(stack.settings, operator) as http:
        page = await http.get("/console/smartrecruiters")
        assert page.status_code == 200, page.text
        assert "no differences" in page.text and ">differs<" not in page.text
        assert f"{public}/packages/orders" in page.text
        confirm = await http.get("/console/smartrecruiters/register")
        assert "Confirm registering" in confirm.text and f"{public}/oauth/token" in confirm.text
        registered = await http.post(
            "/console/smartrecruiters/register", data={"csrf": csrf_of(confirm)}
        )
        assert registered.status_code == 303
        again = await http.get(registered.headers["location"])
        assert "was registered at SmartRecruiters" in again.text and "no differences" in again.text
    assert await changes_by(store, operator) == [
        ("partner-configuration.register", "console", "done")
    ]


async def test_a_viewer_reads_every_page_and_changes_nothing(stack, store):
    viewer = await new_operator(store, Role.VIEWER)
    account = await store.create_vendor_account(
        name=f"viewed {viewer.name}", adapter="sandbox", credentials={}
    )
    token = await store.issue_trigger_token(account.id)
    pages = [
        "/console/vendor-accounts",
        f"/console/vendor-accounts/{account.id}",
        "/console/trigger-tokens",
        f"/console/trigger-tokens/{token.token_id}/revoke",
        "/console/connections",
        "/console/smartrecruiters",
        "/console/smartrecruiters/register",
        "/console/audit",
    ]
    forms = {
        "/console/vendor-accounts": {"name": f"by {viewer.name}", "adapter": "sandbox"},
        f"/console/vendor-accounts/{account.id}/credentials": {
            "credentials": "{}",
            "confirmed": "yes",
        },
        f"/console/vendor-accounts/{account.id}/api-keys": {"label": "x"},
        "/console/trigger-tokens": {"vendor_account": account.id},
        f"/console/trigger-tokens/{token.token_id}/revoke": {},
        "/console/connections/any-company/disconnect": {},
        "/console/smartrecruiters/register": {},
    }
    async with signed_in(stack.settings, viewer) as http:
        for path in pages:
            page = await http.get(path)
            assert page.status_code == 200, (path, page.text)
            assert viewer.name in page.text
        assert "Create vendor account" not in (await http.get(pages[0])).text
        csrf = csrf_of(page)
        for path, fields in forms.items():
            refused = await http.post(path, data={"csrf": csrf, **fields})
            assert refused.status_code == 403, (path, refused.text)
            assert "may read only" in refused.text
    assert await changes_by(store, viewer) == []
    assert f"by {viewer.name}" not in [a.name for a in await store.vendor_accounts()]
    assert await store.redeem_trigger_token(token.token) is not None
    assert [t.revoked_at for t in await store.trigger_tokens(account.id)] == [None]


async def test_forms_need_the_csrf_token_and_pages_a_session(stack, store):
    operator = await new_operator(store)
    account = await store.create_vendor_account(
        name=f"csrf {operator.name}", adapter="sandbox", credentials={}
    )
    token = await store.issue_trigger_token(account.id)
    async with signed_in(stack.settings, operator) as http:
        for path, fields in {
            "/console/trigger-tokens": {"vendor_account": account.id},
            f"/console/trigger-tokens/{token.token_id}/revoke": {},
            "/console/vendor-accounts": {"name": f"forged {operator.name}", "adapter": "sandbox"},
        }.items():
            forged = await http.post(path, data=fields)
            assert forged.status_code == 403 and "did not come from the console" in forged.text
    assert await store.redeem_trigger_token(token.token) is not None
    assert len(await store.trigger_tokens(account.id)) == 1
    assert await changes_by(store, operator) == []
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as http:
        for path in (
            "/console/vendor-accounts",
            f"/console/vendor-accounts/{account.id}",
            "/console/trigger-tokens",
            "/console/connections",
            "/console/smartrecruiters",
            "/console/audit?operator=x",
        ):
            answer = await http.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2F")
        anonymous = await http.post("/console/trigger-tokens", data={"vendor_account": account.id})
        assert anonymous.status_code == 303
    assert len(await store.trigger_tokens(account.id)) == 1


async def test_the_audit_log_filters_and_pages(stack, store):
    operator = await new_operator(store)
    other = await new_operator(store)
    # 52 events of one operator's (more than a page), and one of another's.
    for number in range(52):
        await store.operators.record(
            operator=operator.name,
            via="cli",
            action="trigger-token.issue",
            target=f"target-{number}",
            reason=None,
            outcome="done",
            detail=None,
        )
    await store.operators.record(
        operator=other.name,
        via="api",
        action="api-key.issue",
        target="someone else's",
        reason="because",
        outcome="done",
        detail=None,
    )
    async with signed_in(stack.settings, other) as http:
        first = await http.get(f"/console/audit?operator={operator.name}")
        assert first.status_code == 200
        rows = re.findall(r"<tr>\s*<th scope=\"row\".*?</tr>", first.text, re.DOTALL)
        assert len(rows) == 50
        assert all(f"<td>{operator.name}</td>" in row for row in rows)
        assert "target-51" in rows[0] and "target-2<" in rows[-1]
        older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', first.text)
        assert older, first.text
        second = await http.get(html.unescape(older.group(1)))
        rows = re.findall(r"<tr>\s*<th scope=\"row\".*?</tr>", second.text, re.DOTALL)
        assert len(rows) == 2 and "target-0<" in rows[-1] and 'rel="next"' not in second.text
        assert other.name not in "".join(rows)

        by_action = await http.get(f"/console/audit?operator={other.name}&action=api-key.issue")
        assert "someone else&#39;s" in by_action.text and "because" in by_action.text
        bad = await http.get("/console/audit?since=yesterday&action=nothing")
        assert bad.status_code == 400
        assert "Since must be a date" in bad.text and "Action must be one of" in bad.text
        today = await http.get(
            f"/console/audit?operator={other.name}&since=2000-01-01&until=2000-01-02"
        )
        assert "No events match the filter." in today.text
