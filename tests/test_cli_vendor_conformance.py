"""`assessments vendor-conformance` against the reference vendor (it passes) and against broken
copies of it (they fail, on the requirement they break)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from standardwebhooks import Webhook

from api.conformance import check_vendor
from embedded import free_port
from examples.reference_vendor import ReferenceVendorConfig, create_app
from tests.support.servers import serve
from vendors.api_vendor import new_webhook_secret

REPOSITORY = Path(__file__).resolve().parents[1]


class TakesEverything:
    """A verifier that checks nothing: the broken vendor every kit must catch."""

    def verify(self, data: bytes, headers: dict) -> dict:
        return json.loads(data)


def reference_vendor(tmp_path: Path, hub_port: int, broken: bool = False):
    key, secret = f"vk_conformance-{uuid.uuid4().hex}", new_webhook_secret()
    config = ReferenceVendorConfig(
        public_url="http://127.0.0.1:1",  # its test pages are not visited here
        hub_url=f"http://127.0.0.1:{hub_port}",
        api_key=key,
        webhook_secret=secret,
        database_path=tmp_path / "vendor.db",
        retry_base_delay=0.1,
        retry_max_delay=0.5,
    )
    app = create_app(config)
    if broken:
        app.state.vendor.verifier = TakesEverything()
    return app, key, secret


async def test_the_reference_vendor_passes_every_requirement(tmp_path):
    hub_port = free_port()
    app, key, secret = reference_vendor(tmp_path, hub_port)
    with serve(app) as vendor:
        checks = await check_vendor(
            f"{vendor}/webhooks/hub", secret, key, port=hub_port, wait_seconds=20
        )
    assert [c.requirement for c in checks if not c.passed] == [], checks
    assert len(checks) == 11


async def test_a_vendor_that_checks_no_signature_fails_on_those_rows(tmp_path):
    hub_port = free_port()
    app, key, secret = reference_vendor(tmp_path, hub_port, broken=True)
    with serve(app) as vendor:
        checks = await check_vendor(
            f"{vendor}/webhooks/hub", secret, key, port=hub_port, wait_seconds=20
        )
    failed = {c.requirement for c in checks if not c.passed}
    assert failed == {
        "Refuses a webhook signed with another secret",
        "Refuses a webhook signed over 5 minutes ago (a replay)",
        "Never acts on a refused webhook's order",
    }, checks
    Webhook(secret)  # the secret was fine: only the vendor's checks were missing


def test_the_command_prints_a_row_per_requirement_and_exits_1_on_a_failure(tmp_path):
    """The command around `check_vendor` (whose rows the tests above check), on the broken copy:
    its table, its exit code, no secret printed."""
    hub_port = free_port()
    app, key, secret = reference_vendor(tmp_path, hub_port, broken=True)
    with serve(app) as vendor:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli",
                "vendor-conformance",
                f"{vendor}/webhooks/hub",
                "--api-key",
                key,
                "--listen",
                f"127.0.0.1:{hub_port}",
                "--wait",
                "20",
            ],
            env={"ASSESSMENTS_CONFORMANCE_SECRET": secret, "PATH": "/usr/bin:/bin"},
            check=False,
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Vendor API conformance" in run.stdout and "/vendor/v1" in run.stdout
    assert (run.stdout.count("pass"), run.stdout.count("fail")) == (8, 3), run.stdout
    assert secret not in run.stdout + run.stderr and key not in run.stdout + run.stderr
