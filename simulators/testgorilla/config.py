"""How a TestGorilla simulator instance is wired: its address, its API user and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Requests per window, per endpoint and API user, as docs.testgorilla.com/apis/rate-limits lists
# them (per minute). `candidature` (GET of one candidature) and `pdf` are not in that table: guesses.
DEFAULT_LIMITS: dict[str, int] = {
    "assessments": 20,  # GET /api/assessments/
    "assessment": 20,  # GET /api/assessments/<id>/
    "invite": 60,  # POST /api/assessments/<id>/invite_candidate/
    "candidatures": 100,  # GET /api/assessments/candidature/?assessment=<id>
    "candidature": 100,  # GET /api/assessments/candidature/<id>/ (guess: as candidate detail)
    "results": 60,  # GET /api/assessments/results/?candidature__assessment=…
    "pdf": 20,  # GET /api/assessments/candidates/<test_taker>/render_pdf/ (guess)
    "delete": 20,  # DELETE /api/assessments/candidature/<id>/
    "reinvite": 60,  # POST /api/assessments/candidature/<id>/send-invitation/
}


@dataclass(frozen=True)
class TestGorillaSimConfig:
    __test__ = False  # not a pytest test class, despite the name

    # Base URL the simulator is reachable at; candidates' invitation links are built from it.
    public_url: str = "http://127.0.0.1:8300"
    # The API user that POST /api/profiles/login/ accepts.
    username: str = "api-user@example.com"
    password: str = "testgorilla-password"
    # A long-lived API key (as Make.com's integration shows), sent like a login token; None: none.
    api_token: str | None = None
    # A login token is refused this long after its last use (TestGorilla: one hour).
    token_idle_seconds: float = 3600.0
    # Rate-limit window and per-endpoint limits (TestGorilla: per minute; see DEFAULT_LIMITS).
    window_seconds: float = 60.0
    limits: dict[str, int] = field(default_factory=dict)
    # The most items one page of a list holds, whatever `limit` asks for (Django REST max_limit).
    max_page_size: int = 100
    # SQLite file holding candidatures and the outbox, so they outlive the process; ":memory:"
    # keeps them for this process only.
    database_path: Path | str = ":memory:"

    def limits_or_default(self) -> dict[str, int]:
        return DEFAULT_LIMITS | self.limits
