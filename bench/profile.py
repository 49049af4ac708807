"""`--profile DIR` of the benchmarks: py-spy samples each stack process while our path runs.

py-spy (`pip install -e '.[bench]'`) attaches to the running processes from outside, so the
code under test is unchanged. Each process's stacks are written to `DIR/<name>.raw` (collapsed
stacks: speedscope.app or flamegraph.pl draw them) and summarised: the functions where the
samples are, and our own functions with what they call.
Threads that only wait (aiosqlite's and the thread pool's queues, the event loop's select) are
left out of the summary: py-spy cannot always tell a blocked C call from work.
"""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

# Innermost frames where a thread waits rather than works.
_WAITING = (
    "_connection_worker_thread",
    "_worker (concurrent",
    "Condition.wait",
    "select (selectors",
    "Thread._wait_for_tstate_lock",
)
# Frames of this project's code (py-spy names a frame "function (path:line)").
_OURS = re.compile(
    r"\((?:workflows|activities|api|orders|store|vendors|smartrecruiters|connections|simulators|admin)/"
    r"|\((?:peers|codec|telemetry|worker|temporal_client|settings)\.py:"
)


@contextlib.contextmanager
def profiled(pids: dict[str, int], directory: Path | None, rate: int = 100) -> Iterator[None]:
    """Sample the named processes while the block runs; nothing happens without a directory."""
    if directory is None:
        yield
        return
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy: pip install -e '.[bench]'")
    directory.mkdir(parents=True, exist_ok=True)
    recorders = {
        name: subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(directory / f"{name}.raw"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    }
    try:
        yield
    finally:
        for recorder in recorders.values():
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        for recorder in recorders.values():
            recorder.wait(timeout=60)
    print_summary(directory, list(pids))


def hot_functions(
    raw: Path, top: int = 12
) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Working samples; the functions running in most of them; ours, counting what they call."""
    own: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    working = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(waiting in frames[-1] for waiting in _WAITING):
            continue
        working += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if _OURS.search(frame):
                ours[frame] += int(count)
    return working, own.most_common(top), ours.most_common(top)


def print_summary(directory: Path, names: list[str]) -> None:
    console = Console(width=160)
    for name in names:
        raw = directory / f"{name}.raw"
        if not raw.exists():
            continue
        working, running, ours = hot_functions(raw)
        for title, functions in (("running", running), ("our code, with what it calls", ours)):
            table = Table(
                title=f"{name}: {title} (% of {working} working samples; stacks in {raw})"
            )
            table.add_column("function (file:line)")
            table.add_column("%", justify="right")
            for function, samples in functions:
                table.add_row(function[:120], f"{100 * samples / max(working, 1):.1f}")
            console.print(table)
