"""Every committed history replays against the current `AssessmentOrderWorkflow`.

The histories in histories/ are real runs of every path through the workflow, recorded from an
embedded stack (`python -m tests.replay.record`). A change to the workflow that would make it
issue different commands for any of them (and so break orders in flight when a worker with the
change picks them up) fails here: guard such changes with `workflow.patched`
(docs/workflow-changes.md). No server is needed; replaying all of them takes a few seconds.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from codec import ENCODING, data_converter
from orders.models import Order, OrderState, ResultUpdate, SrStatus, VendorRef, VendorStatus
from settings import EMBEDDED_PAYLOAD_KEY
from tests.replay.record import PATHS
from workflows.order import AssessmentOrderWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
# The histories were written with the embedded (public, development-only) payload key.
CONVERTER = data_converter(EMBEDDED_PAYLOAD_KEY)


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"assessment-order:replay-{path.stem}", path.read_text())


async def replay(path: Path, *workflows: type) -> None:
    replayer = Replayer(
        workflows=list(workflows) or [AssessmentOrderWorkflow], data_converter=CONVERTER
    )
    await replayer.replay_workflow(history(path))  # raises on non-determinism or a failed task


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_the_current_workflow_replays_the_history(path):
    await replay(path)


def test_every_path_has_a_committed_history_and_every_history_a_path():
    # A path added to the recorder is recorded (`python -m tests.replay.record`) and committed;
    # <path>@<patch id>.json are the histories of a patched version (docs/workflow-changes.md).
    recorded = {p.stem.split("@")[0] for p in HISTORIES}
    assert sorted(set(PATHS) - recorded) == [] and sorted(recorded - set(PATHS)) == []


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
def test_the_history_holds_no_candidate_data_in_plain_text(path):
    text = path.read_text()
    assert "example.com" not in text and "Replay" not in text
    # Every payload is sealed by the codec, except the search attributes (keywords, no candidate
    # data), the server's own cancellation details and the SDK's `workflow.patched` markers.
    plain = [
        (where, base64.b64decode(p.get("data", "")).decode())
        for where, p in _payloads(json.loads(text))
        if _encoding(p) != ENCODING
    ]
    patches = [
        json.loads(data)
        for where, data in plain
        if where.endswith("markerRecordedEventAttributes.details.patch-data")
    ]
    assert all(set(patch) == {"id", "deprecated"} for patch in patches), patches
    plain = [
        (where, data)
        for where, data in plain
        if not where.endswith("markerRecordedEventAttributes.details.patch-data")
    ]
    assert all(
        ".searchAttributes.indexedFields." in where
        or where.endswith("activityTaskCanceledEventAttributes.details")
        for where, _ in plain
    ), plain
    assert {data for where, data in plain if where.endswith("details")} <= {
        '"ACTIVITY_ID_NOT_STARTED"'
    }


def _payloads(node, where: str = ""):
    if isinstance(node, dict):
        if isinstance(node.get("metadata"), dict) and "encoding" in node["metadata"]:
            yield where, node
            return
        for key, value in node.items():
            yield from _payloads(value, where if key == "payloads" else f"{where}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _payloads(value, where)


def _encoding(payload: dict) -> bytes:
    return base64.b64decode(payload["metadata"]["encoding"])


# --- the harness catches changes (docs/workflow-changes.md) --------------------------------------


@workflow.defn(name="AssessmentOrderWorkflow", sandboxed=False)
class WaitsBeforeInviting(AssessmentOrderWorkflow):
    """A careless change: a pause before the invitation, so the first command is a timer."""

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        await workflow.sleep(timedelta(minutes=1))
        return await super().run(order)


@workflow.defn(name="AssessmentOrderWorkflow", sandboxed=False)
class SkipsPending(AssessmentOrderWorkflow):
    """A careless change further in: after the invitation, SR is not told PENDING."""

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        return await super().run(order)

    async def _tell_smartrecruiters(self, update: ResultUpdate, *, progress: bool = False) -> None:
        if update.status != SrStatus.PENDING:
            await super()._tell_smartrecruiters(update, progress=progress)


class WithdrawsOnDecline(AssessmentOrderWorkflow):
    """The docs' example: a declined invitation is
    withdrawn at the vendor before SR hears REJECTED."""

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        return await super().run(order)

    async def _finish(self, update: ResultUpdate, note: str) -> OrderState:
        if self._state.vendor_status == VendorStatus.DECLINED and self.withdraws():
            order, invitation = self._state.order, self._state.invitation
            await self._withdraw(
                VendorRef(
                    vendor=order.vendor,
                    vendor_account_id=order.vendor_account_id,
                    ref=invitation.vendor_ref,
                )
            )
        return await super()._finish(update, note)

    def withdraws(self) -> bool:
        return True  # careless: orders that declined before the change replay into a new command


@workflow.defn(name="AssessmentOrderWorkflow", sandboxed=False)
class WithdrawsOnDeclineCarelessly(WithdrawsOnDecline):
    @workflow.run
    async def run(self, order: Order) -> OrderState:
        return await super().run(order)


@workflow.defn(name="AssessmentOrderWorkflow", sandboxed=False)
class WithdrawsOnDeclineIfPatched(WithdrawsOnDecline):
    """Release 1: behind `workflow.patched`."""

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        return await super().run(order)

    def withdraws(self) -> bool:
        return workflow.patched("withdraw-on-decline")


@workflow.defn(name="AssessmentOrderWorkflow", sandboxed=False)
class WithdrawsOnDeclinePatchDeprecated(WithdrawsOnDecline):
    """Release 2: `deprecate_patch`, for when no order from before release 1 is open."""

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        return await super().run(order)

    def withdraws(self) -> bool:
        workflow.deprecate_patch("withdraw-on-decline")
        return True


def recorded(stem: str) -> Path:
    return next(p for p in HISTORIES if p.stem == stem)


@pytest.mark.parametrize(
    ("changed", "path"),
    [
        (WaitsBeforeInviting, "completed-via-webhook"),
        (SkipsPending, "completed-via-webhook"),
        (WithdrawsOnDeclineCarelessly, "candidate-declined"),
    ],
    ids=["first-command", "later-command", "command-on-one-path"],
)
async def test_a_changed_workflow_fails_the_replay(changed, path):
    with pytest.raises(NondeterminismError):
        await replay(recorded(path), changed)


@pytest.mark.parametrize("path", ["candidate-declined", "completed-via-webhook"])
async def test_the_change_behind_workflow_patched_replays(path):
    await replay(recorded(path), WithdrawsOnDeclineIfPatched)


async def test_deprecating_the_patch_breaks_the_histories_from_before_the_patch():
    # Hence step 2 of the procedure deletes them, once no such order is open anywhere.
    with pytest.raises(NondeterminismError):
        await replay(recorded("candidate-declined"), WithdrawsOnDeclinePatchDeprecated)
