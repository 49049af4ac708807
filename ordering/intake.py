"""Turning SmartRecruiters' order requests into order workflows, exactly once per order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from ordering.catalog import Catalog
from orders import visibility
from orders.models import Candidate, InvitationLink, Order
from orders.visibility import initial_search_attributes, order_reference, workflow_id
from origins import origin_allowed, origin_of
from settings import Settings
from smartrecruiters.callbacks import callback_origins, read_callback
from smartrecruiters.models import (
    AssessmentPackageOrderRequest,
    InlineAssessmentPackageOrderRequest,
)
from smartrecruiters.observations import observed
from store import Store
from telemetry import ORDER_ID
from vendors.registry import ADAPTERS
from workflows.order import AssessmentOrderWorkflow

log = logging.getLogger("assessments.intake")


class InvitationUnavailable(Exception):
    """The candidate's link is not there yet (vendor or worker slow or down); SR may retry."""


class InvitationRefused(Exception):
    """The vendor refused to invite the candidate; retrying the same order will not help."""


class OrderOfAnotherCompany(Exception):
    """The order id is another company's order: SR confirmed it, or an order received under it
    before workflow ids named the company is another company's. Says nothing more of that order."""


class FieldUnacceptable(ValueError):
    """A field of SR's order we cannot take as sent: names the field (as SR names it) and what is
    accepted, never the value."""

    def __init__(self, field: str, accepted: str) -> None:
        super().__init__(f"{field}: {accepted}")
        self.field = field
        self.accepted = accepted


class CandidateUnacceptable(FieldUnacceptable):
    """The order's vendor would refuse a candidate detail as SR sent it."""


def check_callback(url: str, settings: Settings) -> None:
    """Results, and our SR token with them, go to resultCallbackURL: only on an origin of SR's."""
    if not origin_allowed(
        url, callback_origins(settings.sr_callback_origins, settings.sr_base_url)
    ):
        raise FieldUnacceptable(
            "resultCallbackURL", "must be a URL on one of SmartRecruiters' origins"
        )
    callback = read_callback(url)
    assert callback is not None  # the request model refused any other URL
    if not urlsplit(url).path.startswith(settings.sr_callback_path_prefix):
        raise FieldUnacceptable(
            "resultCallbackURL",
            "must be a URL of SmartRecruiters' assessment API (under "
            f"{settings.sr_callback_path_prefix})",
        )
    observed("resultCallbackURL's path", callback.shape)
    on_api = origin_of(url) == origin_of(settings.sr_base_url)
    observed(
        "resultCallbackURL's host",
        "SR API origin (SR_BASE_URL's)" if on_api else "another SR origin",
    )


# Our candidate's fields, as SR's order request names them.
_SR_CANDIDATE_FIELDS = {
    "first_name": "candidate.firstName",
    "last_name": "candidate.lastName",
    "email": "candidate.email",
}


def check_candidate(order: Order) -> None:
    """Refuse, before any workflow starts, a candidate the order's vendor would refuse later (the
    order would end REJECTED after SR was told it was accepted)."""
    limits = ADAPTERS[order.vendor].capabilities.candidate_limits
    for field, sr_field in _SR_CANDIDATE_FIELDS.items():
        if refusal := getattr(limits, field).refusal(getattr(order.candidate, field)):
            raise CandidateUnacceptable(sr_field, f"the {order.vendor} vendor accepts {refusal}")


class TemporalUnavailable(Exception):
    """Temporal did not answer within the RPC timeout; the order may or may not have started, and
    SR's retry joins it either way."""


# When the API reads again which orders were received before references: while a rolling
# deploy runs, replicas of the older version still start such orders. An hour covers the deploy.
OLDER_ORDERS_READ_EVERY = timedelta(minutes=10)
OLDER_ORDERS_READS = 7
# SR repeats an order within minutes (a retry, a double click); an order ended longer ago than
# this is never repeated.
OLDER_ORDERS_ENDED_WITHIN = timedelta(days=1)


