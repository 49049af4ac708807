"""How a TestGorilla simulator instance is wired: its address, its API user and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

# Requests per window, per endpoint and API user, as docs.testgorilla.com/apis/rate-limits lists
# them (per minute). `candidature` (GET of one
# candidature) and `pdf` are not in that table: guesses.
DEFAULT_LIMITS: dict[str, int] = {
    "assessments": 20,  # GET /api/assessments/
    "assessment": 20,  # GET /api/assessments/<id>/
    "invite": 60,  # POST /api/assessments/<id>/invite_candidate/
    "candidatures": 100,  # GET /api/assessments/candidature/?assessment=<id>
    "candidate": 100,  # GET /api/assessments/candidates/<testtaker_id>/[?candidature=<id>]
    # GET /api/assessments/candidature/<id>/ (not documented; guess: as candidate detail)
    "candidature": 100,
    "results": 60,  # GET /api/assessments/results/?candidature__assessment=…
    "pdf": 20,  # GET /api/assessments/candidates/<test_taker>/render_pdf/ (guess)
    "delete": 20,  # DELETE /api/assessments/candidature/<id>/
    "reinvite": 60,  # POST /api/assessments/candidature/<id>/send-invitation/
}


# Where TestGorilla's public record is silent or consumers disagree, each plausible form is a
# variant (set here, or at run time through PUT /_sim/variants), so tests prove the adapter
# works with every one of them.
CandidatureGet = Literal["405", "404", "exists"]
CandidateDetail = Literal["nested", "flat"]
InviteAnswer = Literal["candidature", "uuid_only", "empty"]
AssessmentTests = Literal["tests", "tests_detail"]
DuplicateInvite = Literal["errors", "detail"]
TestTakerField = Literal["testtaker_id", "test_taker"]


@dataclass
class Variants:
    __test__ = False  # not a pytest test class, despite the name

    # GET of one candidature (/api/assessments/candidature/<id>/): the docs list only DELETE on
    # that path, so by default it answers 405 as a Django REST framework view without a GET
    # would (our assumption); "404" (not routed) and "exists" (answers the candidature) are the
    # other forms.
    candidature_get: CandidatureGet = "405"
    # The documented candidate detail: the test taker with `assessments_detail` (public consumer
    # code reads it so) or one candidature's detail on its own (our assumption, the other form).
    candidate_detail: CandidateDetail = "nested"
    # The invite's answer, not documented: the candidature (consumer code reads `id`,
    # `testtaker_id`, `invitation_uuid`, `invitation_link` from it), only `invitation_uuid`
    # (all another consumer reads), or an empty object.
    invite_answer: InviteAnswer = "candidature"
    # A second invitation of the same email: `errors[]` with error_key REPEATING_INVITATION
    # (what consumer code sees), or Django REST framework's `{"detail": …}`.
    duplicate_invite: DuplicateInvite = "errors"
    # The candidature's test-taker id field: `testtaker_id` (the docs' and consumers' name) or
    # `test_taker` (the results filter's name, candidature__test_taker).
    test_taker_field: TestTakerField = "testtaker_id"
    # Candidatures carry `invitation_link` (consumer code reads it) or only `invitation_uuid`.
    invitation_links: bool = True
    # An assessment detail's tests: `tests` items with their names (the docs name `tests`; the
    # items' fields are our assumption), or `tests` as ids with `tests_detail[].test` holding
    # them (as consumer code reads them).
    assessment_tests: AssessmentTests = "tests"


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
    # The forms the simulator answers in at start (see Variants).
    variants: Variants = field(default_factory=Variants)

    def limits_or_default(self) -> dict[str, int]:
        return DEFAULT_LIMITS | self.limits
