"""The embedded stack's components log to files: each file is the child's alone."""

from __future__ import annotations

import gc
import os
import sys
import warnings
from pathlib import Path

from embedded import Stack
from settings import Settings


def descriptors_open_on(path: Path) -> list[str]:
    """This process's file descriptors open on `path`."""
    fds = Path("/proc/self/fd")
    return [fd.name for fd in fds.iterdir() if os.path.realpath(fd) == str(path.resolve())]


def test_a_components_log_file_is_closed_here_once_the_component_has_it(tmp_path):
    stack = Stack(Settings(data_dir=tmp_path / "data"), log_dir=tmp_path / "logs")
    gc.collect()  # what earlier tests in this process left behind warns now, not below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        process = stack._spawn("echo", [sys.executable, "-c", "print('started')"])
        log = tmp_path / "logs" / "echo.log"
        assert descriptors_open_on(log) == []
        gc.collect()
    assert [str(warning.message) for warning in caught] == []
    assert process.wait(timeout=30) == 0
    assert log.read_text() == "started\n"
