"""Fixtures of the workflow tests."""

from __future__ import annotations

import pytest

from tests.support.temporal_test_server import time_skipping


@pytest.fixture
async def env():
    # A server per test: a workflow a finished test leaves behind (an activity its stopped
    # worker never completes) would otherwise hold the next test's clock still.
    async with time_skipping() as environment:
        yield environment
