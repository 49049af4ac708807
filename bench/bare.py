"""The bare baseline of bench.end_to_end: the order workflow's shape without its work.

Its own module, so Temporal's workflow sandbox imports nothing but what the workflow needs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

# Our happy path: invite, PENDING, poll (cancelled by the webhook),
# status read, result, report, COMPLETED.
ACTIVITIES_BEFORE_SIGNAL, ACTIVITIES_AFTER_SIGNAL = 3, 4


@activity.defn
async def nothing() -> None:
    """A no-op activity body."""


@workflow.defn
class BareOrder:
    def __init__(self) -> None:
        self._completed = False

    @workflow.run
    async def run(self) -> None:
        for _ in range(ACTIVITIES_BEFORE_SIGNAL):
            await workflow.execute_activity(nothing, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self._completed)
        for _ in range(ACTIVITIES_AFTER_SIGNAL):
            await workflow.execute_activity(nothing, start_to_close_timeout=timedelta(seconds=30))

    @workflow.signal
    def vendor_event(self) -> None:
        self._completed = True
