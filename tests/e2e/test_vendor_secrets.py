"""Vendor credentials stay encrypted at rest and never reach a log, whatever the vendor answers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from simulators import checkr, hackerrank
from simulators.testgorilla import app as testgorilla
from simulators.testgorilla.config import TestGorillaSimConfig
from tests.support.connect import company_of_new_vendor_account
from tests.support.servers import serve


async def test_vendor_secrets_are_encrypted_at_rest_and_absent_from_logs(
    stack, store, world, registered
):
    hackerrank_key, checkr_key, testgorilla_password = (
        f"secret-{uuid.uuid4().hex}" for _ in range(3)
    )
    with (
        serve(
            hackerrank.create_app(hackerrank.HackerRankSimConfig(api_key=hackerrank_key))
        ) as hackerrank_url,
        serve(checkr.create_app(checkr.CheckrSimConfig(api_key=checkr_key))) as checkr_url,
        serve(
            testgorilla.create_app(TestGorillaSimConfig(password=testgorilla_password))
        ) as testgorilla_url,
    ):
        accounts: list[tuple[str, dict[str, Any], str]] = [
            ("hackerrank", {"api_key": hackerrank_key, "base_url": hackerrank_url}, "1529353"),
            (
                "checkr",
                {
                    "api_key": checkr_key,
                    "base_url": checkr_url,
                    "work_location": {"country": "US", "state": "CA"},
                },
                "tasker_standard",
            ),
            (
                "testgorilla",
                {
                    "username": "api-user@example.com",
                    "password": testgorilla_password,
                    "base_url": testgorilla_url,
                },
                "101",
            ),
        ]
        for adapter, credentials, package in accounts:
            _, company = await company_of_new_vendor_account(store, world.sr, adapter, credentials)
            # The catalog (read by the API) and an invitation (sent by the worker) use the secret...
            placed = await world.order(package, company_id=company)
            await world.sr_status_becomes(placed["order_id"], "PENDING")
        # ...and so do calls the vendor refuses: a wrong key, logged as a failure.
        _, refused = await company_of_new_vendor_account(
            store,
            world.sr,
            "hackerrank",
            {"api_key": f"wrong-{hackerrank_key}", "base_url": hackerrank_url},
        )
        assert (
            await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": refused})
        ).status_code == 502

    secrets = [hackerrank_key.encode(), checkr_key.encode(), testgorilla_password.encode()]
    store_file = Path(stack.settings.store_url.split("///", 1)[1])
    # The store with its write-ahead log (recent writes may be there only), and every log.
    stored = list(store_file.parent.glob(f"{store_file.name}*"))
    logs = {*(stack.settings.data_dir / "logs").glob("*.log"), *Path(stack.log_dir).glob("*.log")}
    assert b"hackerrank" in b"".join(
        path.read_bytes() for path in stored
    )  # the accounts are in what we read
    assert any(path.stat().st_size for path in logs)
    written = [*stored, *logs]
    for path in written:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"a vendor secret is readable in {path.name}"
