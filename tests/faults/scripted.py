"""Peers for outages of hours on Temporal's time-skipping test server.

The order workflow runs with the real activities. The vendor is scripted in process and can be
down for windows of *workflow* time; it keeps its own books (invitations, emails), as a vendor
would. Every activity attempt is logged with its workflow time, so a case can say when calls
were refused, when they were retried, and when the last result got through.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor, Worker

from activities.orders import OrderActivities
from orders.models import (
    Candidate,
    Invitation,
    Order,
    PackageTestResult,
    StatusReading,
    VendorResult,
    VendorStatus,
)
from peers import PeerError
from vendors.base import OrderCallback, Report
from workflows.order import AssessmentOrderWorkflow

if TYPE_CHECKING:
    from vendors.registry import Vendors

# The time-skipping server's clock (`WorkflowEnvironment.get_current_time`). Not the attempt's
# `current_attempt_scheduled_time`: on that server a retry carries the time it was decided, not
# the time it runs.
Clock = Callable[[], Awaitable[datetime]]


@dataclass
class Outage:
    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass
class FlakyVendor:
    """A vendor whose candidates the test controls, down during its outages (503s and timeouts,
    both retryable), idempotent per order as the real adapters are."""

    clock: Clock
    name: str = "sandbox"
    outages: list[Outage] = field(default_factory=list)
    # Once a status read first answers COMPLETED, the vendor goes down for this long.
    outage_after_first_completion: timedelta | None = None
    # The first invitation attempt is made at the vendor, but its answer never reaches us.
    lose_first_invitation_answer: bool = False
    invitations: dict[str, str] = field(default_factory=dict)  # order id → vendor ref
    status: dict[str, VendorStatus] = field(default_factory=dict)  # vendor ref → status
    emails: Counter = field(default_factory=Counter)  # order id → invitation emails sent
    refused: Counter = field(default_factory=Counter)  # call → refusals during outages
    _answers_lost: int = 0

    async def _check(self, call: str) -> None:
        now = await self.clock()
        if any(outage.covers(now) for outage in self.outages):
            self.refused[call] += 1
            if self.refused[call] % 2:
                raise PeerError("vendor", f"{call} answered HTTP 503", status=503)
            raise PeerError("vendor", f"{call} failed: ReadTimeout")

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        if self.lose_first_invitation_answer and not self._answers_lost:
            self._answers_lost += 1
            self._invite(order)
            raise PeerError("vendor", "invitation failed: ReadTimeout")
        await self._check("invitation")
        return Invitation(
            vendor_ref=self._invite(order), test_url=f"https://vendor.example/take/{order.order_id}"
        )

    def _invite(self, order: Order) -> str:
        if order.order_id not in self.invitations:
            ref = f"inv-{uuid.uuid4().hex[:8]}"
            self.invitations[order.order_id] = ref
            self.status[ref] = VendorStatus.INVITED
            self.emails[order.order_id] += 1
        return self.invitations[order.order_id]

    def candidate(self, order_id: str, status: VendorStatus) -> None:
        self.status[self.invitations[order_id]] = status

    async def get_status(self, ref: str) -> StatusReading:
        await self._check("status read")
        status = self.status[ref]
        if status == VendorStatus.COMPLETED and self.outage_after_first_completion:
            now = await self.clock()
            self.outages.append(Outage(now, now + self.outage_after_first_completion))
            self.outage_after_first_completion = None
        return StatusReading(status=status)

    async def get_result(self, ref: str) -> VendorResult:
        await self._check("result fetch")
        return VendorResult(
            score=3,
            max_score=4,
            outcome="passed",
            summary="Scored 3 of 4.",
            submitted_at=datetime(2026, 11, 2, tzinfo=UTC),
            tests=[
                PackageTestResult(
                    test_id="python-basics",
                    name="Python basics",
                    score=3,
                    max_score=4,
                    outcome="passed",
                )
            ],
        )

    async def cancel_invitation(self, ref: str) -> None:
        await self._check("withdrawal")
        self.status[ref] = VendorStatus.CANCELLED

    async def download_report(self, ref: str) -> Report | None:
        await self._check("report download")
        return Report(filename="report.pdf", content=b"%PDF-1.4 scripted")


@dataclass
class InMemorySmartRecruiters:
    """SR that accepts everything, recording each update with its workflow time."""

    clock: Clock
    patches: dict[str, list[dict]] = field(default_factory=dict)
    uploads: Counter = field(default_factory=Counter)
    accepted_at: dict[tuple[str, str], datetime] = field(default_factory=dict)

    async def patch_result(
        self, order_id: str, patch: dict, callback_url: str | None = None
    ) -> None:
        self.patches.setdefault(order_id, []).append(patch)
        self.accepted_at[(order_id, patch["status"])] = await self.clock()

    async def upload_attachment(
        self,
        order_id: str,
        filename: str,
        content: bytes,
        content_type: str,
        callback_url: str | None = None,
    ) -> str:
        self.uploads[order_id] += 1
        return f"https://sr.example/files/{order_id}"

    async def for_company(self, company_id: str) -> InMemorySmartRecruiters:
        return self

    async def order_accepted(self, order_id: str, company_id: str) -> None:
        pass  # who owns an order id is the store's business, which these tests leave out

    def statuses(self, order_id: str) -> list[str]:
        return [patch["status"] for patch in self.patches.get(order_id, [])]


@dataclass
class Attempt:
    workflow_id: str
    activity: str
    activity_id: str
    attempt: int
    at: datetime  # workflow time the attempt began
    argument: Any
    error: str | None = None


class AttemptLog(Interceptor):
    """Records every activity attempt: which, when (workflow time), and how it failed."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.attempts: list[Attempt] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        log = self

        class Recording(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput) -> Any:
                info = activity.info()
                attempt = Attempt(
                    info.workflow_id or "",
                    info.activity_type,
                    info.activity_id,
                    info.attempt,
                    await log.clock(),
                    input.args[0] if input.args else None,
                )
                log.attempts.append(attempt)
                try:
                    return await super().execute_activity(input)
                except BaseException as err:
                    attempt.error = str(err)
                    raise

        return Recording(next)

    def of(self, activity_type: str) -> list[Attempt]:
        return [a for a in self.attempts if a.activity == activity_type]


