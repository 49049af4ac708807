"""What anyone on the host can read: every process's command line (/proc/<pid>/cmdline is readable
by all users). The Temporal UI's codec capability decrypts any order's candidate data, so no command
line may hold it; the embedded Temporal gets it from a file only its owner can read.
"""

from __future__ import annotations

import secrets
import stat

import httpx
import psutil

from embedded import Stack, settings_on_free_ports
from tests.support.http import client as http_client
from tests.support.waiting import eventually


def command_lines_holding(secret: str) -> list[str]:
    """The command lines of this host's processes that hold `secret`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command_line = " ".join(process.info["cmdline"] or [])
        if secret in command_line:
            found.append(command_line)
    return found


def test_no_process_of_the_stack_has_the_ui_codec_capability_on_its_command_line(stack):
    capability = stack.settings.ui_codec_capability
    command_lines = {
        name: " ".join(psutil.Process(process.pid).cmdline())
        for name, process in stack.processes.items()
    }
    assert "temporal" in command_lines and "api" in command_lines
    assert [
        name for name, command_line in command_lines.items() if capability in command_line
    ] == []


async def test_the_temporal_ui_gets_our_codec_endpoint_from_a_file_only_its_owner_reads(tmp_path):
    # A signing key of its own, so no other stack on this host
    # (another checkout's) has the same capability.
    own = Stack(
        settings_on_free_ports(tmp_path, token_signing_key=secrets.token_urlsafe(32)),
        log_dir=tmp_path / "logs",
    )
    try:
        own.start_temporal()

        async def ui_settings():
            async with http_client(timeout=5) as http:
                try:
                    return (
                        await http.get(f"{own.settings.temporal_ui_base_url}/api/v1/settings")
                    ).json()
                except httpx.TransportError:
                    return None

        served = await eventually(ui_settings, what="the Temporal UI to answer")
        assert served["Codec"]["Endpoint"] == own.settings.ui_codec_endpoint
        assert command_lines_holding(own.settings.ui_codec_capability) == []
        holding = [
            path
            for path in tmp_path.rglob("*")
            if path.is_file() and own.settings.ui_codec_capability.encode() in path.read_bytes()
        ]
        assert holding, "the endpoint reached the UI some other way"
        assert {stat.S_IMODE(path.stat().st_mode) for path in holding} == {0o600}
    finally:
        own.stop()
