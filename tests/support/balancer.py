"""A TCP load balancer in front of several API replicas: each new connection goes to the next
replica in turn, as an L4 balancer (a Kubernetes Service, say) does."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterator


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()


@contextlib.contextmanager
def balancing(port: int, replicas: list[int], host: str = "127.0.0.1") -> Iterator[None]:
    """Listen on `port` and forward each connection to the next of `replicas`' ports, in a
    thread of its own (its own event loop) until the block ends."""
    turns = itertools.cycle(replicas)
    loop = asyncio.new_event_loop()

    async def forward(client_reader, client_writer) -> None:
        try:
            replica_reader, replica_writer = await asyncio.open_connection(host, next(turns))
        except OSError:
            client_writer.close()  # the replica is down: the client sees the connection close
            return
        await asyncio.gather(
            _pipe(client_reader, replica_writer), _pipe(replica_reader, client_writer)
        )

    server = loop.run_until_complete(asyncio.start_server(forward, host, port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
