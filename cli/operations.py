"""Operator commands run on the store and SmartRecruiters directly, with the same settings as the
API (not the admin API over HTTP), so operators can run them on the server. admin/operations.py
holds the logic the admin API shares."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from cli.output import fail
from settings import get_settings


def operate(
    work: Callable[[Any], Awaitable[Any]], opener: Callable[[Any], Any] | None = None
) -> Any:
    """`work(operations)` on the store (migrated first, disposed after); expected refusals exit 1.
    `opener(settings)`: what `work` gets instead of the store's operations (`orders`: the
    lookup)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from admin.operations import AdminError, opened
    from store import StoreError

    settings = get_settings()

    async def main() -> Any:
        async with (opener or opened)(settings) as operations:
            return await work(operations)

    try:
        return asyncio.run(main())
    except (AdminError, StoreError) as err:
        fail(str(err))
    except OperationalError as err:  # the database is unreachable; SQL and parameters are not shown
        where = make_url(settings.store_url).render_as_string(hide_password=True)
        reason = (
            str(err.orig).strip().splitlines()[0] if err.orig is not None else type(err).__name__
        )
        fail(f"could not use the store at {where}: {reason}")
