"""The embedded stack for benchmarks: real processes on free ports in a scratch folder."""

from __future__ import annotations

import contextlib
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from embedded import Stack
from settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_settings(data_dir: Path, **overrides) -> Settings:
    api_port = free_port()
    ports = {name: f"http://127.0.0.1:{free_port()}" for name in ("sr_base_url", "sandbox_vendor_url", "hackerrank_sim_url", "checkr_sim_url", "testgorilla_sim_url")}
    return Settings(
        data_dir=data_dir,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        api_port=api_port,
        public_url=f"http://127.0.0.1:{api_port}",
        **ports,
        **overrides,
    )


@contextlib.contextmanager
def running(components: tuple[str, ...], **overrides) -> Iterator[Stack]:
    """Temporal plus the named components (`sandbox-vendor`, `smartrecruiters-sim`, `worker`, `api`)."""
    subcommands = {"sandbox-vendor": "sim-vendor", "smartrecruiters-sim": "sim-smartrecruiters", "worker": "worker", "api": "api"}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        settings = bench_settings(Path(scratch), **overrides)
        stack = Stack(settings, headless_ui=True, log_dir=Path(scratch) / "logs")
        try:
            stack.start_temporal()
            for name in components:
                port = {"sandbox-vendor": settings.sandbox_vendor_url, "smartrecruiters-sim": settings.sr_base_url, "api": settings.public_url}.get(name)
                stack.start_component(name, subcommands[name], int(port.rsplit(":", 1)[1]) if port else None)
            yield stack
        finally:
            stack.stop()
