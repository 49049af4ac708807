"""Run an ASGI app under a real uvicorn server on a free loopback port, for tests."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

import uvicorn

from embedded import free_port


@contextlib.contextmanager
def serve(app, port: int | None = None) -> Iterator[str]:
    """Serve `app` in a background thread; yields its base URL and stops it on exit."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
