"""Find and inspect orders, for operators: the admin API (`/admin/orders…`) and the CLI
(`assessments orders …`) both call `OrderLookup`.

- **List** (`list`): a Temporal visibility query on our search attributes (company, vendor,
  package, status, the candidate's deadline; they hold no candidate data), plus the placing time
  and whether the workflow still runs; one page at a time, with Temporal's page token (signed by
  us, so only tokens we gave out reach Temporal).
- **Stuck** (`stuck_for`): an open order is stuck when both hold:
  1. a call to SR or the vendor is unfinished: an activity other than the vendor poll is pending
     (retrying, or no worker has taken it), the vendor poll fails with something else than "no
     news yet" (the vendor refuses or is down), or the workflow task keeps failing;
  2. the order has made no progress for that long: its last step, which is its start or a call
     to SR or the vendor finishing (an activity completed, failed for good, timed out or was
     cancelled; each such step adds a line to the order's timeline), is older than that.
  An order waiting for its candidate is not stuck (its deadline ends that wait). The default
  time is ASSESSMENTS_STUCK_AFTER_HOURS; only open orders placed longer ago are examined.
- **Find** (`find`): by SR order id (the workflow id), by the vendor's reference (the vendor
  reference indexes of our store), or by the candidate's email, looked up by its keyed hash in our
  store (never a search attribute, never logged).
- **Show** (`show`): the order's state (the `state` query; for a completed workflow its result;
  from the history alone when no worker answers) and its timeline: the steps the order noted, each
  SR and vendor call with its outcome, attempts and last failure (from the history and the
  pending activities; our failures never carry candidate data; admin/timeline.py reads the
  history), vendor webhooks and how the workflow ended; with a link to the order in the Temporal UI.

Repairs are admin/repairs.py's (one order) and admin/bulk_repairs.py's (every order of a filter).

Refusals are AdminErrors whose messages are safe to show. Candidate data appears only in
`show`'s answer, for the authorised operator; nothing here logs it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import contextlib
import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Awaitable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from admin.models import (
    OrderCandidate,
    OrderDetail,
    OrderFilter,
    OrderPage,
    OrderSearch,
    OrderSummary,
    TimelineItem,
    VendorDelivery,
)
from admin.operations import Invalid, NotFound, migrated_store
from admin.temporal import (
    MAX_FOUND,
    ORDER_ID,
    QUERY_TIMEOUT_SECONDS,
    TemporalFailed,
    references_of,
    resolve_order,
    within,
)
from admin.timeline import history_timeline, last_progress, unfinished_call
from orders import visibility
from orders.models import Order, OrderState
from settings import Settings
from store import Store
from temporal_client import connect
from workflows.order import AssessmentOrderWorkflow

T = TypeVar("T")

# Orders examined at once (describe, history): enough to be quick, few enough to spare Temporal.
CONCURRENCY = 8
MAX_DURATION = timedelta(days=3650)
BAD_PAGE_TOKEN = "page_token is not one that an earlier page of this listing gave"
_SIGNATURE_BYTES = 16
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?[smhdw])+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# --- parsing what operators type -------------------------------------------------------------


def parse_duration(value: str, name: str) -> timedelta:
    """`30m`, `12h`, `3d`, `2w`, `1d12h`, … as a timedelta; Invalid naming `name` otherwise."""
    text = value.strip().lower().replace(" ", "")
    if not _DURATION.fullmatch(text):
        raise Invalid(
            f"{name} is not a duration: write a number and a unit (s, m, h, d or w), e.g. "
            "30m, 12h, 3d or 1d12h"
        )
    seconds = sum(
        float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)
    )
    if seconds > MAX_DURATION.total_seconds():
        raise Invalid(f"{name} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def order_filter(
    settings: Settings,
    *,
    company: str | None = None,
    vendor: str | None = None,
    package: str | None = None,
    status: str | None = None,
    older_than: str | None = None,
    expiring_within: str | None = None,
    open: bool | None = None,
    stuck: bool = False,
    stuck_for: str | None = None,
    failed: bool = False,
    limit: int = 50,
    page_token: str | None = None,
    names: dict[str, str] | None = None,
) -> OrderFilter:
    """The filter from what the operator typed; `names` maps fields to how the operator named
    them (`--older-than` in the CLI), for the messages of refusals."""
    names = names or {}
    stuck_time = None
    if stuck_for is not None:
        stuck_time = parse_duration(stuck_for, names.get("stuck_for", "stuck_for"))
    elif stuck:
        stuck_time = timedelta(hours=settings.stuck_after_hours)
    if stuck_time is not None and open is False:
        raise Invalid(
            "stuck orders are open ones: ask for stuck orders or for finished ones, not both"
        )
    expiring_name = names.get("expiring_within", "expiring_within")
    if expiring_within is not None and open is False:
        raise Invalid(
            f"orders expiring ({expiring_name}) are open ones: ask for them or for finished "
            "ones, not both"
        )
    if failed and (stuck_time is not None or open or expiring_within is not None):
        raise Invalid(
            "failed orders have ended: ask for failed orders or for open (stuck, expiring) ones, "
            "not both"
        )
    fields: dict[str, Any] = dict(
        company=company,
        vendor=vendor,
        package=package,
        status=status.upper() if status else None,
        older_than=None
        if older_than is None
        else parse_duration(older_than, names.get("older_than", "older_than")),
        expiring_within=None
        if expiring_within is None
        else parse_duration(expiring_within, expiring_name),
        open=open,
        stuck_for=stuck_time,
        failed=failed,
        limit=limit,
        page_token=page_token,
    )
    try:
        return OrderFilter(**fields)
    except ValidationError as err:  # field and reason; the reasons quote patterns, not values
        reasons = "; ".join(
            f"{names.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in err.errors()
        )
        raise Invalid(reasons) from None


# --- the lookup ------------------------------------------------------------------------------


class OrderLookup:
    def __init__(self, temporal: Client, store: Store, settings: Settings) -> None:
        self._temporal = temporal
        self._store = store
        self._settings = settings
        self._rpc_timeout = settings.temporal_rpc_timeout

    @property
    def temporal(self) -> Client:
        return self._temporal

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def store(self) -> Store:
        return self._store

    def ui_url(self, workflow_id: str) -> str:
        """The order in the Temporal UI."""
        namespace = quote(self._settings.temporal_namespace, safe="")
        workflow = quote(workflow_id, safe=":")
        return f"{self._settings.temporal_ui_base_url}/namespaces/{namespace}/workflows/{workflow}"

    # List

    async def list(self, wanted: OrderFilter) -> OrderPage:
        """One page of orders matching the filter, newest first (open ones before finished ones).

        With `stuck_for` a page holds only the stuck orders among one page of open orders, so it
        may hold fewer than `limit` (even none) while `next_page_token` says there is more.
        """
        now = datetime.now(UTC)
        listing = self._temporal.list_workflows(
            visibility_query(wanted, now),
            page_size=wanted.limit,
            next_page_token=self._temporal_token(wanted),
            rpc_timeout=self._rpc_timeout,
        )
        await self._call(listing.fetch_next_page(), "list orders")
        summaries = [self._summary(execution) for execution in listing.current_page or []]
        if wanted.stuck_for is not None:
            cutoff = now - wanted.stuck_for
            examined = await _bounded(self._if_stuck(summary, cutoff) for summary in summaries)
            summaries = [summary for summary in examined if summary is not None]
        return OrderPage(
            orders=summaries, next_page_token=self._our_token(listing.next_page_token, wanted)
        )

    # Page tokens: Temporal's, signed together with the filter they page through, so that only
    # tokens we gave out for this very listing reach Temporal (which answers a made-up one, or
    # one of another query, slowly and vaguely).

    def _our_token(self, temporal_token: bytes | None, wanted: OrderFilter) -> str | None:
        if not temporal_token:
            return None
        return (
            base64.urlsafe_b64encode(self._token_signature(temporal_token, wanted) + temporal_token)
            .decode()
            .rstrip("=")
        )

    def _temporal_token(self, wanted: OrderFilter) -> bytes | None:
        token = wanted.page_token
        if token is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise Invalid(BAD_PAGE_TOKEN) from None
        signature, temporal_token = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not temporal_token or not hmac.compare_digest(
            signature, self._token_signature(temporal_token, wanted)
        ):
            raise Invalid(BAD_PAGE_TOKEN)
        return temporal_token

    def _token_signature(self, temporal_token: bytes, wanted: OrderFilter) -> bytes:
        key = hmac.new(
            self._settings.token_signing_key.get_secret_value().encode(),
            b"admin-order-page-token",
            hashlib.sha256,
        ).digest()
        listing = wanted.model_dump_json(
            exclude={"page_token", "limit"}
        ).encode()  # the filter, not the page size
        return hmac.new(key, listing + b"\0" + temporal_token, hashlib.sha256).digest()[
            :_SIGNATURE_BYTES
        ]

    async def _if_stuck(self, summary: OrderSummary, cutoff: datetime) -> OrderSummary | None:
        handle = self._temporal.get_workflow_handle(summary.workflow_id)
        try:
            description = await self._call(
                handle.describe(rpc_timeout=self._rpc_timeout), "describe an order"
            )
            unfinished = unfinished_call(description.raw_description)
            if unfinished is None:
                return None
            history = await self._call(
                handle.fetch_history(rpc_timeout=self._rpc_timeout), "read an order's history"
            )
        except NotFound:  # gone since it was listed (deleted by retention)
            return None
        progress_at = last_progress(history.events, default=summary.started_at)
        if progress_at >= cutoff:
            return None
        return summary.model_copy(update={"last_progress_at": progress_at, "stuck_on": unfinished})

    # Find

    # `list` in this class's body is the method above.
    async def find(self, search: OrderSearch) -> builtins.list[OrderSummary]:
        """The orders with this SR order id, vendor reference or candidate email;
        none is not an error."""
        if search.order_id is not None:
            if not ORDER_ID.fullmatch(search.order_id):
                references = []
            elif visibility.company_of(search.order_id) is not None:
                references = [search.order_id]
            else:
                references = await references_of(
                    self._temporal, self._settings, search.order_id
                ) or [search.order_id]
        elif search.vendor_ref is not None:
            references = await self._store.orders_by_vendor_reference(search.vendor_ref)
        else:
            assert search.email is not None
            references = await self._store.orders_by_candidate_email(search.email)
        found = await _bounded(self._described(reference) for reference in references[:MAX_FOUND])
        return [summary for summary in found if summary is not None]

    async def _described(self, reference: str) -> OrderSummary | None:
        handle = self._temporal.get_workflow_handle(visibility.workflow_id(reference))
        try:
            return self._summary(
                await self._call(
                    handle.describe(rpc_timeout=self._rpc_timeout), "describe an order"
                )
            )
        except NotFound:  # indexed, but never started (Temporal refused the start) or gone since
            return None

    # Show

    async def show(self, order_id: str) -> OrderDetail:
        """The order in full: state, candidate, timeline of steps and calls, Temporal UI link."""
        reference = await resolve_order(self._temporal, self._settings, order_id)
        handle = self._temporal.get_workflow_handle(visibility.workflow_id(reference))
        try:
            description = await self._call(
                handle.describe(rpc_timeout=self._rpc_timeout), "describe the order"
            )
        except NotFound:
            raise NotFound(
                f"no order {order_id} in Temporal (SR order ids are case-sensitive)"
            ) from None
        run = self._temporal.get_workflow_handle(description.id, run_id=description.run_id)
        history = await self._call(
            run.fetch_history(rpc_timeout=self._rpc_timeout), "read the order's history"
        )
        state, source, note = await self._state(run, description, history)
        order = state.order if state is not None else await self._decoded_input(history)
        if state is None and order is None:
            note = (note or "") + (
                " The order's input could not be decoded either (is its payload key still "
                "in ASSESSMENTS_PAYLOAD_KEYS?)."
            )
        summary = self._summary(description)
        timeline = await history_timeline(
            history,
            description.raw_description,
            vendor=summary.vendor or "vendor",
            data_converter=self._temporal.data_converter,
        )
        if state is not None:
            timeline += [
                TimelineItem(at=entry.at, kind="step", what=entry.what) for entry in state.timeline
            ]
        timeline.sort(key=lambda item: item.at)
        result = state.result if state is not None else None
        at_api_vendor = await self._store.vendor_api.order_by_reference(reference)
        deliveries = (
            None
            if at_api_vendor is None
            else [
                VendorDelivery(
                    at=delivery.at,
                    event=delivery.event,
                    webhook_id=delivery.message_id,
                    attempt=delivery.attempt,
                    outcome=delivery.outcome,
                )
                for delivery in await self._store.vendor_api.deliveries(at_api_vendor.id)
            ]
        )
        return OrderDetail(
            **summary.model_dump(exclude={"deadline"}),  # the state's own, below
            state_from=source,
            note=note.strip() if note else None,
            candidate=None if order is None else OrderCandidate(**order.candidate.model_dump()),
            package_name=order.package_name if order else None,
            job_title=order.job_title if order else None,
            inline=order.inline if order else None,
            vendor_account_id=order.vendor_account_id if order else None,
            vendor_ref=state.invitation.vendor_ref
            if state is not None and state.invitation is not None
            else None,
            vendor_status=state.vendor_status.value
            if state is not None and state.vendor_status
            else None,
            sr_status=state.sr_status.value if state is not None and state.sr_status else None,
            deadline=state.deadline if state is not None else summary.deadline,
            revision_window_ends=state.revision_window_ends if state is not None else None,
            score=result.score if result else None,
            max_score=result.max_score if result else None,
            outcome=result.outcome if result else None,
            report_url=state.report_url if state is not None else None,
            revisions_posted=state.revisions_posted if state is not None else None,
            sr_refusing_until=state.sr_refusing_until if state is not None else None,
            undelivered=state.undelivered.value
            if state is not None and state.undelivered
            else None,
            webhooks_received=len(state.events_received) if state is not None else None,
            duplicate_webhooks=state.duplicate_events if state is not None else None,
            vendor_deliveries=deliveries,
            timeline=timeline,
        )

    async def _state(
        self, run: Any, description: WorkflowExecution, history: WorkflowHistory
    ) -> tuple[OrderState | None, Literal["query", "result", "history"], str | None]:
        """The order's state and where it came from: a completed workflow's result needs no
        worker; otherwise the `state` query (a worker replays the order), else nothing."""
        if description.status == WorkflowExecutionStatus.COMPLETED:
            completed = next(
                (
                    e
                    for e in history.events
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
                ),
                None,
            )
            if completed is not None:
                with contextlib.suppress(
                    Exception
                ):  # undecodable (a retired payload key): ask a worker
                    [state] = await self._temporal.data_converter.decode(
                        completed.workflow_execution_completed_event_attributes.result.payloads,
                        [OrderState],
                    )
                    return state, "result", None
        try:
            state = await asyncio.wait_for(
                run.query(
                    AssessmentOrderWorkflow.state,
                    rpc_timeout=timedelta(seconds=QUERY_TIMEOUT_SECONDS),
                ),
                timeout=QUERY_TIMEOUT_SECONDS + 1,
            )
            return state, "query", None
        except Exception as err:  # noqa: BLE001 - any failure: the history tells instead
            reason = (
                "no worker answered in time"
                if isinstance(err, asyncio.TimeoutError)
                else f"{type(err).__name__}"
            )
            return (
                None,
                "history",
                f"The order's state could not be queried ({reason}); shown from its history alone.",
            )

    async def _decoded_input(self, history: WorkflowHistory) -> Order | None:
        started = next(
            (
                e
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
            ),
            None,
        )
        if started is None:
            return None
        try:
            [order] = await self._temporal.data_converter.decode(
                started.workflow_execution_started_event_attributes.input.payloads, [Order]
            )
        except Exception:  # noqa: BLE001 - an input we cannot decode shows as none
            return None
        return order

    # Shared

    def _summary(self, execution: WorkflowExecution) -> OrderSummary:
        attributes = execution.typed_search_attributes
        workflow_id = execution.id
        return OrderSummary(
            # Listings hold order workflows only.
            order_id=visibility.order_id_of(workflow_id) or workflow_id,
            reference=visibility.reference_of(workflow_id) or workflow_id,
            workflow_id=workflow_id,
            status=attributes.get(visibility.ORDER_STATUS),
            vendor=attributes.get(visibility.VENDOR),
            package=attributes.get(visibility.PACKAGE),
            company=attributes.get(visibility.COMPANY),
            workflow_status=execution.status.name if execution.status is not None else "UNKNOWN",
            run_id=execution.run_id,
            started_at=execution.start_time,
            closed_at=execution.close_time,
            deadline=attributes.get(visibility.DEADLINE),
            temporal_ui_url=self.ui_url(workflow_id),
        )

    async def _call(self, call: Awaitable[T], what: str) -> T:
        """A Temporal call with the RPC timeout, its failures as operators read them."""
        try:
            return await within(self._settings, call)
        except TimeoutError:
            raise TemporalFailed(
                f"Temporal at {self._settings.temporal_address} did not answer in time (to "
                f"{what}); try again"
            ) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound("no such order in Temporal") from None
            if (
                err.status == RPCStatusCode.INVALID_ARGUMENT
            ):  # e.g. our search attributes are not registered
                raise TemporalFailed(f"Temporal refused to {what}: {err.message}") from None
            raise TemporalFailed(
                f"Temporal refused to {what} "
                f"({err.status.name if err.status else 'unknown status'})"
            ) from None


def visibility_query(wanted: OrderFilter, now: datetime) -> str:
    """The Temporal visibility query for the filter. Values were checked against
    FILTER_VALUE_PATTERN (or are ours), so none can end its quotes."""
    conditions = [visibility.ORDER_WORKFLOWS]
    for key, value in (
        (visibility.COMPANY, wanted.company),
        (visibility.VENDOR, wanted.vendor),
        (visibility.PACKAGE, wanted.package),
        (visibility.ORDER_STATUS, wanted.status),
    ):
        if value is not None:
            conditions.append(f'{key.name} = "{value}"')
    if wanted.stuck_for is not None or wanted.expiring_within is not None or wanted.open is True:
        conditions.append('ExecutionStatus = "Running"')
    elif wanted.open is False:
        conditions.append('ExecutionStatus != "Running"')
    if wanted.failed:
        conditions.append(visibility.FAILED_ORDERS)
    placed_before = [now - age for age in (wanted.older_than, wanted.stuck_for) if age is not None]
    if placed_before:
        conditions.append(f'StartTime < "{min(placed_before).isoformat()}"')
    if wanted.expiring_within is not None:
        # The order holds the attribute only while it waits for its candidate (workflows/
        # order.py); a deadline already past (the order expiring now) is not "within".
        deadline = visibility.DEADLINE.name
        conditions.append(
            f'{deadline} >= "{now.isoformat()}" AND '
            f'{deadline} <= "{(now + wanted.expiring_within).isoformat()}"'
        )
    return " AND ".join(conditions)


async def _bounded(work: Iterable[Awaitable[T]]) -> list[T]:
    """Run the calls at most CONCURRENCY at a time, keeping their order; the first failure
    cancels the others (its answer is already decided)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(call)) for call in work]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[OrderLookup]:
    """An OrderLookup on the store (migrated first) and Temporal of these settings (the CLI)."""
    async with migrated_store(settings) as store:
        try:
            temporal = await asyncio.wait_for(
                connect(settings, wait_seconds=2), timeout=settings.temporal_rpc_timeout_seconds
            )
        except (TimeoutError, RPCError, RuntimeError):
            raise TemporalFailed(
                f"could not reach Temporal at {settings.temporal_address}"
            ) from None
        yield OrderLookup(temporal, store, settings)
