"""The embedded stack for benchmarks: real processes on free ports in a scratch folder."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import psutil

from admin.models import NewTriggerToken, NewVendorAccount
from admin.operations import opened
from embedded import Stack, settings_on_free_ports
from tests.support.connect import connect_company


@contextlib.contextmanager
def running(components: tuple[str, ...], **overrides) -> Iterator[Stack]:
    """Temporal plus the named components (embedded.COMPONENTS), in a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        settings = settings_on_free_ports(Path(scratch), **overrides)
        stack = Stack(settings, headless_ui=True, log_dir=Path(scratch) / "logs")
        try:
            stack.start_temporal()
            stack.start_components(*components)
            yield stack
        finally:
            stack.stop()


async def connect_companies(settings, count: int) -> list[str]:
    """A sandbox vendor account, and `count` companies connected to it through Connect."""
    async with opened(settings) as operations:
        await operations.register_partner_configuration()
        account = await operations.create_vendor_account(
            NewVendorAccount(
                name="Sandbox (bench)",
                adapter="sandbox",
                credentials={"api_key": settings.sandbox_vendor_api_key.get_secret_value()},
            )
        )
        token = (
            await operations.issue_trigger_token(account.id, NewTriggerToken(expires_in_days=1))
        ).token
    return [await connect_company(settings.sr_base_url, token) for _ in range(count)]


class Processes:
    """Resident memory and CPU of the stack's processes, sampled as the benchmark goes."""

    def __init__(
        self, stack: Stack, names: Iterable[str], including_this_one: str | None = None
    ) -> None:
        self._process = {name: psutil.Process(stack.processes[name].pid) for name in names}
        if including_this_one:  # the benchmark's own process, under this name
            self._process[including_this_one] = psutil.Process()
        self.peak_rss = dict.fromkeys(self._process, 0.0)

    def rss_mb(self) -> dict[str, float]:
        now = {name: process.memory_info().rss / 2**20 for name, process in self._process.items()}
        self.peak_rss = {name: max(self.peak_rss[name], now[name]) for name in now}
        return now

    def cpu_seconds(self) -> dict[str, float]:
        return {name: sum(process.cpu_times()[:2]) for name, process in self._process.items()}
