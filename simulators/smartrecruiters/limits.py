"""SR's published API limits per credential: 10 requests in any second and 8 in flight, and 429
beyond (SR's rate-limiting page, for its SmartAPI). Nothing says they apply to the assessment
API, so the simulator keeps them only under the `rate_limits: "enforced"` variant."""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque

from fastapi.responses import JSONResponse

REQUESTS_PER_SECOND = 10
IN_FLIGHT = 8


class CredentialLimits:
    def __init__(self) -> None:
        self._arrivals: defaultdict[str, deque[float]] = defaultdict(deque)
        self._in_flight: Counter[str] = Counter()

    def enter(self, credential: str) -> JSONResponse | None:
        """Count a request of the credential in; SR's 429 if it is over either limit (a refused
        request is not counted)."""
        now = time.monotonic()
        arrivals = self._arrivals[credential]
        while arrivals and arrivals[0] <= now - 1.0:
            arrivals.popleft()
        if len(arrivals) >= REQUESTS_PER_SECOND or self._in_flight[credential] >= IN_FLIGHT:
            return self._refusal(credential, len(arrivals))
        arrivals.append(now)
        self._in_flight[credential] += 1
        return None

    def leave(self, credential: str) -> None:
        self._in_flight[credential] -= 1

    def _refusal(self, credential: str, in_window: int) -> JSONResponse:
        # The header names of SR's rate-limiting page; it documents no Retry-After.
        headers = {
            "X-RateLimit-Limit": str(REQUESTS_PER_SECOND),
            "X-RateLimit-Remaining": str(max(0, REQUESTS_PER_SECOND - in_window)),
            "X-RateLimit-Concurrent-Limit": str(IN_FLIGHT),
            "X-RateLimit-Concurrent-Remaining": str(
                max(0, IN_FLIGHT - self._in_flight[credential])
            ),
        }
        body = {"errors": [{"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}]}
        return JSONResponse(body, status_code=429, headers=headers)
