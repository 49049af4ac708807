"""A disconnection we could not authenticate, checked with SmartRecruiters until there is evidence.

Anyone can send DELETE /integrations/companies/{companyId} (SR's spec gives it no security), so a
bare one only starts this workflow: it asks SR whether the company's SR-issued credentials still
work, and disconnects the company once SR refuses them. SR may call before it revokes them, so it
asks again with growing pauses until the bound (ASSESSMENTS_DISCONNECT_CHECK_HOURS) and then gives
up. Another DELETE meanwhile (the `recheck` signal) asks again at once. It lives in Temporal, so an
API or worker restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.connections import ConnectionActivities
    from connections.disconnect import CHECK_SIGNAL, CHECK_WORKFLOW, STILL_ACCEPTED, DisconnectCheck

FIRST_PAUSE = timedelta(seconds=2)
LONGEST_PAUSE = timedelta(hours=1)
# However often DELETEs come (anyone may send one), a DELETE has SR asked again no sooner than
# this after the last question: the company's credentials are not ours to spend on a flood.
SIGNALLED_CHECK_GAP = timedelta(seconds=30)
# SR unreachable or answering something that proves nothing: tried again at this pace.
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=10)
)


@workflow.defn(name=CHECK_WORKFLOW)
class CompanyDisconnectCheckWorkflow:
    def __init__(self) -> None:
        self._asked = False
        self._checks = 0

    @workflow.signal(name=CHECK_SIGNAL)
    def recheck(self) -> None:
        self._asked = True

    @workflow.query
    def checks(self) -> int:
        """How many times SR was asked so far (in this run)."""
        return self._checks

    @workflow.run
    async def run(self, check: DisconnectCheck) -> str:
        now = workflow.now()
        deadline = (
            datetime.fromisoformat(check.deadline)
            if check.deadline
            else now + timedelta(hours=check.hours)
        )
        pause = FIRST_PAUSE
        while True:
            self._asked = False
            try:
                outcome = await workflow.execute_activity_method(
                    ConnectionActivities.disconnect_if_revoked_at_sr,
                    check,
                    start_to_close_timeout=timedelta(seconds=60),
                    schedule_to_close_timeout=max(deadline - workflow.now(), timedelta(minutes=1)),
                    retry_policy=CHECK_RETRY,
                )
            except ActivityError:
                workflow.logger.warning(
                    "disconnection of a company not confirmed: SmartRecruiters could not "
                    "be asked in time; nothing changed"
                )
                return "unconfirmed"
            self._checks += 1
            asked_at = workflow.now()
            if outcome != STILL_ACCEPTED:
                workflow.logger.info("disconnection check of a company: %s", outcome)
                return outcome
            left = deadline - workflow.now()
            if left <= timedelta(0):
                workflow.logger.warning(
                    "disconnection of a company not confirmed: SmartRecruiters still "
                    "accepts its credentials; nothing changed"
                )
                return "unconfirmed"
            try:
                await workflow.wait_condition(lambda: self._asked, timeout=min(pause, left))
                # Another DELETE: asked again at once, but no sooner than the gap allows.
                rest = asked_at + SIGNALLED_CHECK_GAP - workflow.now()
                if rest > timedelta(0):
                    await workflow.sleep(min(rest, left))
            except TimeoutError:
                pass
            pause = min(pause * 2, LONGEST_PAUSE)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    check.model_copy(update={"deadline": deadline.isoformat()})
                )
