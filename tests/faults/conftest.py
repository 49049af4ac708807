"""Fixtures of the fault-injection suite.

- `faults_stack`: an embedded stack of our own (Temporal dev server, worker, API, SR simulator,
  sandbox vendor) on free ports, shared by this package only, so killing and restarting its
  processes never disturbs the session stack the other tests use;
- `faults_world` / `faults_temporal`: the outside world and a Temporal client for that stack;
- `time_skipping`: Temporal's time-skipping test server, for outages of hours of workflow time;
- `figures`: what each case measured, written to reports/faults.json (see figures.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from embedded import Stack, settings_on_free_ports
from settings import Settings
from temporal_client import connect
from tests.faults.figures import Figures
from tests.support.http import client as http_client
from tests.support.temporal_test_server import time_skipping as time_skipping_server
from tests.support.world import World

REPORT = Path(__file__).resolve().parents[2] / "reports" / "faults.json"


class FaultStack:
    """An embedded stack whose processes a test may kill, stop and start again."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.stack = Stack(settings, headless_ui=True, log_dir=log_dir)

    def start(self) -> None:
        """What a sandbox order needs (the other vendors' simulators are part of no case)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.stack.start_order_path()

    def start_component(self, name: str) -> None:
        """A component of the stack (embedded.COMPONENTS) again, waited for on its ports."""
        self.stack.start_components(name)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        self.stack.kill(name)

    def stop_component(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM and wait for the process to exit, as an operator's stop would."""
        self.stack.stop_component(name, timeout)

    def start_temporal(self) -> None:
        """The dev server again, on the same SQLite file and port."""
        self.stack.start_temporal()

    def running(self, name: str) -> bool:
        process = self.stack.processes.get(name)
        return process is not None and process.poll() is None

    def stop(self) -> None:
        self.stack.stop()


@pytest.fixture(scope="package")
def faults_stack(tmp_path_factory) -> Iterator[FaultStack]:
    data_dir = tmp_path_factory.mktemp("faults-stack")
    settings = settings_on_free_ports(
        data_dir,
        poll_interval_seconds=2,
        # Slack for a loaded CI machine (twenty copies of an inline order at once), within the SR
        # simulator's 10 s.
        inline_order_timeout_seconds=8,
        # Below the SR simulator's own 10 s timeout toward us, so SR sees our 503, not its timeout.
        temporal_rpc_timeout_seconds=3,
    )
    running = FaultStack(settings, data_dir / "logs")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
async def faults_temporal(faults_stack):
    return await connect(faults_stack.settings)


@pytest.fixture
async def faults_world(faults_stack):
    async with http_client(max_connections=200) as http:
        yield World(faults_stack.settings, http)


@pytest.fixture
async def time_skipping():
    """Temporal's time-skipping test server, one per test,
    with the workflow tests' data converter."""
    async with time_skipping_server() as environment:
        yield environment


@pytest.fixture(scope="package")
def figures() -> Iterator[Figures]:
    collected = Figures(REPORT)
    yield collected
    collected.write()