@dataclass
class Peers:
    vendor: FlakyVendor
    sr: Any
    log: AttemptLog

    @contextlib.asynccontextmanager
    async def using(self, vendor_account_id: str | None) -> AsyncIterator[FlakyVendor]:
        yield self.vendor

    async def remember_candidate(self, email: str, order_id: str) -> None:
        pass

    async def remember_invitation(
        self, vendor_account_id: str | None, invitation: Invitation, order_id: str
    ) -> None:
        pass

    def callback_for(self, vendor: str, order_id: str) -> OrderCallback:
        return OrderCallback(
            url=f"https://us.example/webhooks/{vendor}/orders/{order_id}", token="t"
        )

    def worker(self, env: WorkflowEnvironment, task_queue: str) -> Worker:
        # The vendor registry's test double, standing in by its methods.
        activities = OrderActivities(self.sr, cast("Vendors", self))
        return Worker(
            env.client,
            task_queue=task_queue,
            workflows=[AssessmentOrderWorkflow],
            activities=activities.all(),
            interceptors=[self.log],
            max_concurrent_activities=20,
        )


def an_order(
    order_id: str | None = None,
    *,
    company_id: str = "acme",
    poll_hours: float = 1,
    deadline_days: float = 7,
    sr: str = "https://sr.example",
) -> Order:
    """`sr`: the base URL of SR's assessment API, where the order's results go."""
    order_id = order_id or str(uuid.uuid4())
    return Order(
        order_id=order_id,
        company_id=company_id,
        package_id="skills-fullstack",
        package_name="Full-stack skills",
        vendor="sandbox",
        result_callback_url=f"{sr}/orders/{order_id}/results",
        candidate=Candidate(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        deadline_days=deadline_days,
        poll_interval_seconds=poll_hours * 3600,
        received_at=datetime.now(UTC),
    )


async def start(env: WorkflowEnvironment, order: Order, task_queue: str):
    return await env.client.start_workflow(
        AssessmentOrderWorkflow.run,
        order,
        id=f"assessment-order:{order.order_id}",
        task_queue=task_queue,
    )


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600
