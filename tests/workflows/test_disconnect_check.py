"""The check behind a DELETE on integrationDisableUrl we could not authenticate: it asks SR until
SR refuses the company's credentials, or until its bound, and another DELETE asks again at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from connections.disconnect import (
    CHECK_SIGNAL,
    DISCONNECTED,
    NOT_CONNECTED,
    STILL_ACCEPTED,
    DisconnectCheck,
)
from tests.support.temporal_test_server import time_skipping
from tests.support.waiting import eventually
from workflows.disconnect_check import CompanyDisconnectCheckWorkflow


@pytest.fixture
async def env():
    async with time_skipping() as environment:
        yield environment


class ScriptedSr:
    """What each check finds, in turn; the last answer repeats."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked = 0

    @activity.defn(name="disconnect_if_revoked_at_sr")
    async def check(self, check: DisconnectCheck) -> str:
        self.asked += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def worker(self, env: WorkflowEnvironment, task_queue: str) -> Worker:
        return Worker(
            env.client,
            task_queue=task_queue,
            workflows=[CompanyDisconnectCheckWorkflow],
            activities=[self.check],
        )


async def test_disconnects_once_sr_refuses_the_credentials(env):
    sr, queue = ScriptedSr(STILL_ACCEPTED, STILL_ACCEPTED, DISCONNECTED), str(uuid.uuid4())
    async with sr.worker(env, queue):
        outcome = await env.client.execute_workflow(
            CompanyDisconnectCheckWorkflow.run,
            DisconnectCheck(company_id="acme", hours=24),
            id=f"c-{queue}",
            task_queue=queue,
        )
    assert (outcome, sr.asked) == (DISCONNECTED, 3)


async def test_an_unknown_company_is_asked_about_once(env):
    sr, queue = ScriptedSr(NOT_CONNECTED), str(uuid.uuid4())
    async with sr.worker(env, queue):
        outcome = await env.client.execute_workflow(
            CompanyDisconnectCheckWorkflow.run,
            DisconnectCheck(company_id="nobody", hours=24),
            id=f"c-{queue}",
            task_queue=queue,
        )
    assert (outcome, sr.asked) == (NOT_CONNECTED, 1)


async def test_gives_up_after_its_bound_with_nothing_changed(env):
    sr, queue = ScriptedSr(STILL_ACCEPTED), str(uuid.uuid4())
    async with sr.worker(env, queue):
        started = await env.get_current_time()
        outcome = await env.client.execute_workflow(
            CompanyDisconnectCheckWorkflow.run,
            DisconnectCheck(company_id="acme", hours=24),
            id=f"c-{queue}",
            task_queue=queue,
        )
        took = await env.get_current_time() - started
    # Growing pauses, up to an hour: a day is a few dozen questions, not thousands.
    assert outcome == "unconfirmed" and timedelta(hours=24) <= took < timedelta(hours=26)
    assert 20 < sr.asked < 50


async def test_another_delete_asks_again_at_once(env):
    sr, queue = ScriptedSr(STILL_ACCEPTED), str(uuid.uuid4())
    async with sr.worker(env, queue):
        with env.auto_time_skipping_disabled():
            handle = await env.client.start_workflow(
                CompanyDisconnectCheckWorkflow.run,
                DisconnectCheck(company_id="acme", hours=24),
                id=f"c-{queue}",
                task_queue=queue,
            )
            await eventually(
                lambda: handle.query(CompanyDisconnectCheckWorkflow.checks), what="the first check"
            )
            # Ten hours in, the pauses are an hour long; a DELETE does not wait for the next one.
            await env.sleep(timedelta(hours=10))
            sr.answers = [DISCONNECTED]
            await handle.signal(CHECK_SIGNAL)
            await env.sleep(timedelta(seconds=1))

            async def ended():
                return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

            await eventually(
                ended,
                timeout=10,
                what="the check to end on SR's refusal, long before its next pause",
            )
    assert await handle.result() == DISCONNECTED


async def test_a_flood_of_deletes_has_sr_asked_once_per_gap(env):
    """Anyone may send the DELETE: a flood of them spends at most one question per gap."""
    sr, queue = ScriptedSr(STILL_ACCEPTED), str(uuid.uuid4())
    async with sr.worker(env, queue):
        with env.auto_time_skipping_disabled():
            handle = await env.client.start_workflow(
                CompanyDisconnectCheckWorkflow.run,
                DisconnectCheck(company_id="acme", hours=24),
                id=f"c-{queue}",
                task_queue=queue,
            )
            await eventually(
                lambda: handle.query(CompanyDisconnectCheckWorkflow.checks), what="the first check"
            )
            await env.sleep(timedelta(hours=10))  # the scheduled pauses are an hour long by now
            asked = sr.asked
            for _ in range(120):  # a DELETE every second for two minutes
                await handle.signal(CHECK_SIGNAL)
                await env.sleep(timedelta(seconds=1))

            async def asked_again():
                return sr.asked > asked

            await eventually(asked_again, what="the flood to have SR asked again")
    # Four gaps: the first DELETE asks at once, then at most one question per gap.
    assert 1 <= sr.asked - asked <= 6
