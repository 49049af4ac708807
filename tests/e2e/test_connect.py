"""Connect end to end: SR's admin opens our consent page, enters a token,
the company is connected."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from smartrecruiters.client import smartrecruiters_client
from store import ConnectionState, Store
from tests.support.connect import disconnect_checked, fill_in_consent
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import serve
from tests.support.waiting import eventually
from workflows.order import AssessmentOrderWorkflow

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

# How SR behaves where its record is silent: the consent redirect's origin, how it presents its
# credentials at our token endpoint, how it fills ids into our registered URLs.
CONNECT_VARIANTS = [
    {"consent_redirect": "simulator", "token_auth": "form", "url_expansion": "placeholder"},
    {"consent_redirect": "web", "token_auth": "basic", "url_expansion": "append"},
]


@pytest.mark.parametrize("variants", CONNECT_VARIANTS, ids=lambda v: "-".join(v.values()))
async def test_admin_connects_a_company_with_an_external_trigger_token(
    world, store, registered, trigger_token, temporal, variants
):
    await world.sr_variants(**variants)
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    assert consent["consent_url"].startswith(registered["consentUrl"] + "?companyId=" + company_id)

    async with http_client(timeout=30, follow_redirects=True) as admin:
        done = await fill_in_consent(
            admin, consent["consent_url"], trigger_token, "admin@example.com"
        )
        assert done.status_code == 200 and "is connected" in done.text
        back = re.search(r'id="return" href="([^"]+)"', done.text).group(1).replace("&amp;", "&")
        if (
            variants["consent_redirect"] == "web"
        ):  # back to SR's web app, which is not simulated here
            assert back.startswith("https://www.smartrecruiters.com/")
        else:
            assert "is connected" in (await admin.get(back)).text  # SR's own page agrees

        # The same form posted again (a replay, or a double click) connects nothing twice.
        again = await fill_in_consent(
            admin, consent["consent_url"], trigger_token, "admin@example.com"
        )
        assert again.status_code == 400 and "already connected" in again.text

    connection = await store.connection(company_id)
    assert (
        connection.state == ConnectionState.CONNECTED
        and connection.consent_email == "admin@example.com"
    )
    assert await store.smartrecruiters_credentials(company_id) is not None
    [company] = [
        c
        for c in (await world.http.get(f"{world.sr}/__sim/companies")).json()
        if c["company_id"] == company_id
    ]
    assert company["integrated"] is True

    # SR now calls us with that company's credentials: a token, then the catalog.
    packages = await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": company_id})
    assert packages.status_code == 200 and {p["id"] for p in packages.json()} >= {
        "skills-fullstack",
        "background-standard",
    }
    # One package, at singleAssessmentPackageUrl as SR fills it in.
    package = (
        await world.http.get(
            f"{world.sr}/__sim/packages/skills-fullstack", params={"company_id": company_id}
        )
    ).json()
    assert package["partner_status"] == 200 and package["partner_body"]["id"] == "skills-fullstack"

    # An order of that company reaches the candidate, and its result is posted with the
    # company's own SR-issued credentials (SR refuses another company's credentials).
    placed = await world.order("skills-fullstack", company_id=company_id)
    assert placed["partner_status"] == 202
    await world.sr_status_becomes(placed["order_id"], "PENDING")
    await world.at_vendor("complete", placed["order_id"], score=90)
    done = await world.sr_status_becomes(placed["order_id"], "COMPLETED")
    assert len(done["attachments"]) == 1
    # The vendor's reference leads back to the order (for account-level vendor webhooks).
    state = await temporal.get_workflow_handle(order_workflow_id(placed["order_id"])).query(
        AssessmentOrderWorkflow.state
    )
    assert (
        await store.order_for_vendor_reference(
            connection.vendor_account_id, state.invitation.vendor_ref
        )
        == f"{placed['order_id']}:{company_id}"
    )


async def test_smartrecruiters_refusing_the_connection_leaves_nothing_behind(
    world, store, registered, trigger_token
):
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    # No consent given at SR: SR answers 403 to our integration call.
    consent_url = f"{registered['consentUrl']}?companyId={company_id}"
    async with http_client(timeout=30) as admin:
        refused = await fill_in_consent(admin, consent_url, trigger_token, "admin@example.com")
    assert refused.status_code == 400 and "no consent" in refused.text
    assert await store.connection(company_id) is None


async def test_smartrecruiters_down_during_connect_can_be_retried(
    world, store, registered, trigger_token
):
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    (
        await world.http.post(
            f"{world.sr}/__sim/faults",
            json={"status": 503, "count": 1, "path_contains": f"/integration/company/{company_id}"},
        )
    ).raise_for_status()
    async with http_client(timeout=30) as admin:
        failed = await fill_in_consent(
            admin, consent["consent_url"], trigger_token, "admin@example.com"
        )
        assert failed.status_code == 400 and "Nothing was changed" in failed.text
        assert await store.connection(company_id) is None
        retried = await fill_in_consent(
            admin, consent["consent_url"], trigger_token, "admin@example.com"
        )
    assert retried.status_code == 200 and "is connected" in retried.text


async def test_a_companys_credentials_cannot_order_for_another_company(stack, store):
    account = await store.create_vendor_account(
        name=f"sandbox-{uuid.uuid4().hex[:8]}", adapter="sandbox", credentials={}
    )
    client_id, secret = await connected_directly(
        store, account.id, f"company-a-{uuid.uuid4().hex[:6]}"
    )
    async with http_client(base_url=stack.settings.public_url) as sr:
        token = (
            await sr.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
        ).json()
        order_id = str(uuid.uuid4())
        body = {
            "resultCallbackURL": f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{order_id}/results",
            "assessmentPackageId": "skills-fullstack",
            "companyId": "company-b",
            "jobId": "j",
            "candidate": {"email": "c@example.com", "firstName": "C", "lastName": "D"},
            "job": {"id": "j"},
        }
        response = await sr.post(
            "/packages/orders",
            json=body,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "variants",
    [
        {
            "disconnect_auth": "bearer",
            "disconnect_revokes": "after-delete",
            "url_expansion": "placeholder",
        },
        {
            "disconnect_auth": "none",
            "disconnect_revokes": "after-delete",
            "url_expansion": "placeholder",
        },
        {
            "disconnect_auth": "none",
            "disconnect_revokes": "before-delete",
            "url_expansion": "append",
        },
        {
            "disconnect_auth": "bearer",
            "disconnect_revokes": "before-delete",
            "url_expansion": "append",
        },
    ],
    ids=lambda v: "-".join(v.values()),
)
async def test_disconnect_ends_open_orders_and_revokes_the_companys_credentials(
    world, store, registered, trigger_token, temporal, variants
):
    await world.sr_variants(**variants)
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    async with http_client(timeout=30) as admin:
        assert (
            await fill_in_consent(admin, consent["consent_url"], trigger_token, "admin@example.com")
        ).status_code == 200
    placed = await world.order("skills-fullstack", company_id=company_id)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")

    async def listed():  # the disconnect finds open orders through visibility
        return [
            w
            async for w in temporal.list_workflows(
                f'SmartRecruitersCompany = "{company_id}" AND ExecutionStatus = "Running"'
            )
        ]

    await eventually(listed, what="the open order in Temporal visibility")
    disconnected = (
        await world.http.post(f"{world.sr}/__sim/companies/{company_id}/disconnect")
    ).json()
    assert disconnected["partner_status"] == 204

    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    with pytest.raises(
        WorkflowFailureError
    ):  # bare, only once SR refuses the company's credentials
        await asyncio.wait_for(handle.result(), timeout=60)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    email = await world.invitation_email(order_id)
    assert "withdrawn" in (await world.http.get(email["link"])).text
    assert (await store.connection(company_id)).state == ConnectionState.DISCONNECTED
    # SR heard nothing after the disconnect:
    # the company's results endpoint is no longer ours to use.
    assert [p["status"] for p in (await world.sr_order(order_id))["patches"]] == ["PENDING"]


async def test_a_connected_company_orders_from_its_own_vendor_account(
    world, store, registered, stack
):
    """The account's credentials and package settings apply, not the embedded default's."""
    wrong_key = await store.create_vendor_account(
        name=f"bad-key-{uuid.uuid4().hex[:6]}",
        adapter="sandbox",
        credentials={"api_key": "not-the-key"},
    )
    token = (await store.issue_trigger_token(wrong_key.id)).token
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    async with http_client(timeout=30) as admin:
        assert (
            await fill_in_consent(admin, consent["consent_url"], token, "admin@example.com")
        ).status_code == 200
    # The vendor refuses that account's key: this company sees no catalog, the others still do.
    assert (
        await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": company_id})
    ).status_code == 502
    assert (await world.http.get(f"{world.sr}/__sim/packages")).status_code == 200


async def test_the_vendor_accounts_package_deadline_applies(world, registered, trigger_token):
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    async with http_client(timeout=30) as admin:
        assert (
            await fill_in_consent(admin, consent["consent_url"], trigger_token, "admin@example.com")
        ).status_code == 200
    placed = await world.order("logic-quiz", company_id=company_id)
    done = await world.sr_status_becomes(placed["order_id"], "EXPIRED", timeout=40)
    assert (
        done["result"]["summary"]
        == "The candidate did not complete the assessment within 6 seconds."
    )


async def test_smartrecruiters_saying_already_integrated_is_explained(
    world, registered, trigger_token, stack
):
    """The company is integrated at SR already (say, set up before): SR answers 409."""
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    settings = stack.settings
    master = smartrecruiters_client(
        settings,
        settings.sr_master_client_id,
        settings.sr_master_client_secret.get_secret_value(),
        None,  # the test's own calls, outside the service's limits
    )
    await master.integrate_company(company_id, "earlier-client", "earlier-secret")
    await master.aclose()
    async with http_client(timeout=30) as admin:
        refused = await fill_in_consent(
            admin, consent["consent_url"], trigger_token, "admin@example.com"
        )
    assert (
        refused.status_code == 400
        and "already connected" in refused.text
        and "Disconnect it in SmartRecruiters" in refused.text
    )


async def test_an_empty_catalog_is_no_content(stack, store):
    """A vendor account whose vendor offers nothing: SR gets 204, as the spec says."""
    empty_vendor = FastAPI()

    @empty_vendor.get("/api/packages")
    async def no_packages() -> list:
        return []

    with serve(empty_vendor) as vendor_url:
        account = await store.create_vendor_account(
            name=f"empty-{uuid.uuid4().hex[:6]}",
            adapter="sandbox",
            credentials={"api_key": "k", "base_url": vendor_url},
        )
        client_id, secret = await connected_directly(
            store, account.id, f"co-{uuid.uuid4().hex[:8]}"
        )
        async with http_client(base_url=stack.settings.public_url) as sr:
            token = (
                await sr.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": client_id,
                        "client_secret": secret,
                    },
                )
            ).json()
            packages = await sr.get(
                "/packages", headers={"Authorization": f"Bearer {token['access_token']}"}
            )
    assert packages.status_code == 204 and packages.content == b""


async def a_connected_companys_bearer(
    store: Store, sr: httpx.AsyncClient, company_id: str
) -> tuple[dict, str, str]:
    """A company connected straight in the store to a new sandbox account: a bearer token of its,
    and the partner credentials it was issued for."""
    account = await store.create_vendor_account(
        name=f"sandbox-{uuid.uuid4().hex[:8]}", adapter="sandbox", credentials={}
    )
    client_id, secret = await connected_directly(store, account.id, company_id)
    token = (
        await sr.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}, client_id, secret


async def connected_directly(
    store: Store, vendor_account_id: str, company_id: str
) -> tuple[str, str]:
    """A company connected straight in the store, with partner credentials the test knows."""
    issued = await store.issue_trigger_token(vendor_account_id)
    client_id, secret = Store.mint_partner_credentials()
    await store.complete_connection(
        company_id=company_id,
        vendor_account_id=vendor_account_id,
        trigger_token_id=issued.token_id,
        consent_email="a@example.com",
        partner_client_id=client_id,
        partner_client_secret=secret,
        sr_client_id=f"sr-{company_id}",
        sr_client_secret="sr-secret",
    )
    return client_id, secret


async def test_a_disconnect_ends_the_companys_tokens_at_once(stack, store):
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    async with http_client(base_url=stack.settings.public_url) as sr:
        bearer, client_id, secret = await a_connected_companys_bearer(store, sr, company_id)
        # A token of another company proves nothing about this one: answered like any bare call.
        other = await sr.delete(f"/integrations/companies/other-{company_id}", headers=bearer)
        assert (other.status_code, other.content) == (204, b"")
        assert (await sr.get("/packages", headers=bearer)).status_code == 200
        assert (
            await sr.delete(f"/integrations/companies/{company_id}", headers=bearer)
        ).status_code == 204
        # The token is an hour from expiry, yet nothing answers it any more.
        assert (await sr.get("/packages", headers=bearer)).status_code == 401
        again = await sr.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_client"


async def test_a_bare_delete_does_not_disconnect_a_company_whose_credentials_sr_still_honours(
    world, store, registered, trigger_token, temporal, stack
):
    """Anyone can send the DELETE (SR's spec gives it no security): it needs SR's evidence."""
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    async with http_client(timeout=30) as admin:
        assert (
            await fill_in_consent(admin, consent["consent_url"], trigger_token, "admin@example.com")
        ).status_code == 200
    unknown = f"co-{uuid.uuid4().hex[:8]}"
    async with http_client(base_url=stack.settings.public_url, timeout=30) as attacker:
        answers = [
            await attacker.delete(f"/integrations/companies/{company_id}"),
            await attacker.delete(
                f"/integrations/companies/{company_id}", headers={"Authorization": "Bearer forged"}
            ),
            await attacker.delete(f"/integrations/companies/%7BcompanyId%7D/{company_id}"),
            await attacker.delete(f"/integrations/companies/{unknown}"),
            await attacker.delete(f"/integrations/companies/{unknown}"),
        ]
    # Connected or unknown, once or again: the same answer, so nothing is learnt from it.
    assert {(a.status_code, a.content, a.headers.get("content-type")) for a in answers} == {
        (204, b"", None)
    }

    await disconnect_checked(temporal, company_id)  # SR still honours the company's credentials
    assert (await store.connection(company_id)).state == ConnectionState.CONNECTED
    placed = await world.order("skills-fullstack", company_id=company_id)
    assert placed["partner_status"] == 202
    await world.sr_status_becomes(placed["order_id"], "PENDING")
    # The unknown company's check found nothing to do, and left nothing behind.
    unknown_check = temporal.get_workflow_handle(f"company-disconnect-check:{unknown}")
    assert await asyncio.wait_for(unknown_check.result(), timeout=30) == "not connected"
    assert await store.connection(unknown) is None

    # SR then really disconnects it, bare: the running check asks again at once.
    await world.sr_variants(disconnect_auth="none")
    assert (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/disconnect")).json()[
        "partner_status"
    ] == 204
    handle = temporal.get_workflow_handle(order_workflow_id(placed["order_id"]))
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(handle.result(), timeout=60)
    assert (await store.connection(company_id)).state == ConnectionState.DISCONNECTED


async def test_registered_urls_answer_every_expansion(stack, store):
    """singleAssessmentPackageUrl and integrationDisableUrl: id in place of the placeholder,
    appended after it (braces encoded or not), or appended to an older id-less registration."""
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    async with http_client(base_url=stack.settings.public_url) as sr:
        bearer, _, _ = await a_connected_companys_bearer(store, sr, company_id)
        for path in (
            "/packages/skills-fullstack",
            "/packages/{assessmentPackageId}/skills-fullstack",
            "/packages/%7BassessmentPackageId%7D/skills-fullstack",
        ):
            response = await sr.get(path, headers=bearer)
            assert response.status_code == 200 and response.json()["id"] == "skills-fullstack", path
        assert (
            await sr.get("/packages/{assessmentPackageId}/skills-fullstack")
        ).status_code == 401  # still ours only
        assert (
            await sr.get("/packages/another/skills-fullstack", headers=bearer)
        ).status_code == 404
        assert (
            await sr.delete(f"/integrations/companies/another/{company_id}", headers=bearer)
        ).status_code == 404
        assert (
            await sr.delete(f"/integrations/companies/%7BcompanyId%7D/{company_id}", headers=bearer)
        ).status_code == 204
    assert (await store.connection(company_id)).state == ConnectionState.DISCONNECTED


async def test_an_order_when_sr_authenticates_with_http_basic(world):
    await world.sr_variants(token_auth="basic")
    placed = await world.order("skills-fullstack")
    assert placed["partner_status"] == 202
    await world.sr_status_becomes(placed["order_id"], "PENDING")
