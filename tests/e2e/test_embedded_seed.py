"""`assessments run` seeds what Connect needs, so a newcomer can connect a company at once."""

from __future__ import annotations

from embedded import EMBEDDED_VENDOR_ACCOUNT, SIMULATED_CHECKR_KEY, seed
from tests.support.connect import connect_company

SEEDED = {EMBEDDED_VENDOR_ACCOUNT: "sandbox", "HackerRank (simulator)": "hackerrank", "Checkr (simulator)": "checkr", "TestGorilla (simulator)": "testgorilla"}


async def test_seed_registers_us_and_hands_out_a_working_token_per_vendor(stack, store, world):
    first, second = await seed(stack.settings), await seed(stack.settings)

    accounts = {a.name: a for a in await store.vendor_accounts() if a.name in SEEDED}
    assert {name: a.adapter for name, a in accounts.items()} == SEEDED  # seeding twice makes one of each
    for tokens in (first, second):
        assert set(tokens) == set(SEEDED)
        for name, token in tokens.items():
            redeemed = await store.redeem_trigger_token(token)
            assert redeemed is not None and redeemed.vendor_account_id == accounts[name].id and redeemed.expires_at is not None
    # SR (the simulator) knows where our consent page is.
    consent = (await world.http.post(f"{world.sr}/__sim/companies/seeded-co/consent")).json()
    assert consent["consent_url"].startswith(f"{stack.settings.public_url}/integration?companyId=seeded-co")
    # The Checkr simulator pushes to the seeded account's URL, registered once.
    hooks = (await world.http.get(f"{stack.settings.checkr_sim_url}/v1/webhooks", auth=(SIMULATED_CHECKR_KEY, ""))).json()["data"]
    expected = f"{stack.settings.public_url}/webhooks/checkr/accounts/{accounts['Checkr (simulator)'].id}"
    assert [h["webhook_url"] for h in hooks] == [expected]


async def test_each_seeded_vendor_offers_its_catalog_to_a_connected_company(stack, store, world, registered):
    tokens = await seed(stack.settings)
    for name, package in (("HackerRank (simulator)", "1529353"), ("Checkr (simulator)", "tasker_standard"), ("TestGorilla (simulator)", "101")):
        company = await connect_company(world.sr, tokens[name])
        packages = await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": company})
        assert packages.status_code == 200 and package in {p["id"] for p in packages.json()}, name
