"""Run an ASGI app under a real uvicorn server on a free loopback port, for tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from embedded import Stack, free_port, settings_on_free_ports
from simulators.smartrecruiters.app import create_app
from simulators.smartrecruiters.config import SmartRecruitersSimConfig


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


@contextlib.contextmanager
def smartrecruiters_alone(data_dir: Path) -> Iterator[tuple[str, SmartRecruitersSimConfig]]:
    """The SR simulator on its own: our SR client talks to it; its partner
    (our API) is unreachable."""

    port = free_port()
    config = SmartRecruitersSimConfig(
        public_url=f"http://127.0.0.1:{port}",
        database_path=data_dir / "sr.db",
        client_id="our-id",
        client_secret="our-secret",
        partner_api_url="http://127.0.0.1:9",
        partner_client_id="x",
        partner_client_secret="y",
    )
    with serve(create_app(config), port) as url:
        yield url, config


@contextlib.contextmanager
def order_path(data_dir: Path, *, headless_ui: bool = True, **settings) -> Iterator[Stack]:
    """A stack of only what a sandbox order needs (Stack.start_order_path) on free ports, with
    `settings`; its logs in `data_dir`/logs. `headless_ui=False` serves the Temporal UI too."""
    stack = Stack(
        settings_on_free_ports(data_dir, **settings),
        headless_ui=headless_ui,
        log_dir=data_dir / "logs",
    )
    try:
        stack.start_order_path()
        yield stack
    finally:
        stack.stop()
