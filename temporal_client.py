"""The one place a process connects to Temporal: address, namespace and data converter.

Every client and worker gets the same converter: pydantic JSON, encrypted by codec.py, so
candidate data never reaches Temporal's database in plain text.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.service import RPCError

from codec import data_converter
from settings import Settings


async def connect(settings: Settings, *, wait_seconds: float = 30.0) -> Client:
    """Connect, waiting up to `wait_seconds` for a server that is still starting."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + wait_seconds
    converter = data_converter(settings.payload_keys.get_secret_value())
    while True:
        try:
            return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace, data_converter=converter)
        except (RPCError, RuntimeError):
            if loop.time() >= give_up_at:
                raise
            await asyncio.sleep(0.5)  # a retry back-off, not synchronisation