class OlderOrders:
    """The orders received before workflow ids named the company (running, or ended lately), by SR
    order id.

    No new ones are made once every API replica runs this version, so they are read when the API
    starts and a few times while a deploy may still run: SR's repeat of one of them joins it, and
    intake asks Temporal about an order's older workflow only when the order is one of them (until
    they are read, about every order), rather than once per order for ever.
    """

    def __init__(self) -> None:
        self._ids: frozenset[str] | None = None

    async def read(self, temporal: Client, settings: Settings) -> None:
        reads = 0
        while reads < OLDER_ORDERS_READS:
            try:
                self._ids = await asyncio.wait_for(
                    self._listed(temporal, settings),
                    timeout=10 * settings.temporal_rpc_timeout_seconds,
                )
                reads += 1
                log.info(
                    "orders received before references named the company, running or ended "
                    "lately: %d",
                    len(self._ids),
                )
            except Exception:  # noqa: BLE001 - intake asks about each order instead
                log.warning(
                    "Temporal did not list the orders received before references; intake "
                    "asks about each order meanwhile"
                )
            await asyncio.sleep(
                OLDER_ORDERS_READ_EVERY.total_seconds()
            )  # the next read, not synchronisation

    @staticmethod
    async def _listed(temporal: Client, settings: Settings) -> frozenset[str]:
        ended_since = (datetime.now(UTC) - OLDER_ORDERS_ENDED_WITHIN).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = (
            f'{visibility.ORDER_WORKFLOWS} AND (ExecutionStatus = "Running" OR CloseTime > '
            f'"{ended_since}")'
        )
        found = set()
        async for execution in temporal.list_workflows(
            query, page_size=1000, rpc_timeout=settings.temporal_rpc_timeout
        ):
            reference = visibility.reference_of(execution.id)
            if reference is not None and visibility.company_of(reference) is None:
                found.add(reference)
        return frozenset(found)

    def may_hold(self, order_id: str) -> bool:
        return self._ids is None or order_id in self._ids


