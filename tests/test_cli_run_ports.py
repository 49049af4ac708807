"""`assessments run` with a port taken: one line naming the port and the setting that moves it,
before anything starts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from embedded import Stack, settings_on_free_ports

REPOSITORY = Path(__file__).resolve().parents[1]


def test_a_busy_port_stops_run_before_anything_starts_and_names_its_setting(tmp_path):
    settings = settings_on_free_ports(tmp_path)
    stack = Stack(settings)
    assert stack.ports_in_use() == []
    with socket.socket() as squatter:
        squatter.bind((settings.api_host, settings.api_port))
        squatter.listen()
        assert stack.ports_in_use() == [
            f"port {settings.api_port} ({settings.api_host}) is in use: ASSESSMENTS_API_PORT "
            "moves it"
        ]
        run = subprocess.run(
            [sys.executable, "-m", "cli", "run"],
            env=stack.env,
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"port {settings.api_port}" in run.stderr and "ASSESSMENTS_API_PORT" in run.stderr
    assert "Starting" not in run.stdout and "Traceback" not in run.stderr
    assert not (settings.data_dir / "temporal.db").exists()  # nothing was started


def test_the_banner_never_cuts_a_link_short_in_a_narrow_log(tmp_path, monkeypatch):
    """Piped to a file, rich lays the banner out 80 columns wide: its links fold onto the next
    line rather than end in an ellipsis, so a person can still copy them."""
    import io

    from rich.console import Console

    from cli import running

    printed = io.StringIO()
    monkeypatch.setattr(running, "console", Console(file=printed, width=80))
    settings = settings_on_free_ports(tmp_path)

    running._print_welcome(settings, {"Sandbox vendor": "tok_x"}, "a-password")

    rows = [line.split("│") for line in printed.getvalue().splitlines() if line.count("│") == 3]
    assert running.temporal_ui_orders(settings) in "".join(row[2].strip() for row in rows)
    # The console's password, whole on the line that names it.
    [sign_in] = [row for row in rows if "Hub console sign-in" in row[1]]
    assert sign_in[2].strip() == "operator / a-password"
