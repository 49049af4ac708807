"""`assessments run` seeds what Connect needs, so a newcomer can connect a company at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

from embedded import (
    EMBEDDED_VENDOR_ACCOUNT,
    REFERENCE_VENDOR_ACCOUNT,
    REFERENCE_VENDOR_API_KEY,
    SIMULATED_CHECKR_KEY,
    Stack,
    seed,
    settings_on_free_ports,
)
from tests.support.connect import connect_company
from tests.support.http import client as http_client
from tests.support.waiting import eventually

REPOSITORY = Path(__file__).resolve().parents[2]

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


async def _assessments_run(
    folder: Path, env: dict[str, str], output: int
) -> asyncio.subprocess.Process:
    """`assessments run` in `folder`, its output (stdout and stderr together) to `output`, in a
    session of its own."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "run",
        cwd=folder,
        env=env,
        stdout=output,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )


async def test_run_from_another_folder_keeps_one_absolute_data_folder(tmp_path):
    """`assessments run` started elsewhere with a relative ASSESSMENTS_DATA_DIR: its children
    start in the repository, yet every part uses the one folder under the caller's directory."""
    caller, relative = tmp_path / "caller", f"state-{uuid.uuid4().hex[:8]}"
    caller.mkdir()
    folder = caller / relative
    settings = settings_on_free_ports(folder, admin_api_key="run-from-elsewhere-key")
    env = Stack(settings).env | {
        "ASSESSMENTS_DATA_DIR": relative,
        "PYTHONPATH": str(REPOSITORY),
        "COLUMNS": "400",  # the banner's table unwrapped
        "ASSESSMENTS_LOG_LEVEL": "WARNING",
    }
    run = await _assessments_run(caller, env, output=asyncio.subprocess.PIPE)
    lines: list[str] = []

    async def read_all() -> None:
        assert run.stdout is not None
        # Appended as they come: the probes below read the lines while the command still runs.
        async for line in run.stdout:
            lines.append(line.decode(errors="replace").rstrip())  # noqa: PERF401

    reader = asyncio.ensure_future(read_all())
    try:

        async def tokens_printed() -> list[str] | None:
            assert run.returncode is None, "\n".join(lines[-40:])
            printed = [
                line.split(": ", 1)[1]
                for line in lines
                if line.startswith("  ") and line.strip().split(":")[0] in SEEDED
            ]
            return printed if len(printed) == len(SEEDED) else None

        await eventually(tokens_printed, timeout=120, what="the stack's banner and trigger tokens")
        assert any("Data folder" in line and str(folder) in line for line in lines), "\n".join(
            lines
        )
        # The API reads the store the banner's tokens were seeded into.
        async with http_client(
            base_url=settings.public_url, headers={"Authorization": "Bearer run-from-elsewhere-key"}
        ) as api:
            accounts = (await api.get("/admin/vendor-accounts")).raise_for_status().json()
            tokens = (await api.get("/admin/trigger-tokens")).raise_for_status().json()
        assert {a["name"] for a in accounts} == set(SEEDED)
        assert len([t for t in tokens if t["state"] == "active"]) == len(SEEDED)
        # The reference vendor publishes its catalog with the key the seed gave its account.
        async with http_client(
            base_url=f"{settings.public_url}/vendor/v1",
            headers={"Authorization": f"Bearer {REFERENCE_VENDOR_API_KEY}"},
        ) as vendor_api:

            async def published():
                answer = await vendor_api.get("/packages")
                return answer.json()["packages"] if answer.status_code == 200 else None

            catalog = await eventually(published, timeout=60, what="the reference catalog")
        assert {package["id"] for package in catalog} >= {"ref-python", "ref-sql"}
        simulators = (
            "sandbox-vendor.db",
            "smartrecruiters-sim.db",
            "hackerrank-sim.db",
            "checkr-sim.db",
            "testgorilla-sim.db",
            "reference-vendor.db",
        )
        for name in ("temporal.db", "assessments.db", *simulators, "logs/temporal.log"):
            assert (folder / name).exists(), name
        assert not (REPOSITORY / relative).exists()
    finally:
        if run.returncode is None:
            run.send_signal(signal.SIGINT)  # what Ctrl-C does: the stack stops in order
            try:
                await asyncio.wait_for(run.wait(), 60)
            except TimeoutError:
                os.killpg(run.pid, signal.SIGKILL)
        await reader
    assert run.returncode == 0, "\n".join(lines[-40:])


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
    run = await _assessments_run(tmp_path, env, output=asyncio.subprocess.DEVNULL)
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