class OrderIntake:
    def __init__(
        self,
        temporal: Client,
        catalog: Catalog,
        store: Store,
        settings: Settings,
        older: OlderOrders,
    ) -> None:
        self._temporal = temporal
        self._catalog = catalog
        self._store = store
        self._settings = settings
        self._older = older

    async def place(self, request: AssessmentPackageOrderRequest) -> Order:
        """Start the order's workflow; a repeat of the same order joins the existing one."""
        order = await self._order(request, inline=False)
        if await self._older_order(order) is not None:
            return order  # SR repeats an order we received before workflow ids named the company
        start = self._temporal.start_workflow(
            AssessmentOrderWorkflow.run,
            order,
            rpc_timeout=self._settings.temporal_rpc_timeout,
            **self._start_options(order),
        )
        try:
            # The client's own retries of an unreachable server outlast rpc_timeout (about 10 s,
            # SR's own patience), so the timeout is kept here: SR gets a 503 in time, not a timeout.
            await asyncio.wait_for(start, timeout=self._settings.temporal_rpc_timeout_seconds)
        except WorkflowAlreadyStartedError:
            pass  # the order ran and finished before; SR is retrying an order we already served
        except TimeoutError:
            raise TemporalUnavailable("Temporal did not answer in time") from None
        return order

    async def place_inline(self, request: InlineAssessmentPackageOrderRequest) -> str:
        """Start the order and answer with the candidate's test link, within one request."""
        order = await self._order(request, inline=True)
        older = await self._older_order(order)
        if older is not None:
            return await self._link_of(older)
        start = WithStartWorkflowOperation(
            AssessmentOrderWorkflow.run, order, **self._start_options(order)
        )
        try:
            return await self._link(
                self._temporal.execute_update_with_start_workflow(
                    AssessmentOrderWorkflow.invitation_link, start_workflow_operation=start
                )
            )
        except WorkflowAlreadyStartedError:
            # The order already finished: answer with the link it was given.
            return await self._ended_order_link(
                self._temporal.get_workflow_handle(workflow_id(order.reference))
            )

    async def _link_of(self, handle: WorkflowHandle) -> str:
        """The candidate's link from an order's existing workflow, running or ended."""
        try:
            return await self._link(
                handle.execute_update(
                    AssessmentOrderWorkflow.invitation_link,
                    rpc_timeout=self._settings.temporal_rpc_timeout,
                )
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:  # the workflow ended: it takes no update
                raise InvitationUnavailable("Temporal did not answer") from None
            return await self._ended_order_link(handle)

    async def _link(self, update: Awaitable[InvitationLink]) -> str:
        """The link the order's `invitation_link` update answers, within the inline order's wait."""
        try:
            link = await asyncio.wait_for(
                update, timeout=self._settings.inline_order_timeout_seconds
            )
        except WorkflowUpdateFailedError as err:
            raise InvitationRefused("the vendor could not invite the candidate") from err
        except (TimeoutError, RPCTimeoutOrCancelledError) as err:
            # The order is started all the same: SR's retry joins it and gets the link.
            raise InvitationUnavailable("the vendor did not issue the link in time") from err
        return link.url

    async def _ended_order_link(self, handle: WorkflowHandle) -> str:
        """The link an order that ended was given."""
        try:
            state = await asyncio.wait_for(
                handle.query(
                    AssessmentOrderWorkflow.state, rpc_timeout=self._settings.temporal_rpc_timeout
                ),
                timeout=self._settings.temporal_rpc_timeout_seconds,
            )
        except TimeoutError:
            raise InvitationUnavailable("Temporal did not answer in time") from None
        if state.invitation is None:
            raise InvitationRefused("the vendor could not invite the candidate") from None
        return state.invitation.test_url

    async def _older_order(self, order: Order) -> WorkflowHandle | None:
        """The company's own workflow of this order, if it was received before workflow ids named
        the company; OrderOfAnotherCompany if the order id is another company's.

        One company's order is never joined, read or answered for another, and an order id that
        one company sent first never blocks the company SR confirms it belongs to.
        """
        owner = await self._store.order_owner(order.order_id)
        if owner is not None and owner != order.company_id:
            raise OrderOfAnotherCompany()
        if not self._older.may_hold(order.order_id):
            return None
        handle = self._temporal.get_workflow_handle(workflow_id(order.order_id))
        try:
            description = await asyncio.wait_for(
                handle.describe(rpc_timeout=self._settings.temporal_rpc_timeout),
                timeout=self._settings.temporal_rpc_timeout_seconds,
            )
        except TimeoutError:
            raise TemporalUnavailable("Temporal did not answer in time") from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise TemporalUnavailable("Temporal did not answer") from None
        if description.typed_search_attributes.get(visibility.COMPANY) != order.company_id:
            raise OrderOfAnotherCompany()
        return handle

    async def _order(
        self,
        request: AssessmentPackageOrderRequest | InlineAssessmentPackageOrderRequest,
        *,
        inline: bool,
    ) -> Order:
        ORDER_ID.set(request.order_id)  # every line logged while this request is served names it
        check_callback(request.resultCallbackURL, self._settings)
        entry = await self._catalog.find(request.companyId, request.assessmentPackageId)
        if inline and entry.package.inline is False:
            raise InvitationRefused("the vendor offers this package only by invitation, not inline")
        log.info(
            "order received: %s at %s%s",
            entry.package.id,
            entry.vendor,
            " (inline)" if inline else "",
        )
        order = Order(
            order_id=request.order_id,
            company_id=request.companyId,
            reference=order_reference(request.order_id, request.companyId),
            package_id=entry.package.id,
            package_name=entry.package.name,
            vendor=entry.vendor,
            vendor_account_id=entry.vendor_account_id,
            result_callback_url=request.resultCallbackURL,
            candidate=Candidate(
                first_name=request.candidate.firstName,
                last_name=request.candidate.lastName,
                email=str(request.candidate.email),
            ),
            job_id=request.job.id,
            job_title=getattr(request.job, "title", None),
            inline=inline,
            return_url=request.return_url,
            deadline_days=entry.deadline_days,
            poll_interval_seconds=self._settings.poll_interval_seconds,
            report_wait_days=self._settings.report_wait_days,
            result_revision_days=self._settings.result_revision_days,
            revision_poll_interval_seconds=self._settings.revision_poll_interval_seconds,
            sr_refusal_give_up_days=self._settings.sr_refusal_give_up_days,
            received_at=datetime.now(UTC),
        )
        check_candidate(order)
        for point, form in request.protocol_forms():
            observed(point, form)
        return order

    def _start_options(self, order: Order) -> dict:
        return dict(
            id=workflow_id(order.reference),
            task_queue=self._settings.task_queue,
            # One order, one workflow, one invitation: repeats join the running workflow and a
            # finished order is never started again.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=initial_search_attributes(order),
            static_summary=(
                f"{order.package_name} ({order.vendor}) for SmartRecruiters order {order.order_id}"
            ),
        )
