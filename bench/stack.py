"""The embedded stack for benchmarks: real processes on free ports in a scratch folder."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator

from embedded import Stack, settings_on_free_ports


@contextlib.contextmanager
def running(components: tuple[str, ...], **overrides) -> Iterator[Stack]:
    """Temporal plus the named components (`sandbox-vendor`, `smartrecruiters-sim`, `worker`, `api`)."""
    subcommands = {"sandbox-vendor": "sim-vendor", "smartrecruiters-sim": "sim-smartrecruiters", "worker": "worker", "api": "api"}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        settings = settings_on_free_ports(Path(scratch), **overrides)
        stack = Stack(settings, headless_ui=True, log_dir=Path(scratch) / "logs")
        try:
            stack.start_temporal()
            for name in components:
                port = {"sandbox-vendor": settings.sandbox_vendor_url, "smartrecruiters-sim": settings.sr_base_url, "api": settings.public_url}.get(name)
                stack.start_component(name, subcommands[name], int(port.rsplit(":", 1)[1]) if port else None)
            yield stack
        finally:
            stack.stop()
