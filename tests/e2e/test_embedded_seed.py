"""`assessments run` seeds what Connect needs, so a newcomer can connect a company at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from pathlib import Path

from embedded import (
    EMBEDDED_VENDOR_ACCOUNT,
    REFERENCE_VENDOR_ACCOUNT,
    SIMULATED_CHECKR_KEY,
    Stack,
    seed,
    settings_on_free_ports,
)
from tests.support.connect import connect_company
from tests.support.make_run import REPOSITORY, assessments_run
from tests.support.waiting import eventually

SEEDED = {
    EMBEDDED_VENDOR_ACCOUNT: "sandbox",
    "HackerRank (simulator)": "hackerrank",
    "Checkr (simulator)": "checkr",
    "TestGorilla (simulator)": "testgorilla",
    REFERENCE_VENDOR_ACCOUNT: "api",
}


async def test_seed_registers_us_and_hands_out_a_working_token_per_vendor(stack, store, world):
    first, second = await seed(stack.settings), await seed(stack.settings)

    accounts = {a.name: a for a in await store.vendor_accounts() if a.name in SEEDED}
    assert {
        name: a.adapter for name, a in accounts.items()
    } == SEEDED  # seeding twice makes one of each
    for tokens in (first, second):
        assert set(tokens) == set(SEEDED)
        for name, token in tokens.items():
            redeemed = await store.redeem_trigger_token(token)
            assert (
                redeemed is not None
                and redeemed.vendor_account_id == accounts[name].id
                and redeemed.expires_at is not None
            )
    # SR (the simulator) knows where our consent page is.
    consent = (await world.http.post(f"{world.sr}/__sim/companies/seeded-co/consent")).json()
    assert consent["consent_url"].startswith(
        f"{stack.settings.public_url}/integration?companyId=seeded-co"
    )
    # The Checkr simulator pushes to the seeded account's URL, registered once.
    hooks = (
        await world.http.get(
            f"{stack.settings.checkr_sim_url}/v1/webhooks", auth=(SIMULATED_CHECKR_KEY, "")
        )
    ).json()["data"]
    expected = (
        f"{stack.settings.public_url}/webhooks/checkr/accounts/{accounts['Checkr (simulator)'].id}"
    )
    assert [h["webhook_url"] for h in hooks] == [expected]


async def test_each_seeded_vendor_offers_its_catalog_to_a_connected_company(
    stack, store, world, registered
):
    tokens = await seed(stack.settings)
    for name, package in (
        ("HackerRank (simulator)", "1529353"),
        ("Checkr (simulator)", "tasker_standard"),
        ("TestGorilla (simulator)", "101"),
    ):
        company = await connect_company(world.sr, tokens[name])
        packages = await world.http.get(
            f"{world.sr}/__sim/packages", params={"company_id": company}
        )
        assert packages.status_code == 200 and package in {p["id"] for p in packages.json()}, name


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _processes_using(folder: Path) -> list[int]:
    """Processes whose environment names `folder` as their data folder: the stack's children."""
    marker = f"ASSESSMENTS_DATA_DIR={folder}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


async def test_a_stop_while_starting_stops_what_had_started(tmp_path):
    """`assessments run` told to stop (SIGTERM: a service manager, `docker stop`) while it is
    still starting: every part it starts is stopped, none left running, orphaned."""
    folder = tmp_path / "stack"
    settings = settings_on_free_ports(folder)
    env = Stack(settings).env | {"PYTHONPATH": str(REPOSITORY)}
    run = await assessments_run(tmp_path, env, output=asyncio.subprocess.DEVNULL)
    temporal_port = int(settings.temporal_address.rpartition(":")[2])
    try:

        async def temporal_started() -> bool:
            assert run.returncode is None
            return _listening(temporal_port)

        # The first part is up; the others are still starting (a child may be just forked).
        await eventually(temporal_started, timeout=60, interval=0.05, what="Temporal's port")
        run.send_signal(signal.SIGTERM)
        await asyncio.wait_for(run.wait(), 60)

        async def nothing_left() -> bool:
            return not _processes_using(folder)

        await eventually(nothing_left, timeout=30, what="the started parts to stop")
        assert not _listening(temporal_port)
    finally:
        for pid in _processes_using(folder):  # what a failure left behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
