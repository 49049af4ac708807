"""SIGTERM drains: the worker finishes the activity in flight, the API the request in flight.

On a small stack of our own (Temporal, SR simulator, sandbox vendor, worker, API), since the
session stack's processes serve every other test. SR is made slow on purpose (the simulator's
latency fault), and the signal is sent once SR holds the request.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from embedded import Stack
from settings import Settings
from temporal_client import connect
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import order_path
from tests.support.waiting import eventually
from tests.support.world import World
from worker import GRACEFUL_SHUTDOWN

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

SLOW_SR_SECONDS = 4  # well inside both drains (10 s)
API_GRACEFUL_SHUTDOWN_SECONDS = 10  # timeout_graceful_shutdown in cli/running.py's serve
ADMIN_KEY = "graceful-admin-key"


@pytest.fixture(scope="module")
def small_stack(tmp_path_factory):
    with order_path(
        tmp_path_factory.mktemp("graceful"),
        task_queue="graceful-orders",
        poll_interval_seconds=2,
        admin_api_key=ADMIN_KEY,
    ) as stack:
        yield stack


@pytest.fixture
async def world(small_stack):
    async with http_client(timeout=30) as http:
        yield World(small_stack.settings, http)


async def slow_sr_once(world: World, **match) -> None:
    fault = {"status": 200, "count": 1, "latency_ms": SLOW_SR_SECONDS * 1000, **match}
    (await world.http.post(f"{world.sr}/__sim/faults", json=fault)).raise_for_status()


async def sr_holds_the_request(world: World) -> None:
    """The fault is used up once SR has the request in hand (and sleeps before answering it)."""

    async def taken():
        return (await world.http.get(f"{world.sr}/__sim/faults")).json() == []

    await eventually(taken, timeout=60, interval=0.05, what="SR to receive the slowed request")


def terminate(stack: Stack, name: str, within: float) -> tuple[int, float]:
    """SIGTERM a component and wait for it to exit; (exit code, seconds it took)."""
    process = stack.processes.pop(name)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{name} did not exit within {within:.0f} s of SIGTERM") from None
    return code, time.monotonic() - started


async def test_sigterm_lets_the_workers_activity_in_flight_finish_once(small_stack, world):
    await slow_sr_once(world, method="PATCH", path_contains="/results")
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await sr_holds_the_request(world)  # the PENDING update is in flight, inside an activity

    code, took = await asyncio.to_thread(
        terminate, small_stack, "worker", GRACEFUL_SHUTDOWN.total_seconds() + 5
    )

    assert code == 0
    assert (
        SLOW_SR_SECONDS - 1 <= took < GRACEFUL_SHUTDOWN.total_seconds()
    )  # it waited for the activity, and only for it
    patches = [r for r in await world.sr_requests(order_id) if r["method"] == "PATCH"]
    assert [(p["status"], p["json"]["status"]) for p in patches] == [(200, "PENDING")]
    history = [
        event.event_type for event in (await _history(small_stack.settings, order_id)).events
    ]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in history
    assert not {
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    } & set(history)

    # A new worker takes the order on; the update posted before the shutdown is never repeated.
    small_stack.start_component("worker", "worker")
    await world.at_vendor("complete", order_id, score=70)
    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)
    assert [p["status"] for p in done["patches"]].count("PENDING") == 1


async def test_sigterm_lets_the_apis_request_in_flight_finish_and_takes_no_new_one(
    small_stack, world
):
    settings = small_stack.settings
    await slow_sr_once(world, method="PUT", path_contains="partner/configuration")
    async with http_client(base_url=settings.public_url, timeout=30) as api:
        in_flight = asyncio.create_task(
            api.put(
                "/admin/smartrecruiters/partner-configuration",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            )
        )
        await sr_holds_the_request(world)
        stopping = asyncio.create_task(
            asyncio.to_thread(terminate, small_stack, "api", API_GRACEFUL_SHUTDOWN_SECONDS + 5)
        )

        async def refuses_new_connections():
            try:
                async with http_client(base_url=settings.public_url, timeout=2) as newcomer:
                    await newcomer.get("/healthz")
            except (httpx.ConnectError, httpx.RemoteProtocolError):
                return True  # refused, or closed unanswered (uvloop may still accept while closing)
            return False

        await eventually(
            refuses_new_connections,
            timeout=10,
            interval=0.05,
            what="the API to stop accepting connections",
        )
        assert not in_flight.done()
        answer = await in_flight
        code, took = await stopping

    assert (
        answer.status_code == 200
        and answer.json()["packageOrderUrl"] == f"{settings.public_url}/packages/orders"
    )
    assert code in (0, -signal.SIGTERM)  # uvicorn ends by re-raising the signal it handled
    assert took < API_GRACEFUL_SHUTDOWN_SECONDS


async def _history(settings: Settings, order_id: str):
    client = await connect(settings)
    return await client.get_workflow_handle(order_workflow_id(order_id)).fetch_history()
