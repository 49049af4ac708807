"""`assessments run` (what `make run` starts once installed) as a test runs it: in a session of
its own, on free ports, its banner and External Trigger Tokens read as a person reads them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from embedded import Stack
from settings import Settings
from tests.support.waiting import eventually

REPOSITORY = Path(__file__).resolve().parents[2]


async def assessments_run(
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


@dataclass
class Running:
    """A running `assessments run`: its settings and every line it printed so far."""

    settings: Settings
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    def printed(self) -> str:
        return "\n".join(self.lines)

    def trigger_tokens(self, accounts: int) -> dict[str, str] | None:
        """The banner's tokens by vendor account, once all `accounts` are printed."""
        heading = next(
            (at for at, line in enumerate(self.lines) if "External Trigger Tokens" in line), None
        )
        if heading is None:
            return None
        tokens = dict(
            line.strip().split(": ", 1)
            for line in self.lines[heading + 1 :]
            if line.startswith("  ") and ": " in line
        )
        return tokens if len(tokens) >= accounts else None


@contextlib.asynccontextmanager
async def make_run(
    caller: Path, settings: Settings, data_dir: str, accounts: int, **env: str
) -> AsyncIterator[Running]:
    """Start `assessments run` in `caller` with the data folder `data_dir` (relative to it, as a
    person's `./data`), wait for its banner and `accounts` tokens, and stop it with Ctrl-C's
    signal at the end, asserting it stopped cleanly."""
    environment = Stack(settings).env | {
        "ASSESSMENTS_DATA_DIR": data_dir,
        "PYTHONPATH": str(REPOSITORY),
        "COLUMNS": "400",  # the banner's table unwrapped
        "ASSESSMENTS_LOG_LEVEL": "WARNING",
        **env,
    }
    # As a person's shell starts it: no setting the command picks a default for on its own.
    environment.pop("ASSESSMENTS_POLL_INTERVAL_SECONDS", None)
    process = await assessments_run(caller, environment, output=asyncio.subprocess.PIPE)
    running = Running(settings, process)

    async def read_all() -> None:
        assert process.stdout is not None
        async for line in process.stdout:  # appended as they come: probes read them meanwhile
            running.lines.append(line.decode(errors="replace").rstrip())

    reader = asyncio.ensure_future(read_all())
    try:

        async def started() -> dict[str, str] | None:
            assert process.returncode is None, running.printed()
            return running.trigger_tokens(accounts)

        await eventually(started, timeout=120, what="the stack's banner and trigger tokens")
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # what Ctrl-C does: the stack stops in order
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
        await reader
    assert process.returncode == 0, running.printed()
