"""`assessments run` seeds what Connect needs, so a newcomer can connect a company at once."""

from __future__ import annotations

from embedded import EMBEDDED_VENDOR_ACCOUNT, seed


async def test_seed_registers_us_and_hands_out_a_working_token(stack, store, world):
    first, second = await seed(stack.settings), await seed(stack.settings)

    accounts = [a for a in await store.vendor_accounts() if a.name == EMBEDDED_VENDOR_ACCOUNT]
    assert len(accounts) == 1  # seeding twice makes one account
    for token in (first, second):
        redeemed = await store.redeem_trigger_token(token)
        assert redeemed is not None and redeemed.vendor_account_id == accounts[0].id and redeemed.expires_at is not None
    # SR (the simulator) knows where our consent page is.
    consent = (await world.http.post(f"{world.sr}/__sim/companies/seeded-co/consent")).json()
    assert consent["consent_url"].startswith(f"{stack.settings.public_url}/integration?companyId=seeded-co")
