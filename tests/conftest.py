"""The whole service on real sockets: Temporal dev server, worker, API and both simulators.

One stack per test session (starting Temporal costs seconds); each test uses its own candidates
and orders, so tests do not see each other's data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from embedded import Stack, free_port, settings_on_free_ports
from origins import SMARTRECRUITERS_ORIGINS
from simulators.smartrecruiters.config import alias_of
from store import Store
from temporal_client import connect
from tests.hostile.fuzz_ledger import LEDGER
from tests.support.connect import register_partner_configuration
from tests.support.http import client as http_client
from tests.support.session_stack import (
    ADMIN_KEY,
    EXPIRING_PACKAGE,
    EXPIRY_DAYS,
    SR_REFUSAL_GIVE_UP_DAYS,
)
from tests.support.world import World

# A headless Chromium (`browser`), shared by the tests of a process that drive pages.
pytest_plugins = ["tests.support.browser"]

# Packages whose tests share a stack of their own (a package-scoped fixture): under xdist their
# modules stay on one worker together, so that stack starts once.
PACKAGES_SHARING_A_STACK = ("tests/faults/",)


def scope_of(nodeid: str) -> str:
    """What xdist keeps on one worker: a test's module, or its package if that shares a stack."""
    module = nodeid.split("::", 1)[0]
    return next(
        (package for package in PACKAGES_SHARING_A_STACK if module.startswith(package)), module
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under xdist (`make test TEST_WORKERS=N`), a module's tests go to one worker together, so the
    fixtures they share (a simulator, a stack of their own, orders placed once) start once there.
    Each worker starts its own session stack, on ports and in directories of its own."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    # Modules are dealt out in the order pytest_collection_modifyitems gives them, not re-sorted
    # by size (which would put the one-test long modules last).
    config.option.loadscopereorder = False
    return ByModule(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, modules holding a long test first, then the largest modules, so that no
    worker is left running a long one at the end; each module's tests stay together, in their
    order. In one process the order stays as collected (package fixtures start once)."""
    if not hasattr(config, "workerinput"):
        return
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(scope_of(item.nodeid), []).append(item)

    def first_to_start(tests: list[pytest.Item]) -> tuple[bool, int]:
        return all(test.get_closest_marker("long") is None for test in tests), -len(tests)

    items[:] = [test for tests in sorted(modules.values(), key=first_to_start) for test in tests]


def _refuse_shared_node_ids(nodeids: list[str]) -> None:
    """No two tests may share a node id: xdist would run only one of them (as it did with
    schemathesis' items on pytest 9.2 without a parametrization of their own)."""
    if shared := [nodeid for nodeid, n in Counter(nodeids).items() if n > 1]:
        raise pytest.UsageError(f"tests sharing a node id (all but one would not run): {shared}")


def pytest_collection_finish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # an xdist worker's ids: the controller's
        _refuse_shared_node_ids([item.nodeid for item in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    _refuse_shared_node_ids(ids)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # an xdist worker: the controller prints it
        session.config.workeroutput["fuzz_ledger"] = LEDGER.entries()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    LEDGER.add(node.workeroutput.get("fuzz_ledger", [[], {}]))


def pytest_terminal_summary(terminalreporter) -> None:
    """What the fuzzers of tests/hostile sent and got, from every worker."""
    if LEDGER.statuses:
        terminalreporter.section("fuzzing")
        for line in LEDGER.lines():
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("stack")
    settings = settings_on_free_ports(
        data_dir,
        poll_interval_seconds=2,
        # Slack for a loaded CI machine, within the SR simulator's 10 s.
        inline_order_timeout_seconds=8,
        package_deadline_days={EXPIRING_PACKAGE: EXPIRY_DAYS},
        admin_api_key=ADMIN_KEY,
        worker_metrics_address=f"127.0.0.1:{free_port()}",
        # Often enough for the gauge tests (they wait up to a minute). Its visibility queries are
        # most of what an idle stack's Temporal does: every second, 5% of a core per stack as
        # orders pile up; every 5 s, 0.3 s of CPU in 30 s; every 15 s, a third of that.
        order_census_seconds=15,
        # Tests compare the overview before and after their orders: never a figure kept from
        # before (tests/console/test_overview.py tests the keeping).
        console_overview_seconds=0,
        sr_refusal_give_up_days=SR_REFUSAL_GIVE_UP_DAYS,
        # The fuzzer sends hundreds of requests a second with one API vendor's key; the limit
        # itself is tested on APIs of their own (tests/hostile/test_limits.py,
        # tests/api/test_vendor_api_hostile.py).
        vendor_api_requests_per_second=10_000,
        vendor_api_burst=10_000,
    )
    # The SR simulator's other origin (callback_host "alias") is SR's too, as are SR's own.
    settings = settings.model_copy(
        update={"sr_callback_origins": [*SMARTRECRUITERS_ORIGINS, alias_of(settings.sr_base_url)]}
    )
    running = Stack(settings, headless_ui=True, log_dir=data_dir / "logs")
    try:
        running.start()
        # As `make run` leaves SR: our partner configuration registered, so companies can connect
        # whichever test comes first. (A thread of its own: the session's event loop is not ours.)
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, register_partner_configuration(settings)).result()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
async def temporal(stack):
    client = await connect(stack.settings)
    return client


@pytest.fixture
async def store(stack):
    """Our store, as the running API and worker see it."""
    opened = Store(stack.settings.store_url, stack.settings.encryption_keys.get_secret_value())
    yield opened
    await opened.dispose()


@pytest.fixture
async def world(stack):
    async with http_client() as http:
        yield World(stack.settings, http)
        # The next test meets SR as it behaves by default.
        (await http.put(f"{stack.settings.sr_base_url}/__sim/variants", json={})).raise_for_status()
