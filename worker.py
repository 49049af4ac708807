"""The worker process: runs order workflows and their activities until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import importlib.util
import inspect
import logging
import os
import py_compile
import shutil
import signal
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import temporalio
from temporalio.worker import Worker

import telemetry
from activities.connections import ConnectionActivities
from activities.orders import OrderActivities
from connections.disconnect import CompanyDisconnector
from connections.smartrecruiters_clients import SmartRecruitersClients
from ordering.census import count_orders
from settings import Settings, get_settings
from store import Store
from temporal_client import connect
from vendors.registry import Vendors
from workflows.disconnect_check import CompanyDisconnectCheckWorkflow
from workflows.order import AssessmentOrderWorkflow

log = logging.getLogger("assessments.worker")

# In-flight activities get this long to finish after a shutdown request before they are cancelled.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


async def run_worker(settings: Settings) -> None:
    settings.check_secrets(api=False)
    _cache_workflow_bytecode()
    client = await connect(settings, metrics_address=settings.worker_metrics_address)
    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    await store.migrate()
    smartrecruiters = SmartRecruitersClients(settings, store)
    vendors = Vendors(settings, store)
    activities = OrderActivities(smartrecruiters, vendors)
    disconnector = CompanyDisconnector(store, client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[AssessmentOrderWorkflow, CompanyDisconnectCheckWorkflow],
            activities=activities.all() + ConnectionActivities(disconnector).all(),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
            build_id=_build_id(),
        ):
            log.info("worker polling task queue %s", settings.task_queue)
            census = _count_orders_for_metrics(client, settings, store)
            await stop.wait()
            log.info("worker stopping")
            if census:
                census.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await census
    finally:
        await smartrecruiters.aclose()
        await disconnector.aclose()
        await store.dispose()
        await vendors.aclose()


def _cache_workflow_bytecode() -> None:
    """Temporal's sandbox imports the workflow module afresh for every order it runs (that is its
    isolation). Without bytecode on disk (PYTHONDONTWRITEBYTECODE, as in a source checkout on
    our dev and CI machines) each of those imports compiles the source again: 6 ms, a tenth of
    the worker's CPU per order. So it is compiled once, into a bytecode cache of this process,
    unless Python already finds current bytecode (an installed package, as in the image, has it):
    only then does the process get a cache of its own."""
    source = inspect.getfile(AssessmentOrderWorkflow)
    if not sys.dont_write_bytecode or _has_current_bytecode(source):
        return
    if sys.pycache_prefix is None:
        sys.pycache_prefix = tempfile.mkdtemp(prefix="assessments-bytecode-")
        atexit.register(shutil.rmtree, sys.pycache_prefix, ignore_errors=True)
    py_compile.compile(source, cfile=importlib.util.cache_from_source(source), doraise=True)


def _build_id() -> str:
    """Which code this worker runs, for Temporal (it shows with each workflow task the worker
    completes): the SDK's version and a digest of the source of every module of ours loaded.
    Left to itself, the SDK hashes the bytecode of every loaded module, compiling the source of
    each that has none on disk (PYTHONDONTWRITEBYTECODE): 4 s of CPU at every start."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{temporalio.__version__} {sys.version}".encode())
    for name, module in sorted(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if source and source.endswith(".py") and _ours(Path(source).resolve(), root):
            digest.update(name.encode() + b"\0" + Path(source).read_bytes())
    return f"assessments-{digest.hexdigest()[:16]}"


def _ours(source: Path, root: Path) -> bool:
    return source.is_relative_to(root) and "site-packages" not in source.parts


def _has_current_bytecode(source: str) -> bool:
    """Whether an import of `source` reads bytecode rather than compiling: the cache file's header
    (magic number, flags, then the source's mtime and size, or its hash) matches the source."""
    try:
        with open(importlib.util.cache_from_source(source), "rb") as cached:
            header = cached.read(16)
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") & 1:  # hash-based bytecode
        return header[8:] == importlib.util.source_hash(Path(source).read_bytes())
    status = os.stat(source)
    mtime, size = int(status.st_mtime) & 0xFFFFFFFF, status.st_size & 0xFFFFFFFF
    return header[8:] == mtime.to_bytes(4, "little") + size.to_bytes(4, "little")


def _count_orders_for_metrics(client, settings: Settings, store: Store) -> asyncio.Task | None:
    """Open orders by status on the metrics endpoint, if there is one."""
    if not settings.worker_metrics_address:
        return None
    meter = client.service_client.config.runtime.metric_meter
    return asyncio.create_task(count_orders(client, meter, settings.order_census_seconds, store))


def main() -> None:
    settings = get_settings()
    telemetry.configure_logging(settings)
    telemetry.configure_tracing(settings, "assessments-worker")
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
