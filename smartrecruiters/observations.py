"""The first time a real SmartRecruiters request shows how SR fills a point its public record
leaves open, say so once in the log (docs/smartrecruiters-protocol.md lists the points).

An operator then learns from production which of the forms we accept SR really uses, without
reading requests. Only the name of the form is logged: never a value from the request.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("assessments.smartrecruiters.protocol")

_seen: set[tuple[str, str]] = set()
_lock = threading.Lock()


def observed(point: str, form: str) -> None:
    """SR used `form` for the open `point` (both fixed names of ours, never request data)."""
    key = (point, form)
    if key in _seen:
        return
    with _lock:
        if key in _seen:
            return
        _seen.add(key)
    log.info("SmartRecruiters protocol: %s is %s (first seen in this process)", point, form)
