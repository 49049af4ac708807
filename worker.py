"""The worker process: runs order workflows and their activities until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from temporalio.worker import Worker

from activities.orders import OrderActivities
from settings import Settings, get_settings
from connections.smartrecruiters_clients import SmartRecruitersClients
from store import Store
from temporal_client import connect
from vendors.registry import Vendors
from workflows.order import AssessmentOrderWorkflow

log = logging.getLogger("assessments.worker")

# In-flight activities get this long to finish after a shutdown request before they are cancelled.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


async def run_worker(settings: Settings) -> None:
    settings.check_secrets()
    client = await connect(settings, metrics_address=settings.worker_metrics_address)
    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    await store.migrate()
    smartrecruiters = SmartRecruitersClients(settings, store)
    vendors = Vendors(settings, store)
    activities = OrderActivities(smartrecruiters, vendors)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[AssessmentOrderWorkflow],
            activities=activities.all(),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        ):
            log.info("worker polling task queue %s", settings.task_queue)
            await stop.wait()
            log.info("worker stopping")
    finally:
        await smartrecruiters.aclose()
        await store.dispose()
        await vendors.aclose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # One line per request, and a line per migration step at every start, are noise here.
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(run_worker(get_settings()))


if __name__ == "__main__":
    main()
