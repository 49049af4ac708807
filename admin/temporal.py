"""The Temporal calls operators' lookups, repairs and resets share: naming an order, and asking
Temporal about it within the RPC timeout, its refusals read as AdminErrors."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from admin.models import ORDER_ID_PATTERN
from admin.operations import AdminError, Conflict, Invalid, NotFound
from orders import visibility
from orders.models import SrUpdateRequest
from settings import Settings

T = TypeVar("T")

# A state query replays the order on a worker; with no worker it waits. Not longer than this.
QUERY_TIMEOUT_SECONDS = 5.0
# An email or a vendor reference names a few orders; never more than this are shown.
MAX_FOUND = 100
ORDER_ID = re.compile(ORDER_ID_PATTERN)


class TemporalFailed(AdminError):
    """Temporal could not be reached, or refused; the message names no candidate data."""

    status = 503


def refused_for_order(err: RPCError, order_id: str, what: str) -> AdminError:
    """Temporal's refusal of `what` (a repair, a reset) for one order, as operators read it."""
    if err.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no order {order_id} in Temporal (SR order ids are case-sensitive)")
    return TemporalFailed(
        f"Temporal refused {what} ({err.status.name if err.status else 'unknown status'})"
    )


async def within(settings: Settings, call: Awaitable[T]) -> T:
    """A Temporal call with the RPC timeout (the client's own retries would outlast it)."""
    return await asyncio.wait_for(call, timeout=settings.temporal_rpc_timeout_seconds)


def check_order_id(order_id: str) -> None:
    if not ORDER_ID.fullmatch(order_id):
        raise Invalid(
            "an SR order id has 1 to 128 letters, digits, '-' or '_' (and may be followed "
            "by ':' and the company id)"
        )


async def references_of(temporal: Client, settings: Settings, order_id: str) -> list[str]:
    """The references of every order with this SR order id: one per company that sent it, and
    the order received under the id alone before references named the company."""
    # Exactly the id, or the id and a company: a prefix alone would also page through every
    # longer order id that begins with it, which any company may send.
    older = visibility.workflow_id(order_id)
    query = (
        f'{visibility.ORDER_WORKFLOWS} AND (WorkflowId = "{older}" OR WorkflowId STARTS_WITH '
        f'"{older}:")'
    )
    found: dict[str, None] = {}  # a reset order is listed once per run

    async def listed() -> None:
        async for execution in temporal.list_workflows(
            query, rpc_timeout=settings.temporal_rpc_timeout
        ):
            found.setdefault(execution.id.removeprefix(visibility.WORKFLOW_ID_PREFIX))
            if len(found) > MAX_FOUND:
                return

    try:
        await within(settings, listed())
    except TimeoutError:
        raise TemporalFailed(
            f"Temporal at {settings.temporal_address} did not answer in time; try again"
        ) from None
    except RPCError as err:
        raise TemporalFailed(
            f"Temporal refused the search ({err.status.name if err.status else 'unknown status'})"
        ) from None
    return list(found)


async def resolve_order(temporal: Client, settings: Settings, given: str) -> str:
    """The reference of the order an operator names by its reference, or by SR's order id alone
    when only one company's order has it (Invalid or Conflict otherwise)."""
    check_order_id(given)
    if visibility.company_of(given) is not None:
        return given
    references = await references_of(temporal, settings, given)
    if len(references) > 1:
        raise Conflict(
            f"several companies' orders have the id {given}; name one: "
            f"{', '.join(sorted(references))}"
        )
    return references[0] if references else given  # none: refused later as an unknown order


async def posted_status(data_converter: DataConverter, scheduled: Any) -> str | None:
    """The status an `update_smartrecruiters` call posts (the only part of its input shown), or
    None when its input cannot be decoded (a retired payload key)."""
    with contextlib.suppress(Exception):
        [request] = await data_converter.decode(scheduled.input.payloads, [SrUpdateRequest])
        return request.update.status.value
    return None
