"""Injected faults for the SR-hosted API: errors, rate limiting and latency on demand."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

# SR's documented generic limit (10 requests per second per endpoint), echoed on injected 429s.
RATE_LIMIT_PER_SECOND = 10


@dataclass
class FaultRule:
    status: int
    count: int
    retry_after: int | None = None
    latency_ms: int = 0
    path_contains: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            self.path_contains is None or self.path_contains in path
        )

    @property
    def passes_through(self) -> bool:
        """A 200 rule only delays the request; the real handler still answers it."""
        return self.status == HTTPStatus.OK

    def response(self) -> JSONResponse:
        headers = {}
        if self.status == HTTPStatus.TOO_MANY_REQUESTS:
            headers = {
                "X-RateLimit-Limit": str(RATE_LIMIT_PER_SECOND),
                "X-RateLimit-Remaining": "0",
            }
            if self.retry_after is not None:
                headers["Retry-After"] = str(self.retry_after)
        phrase = HTTPStatus(self.status).phrase
        code = phrase.upper().replace(" ", "_")
        body = {"errors": [{"code": code, "message": f"{phrase} (injected)"}], "message": phrase}
        return JSONResponse(body, status_code=self.status, headers=headers)


class FaultQueue:
    """Rules in the order they were added; a request uses up one count of the first that matches."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        self._rules.append(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        rule = next((r for r in self._rules if r.matches(method, path)), None)
        if rule is None:
            return None
        rule.count -= 1
        if rule.count == 0:
            self._rules.remove(rule)
        return rule

    def clear(self, path_contains: str | None = None) -> None:
        if path_contains is None:
            self._rules.clear()
        else:
            self._rules = [rule for rule in self._rules if rule.path_contains != path_contains]

    def remaining(self) -> list[dict[str, Any]]:
        return [asdict(rule) for rule in self._rules]
