"""The simulated TestGorilla account: tokens, candidatures, results, outbox, limits, faults.

Candidatures, the outbox, test takers, assessment statuses and the id counter are written through
to a document store as they change, so a restarted simulator still knows every invitation; login
tokens, limits and faults live in memory.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ..docstore import DocumentStore
from ..ratelimit import FixedWindowLimiter
from .catalog import ASSESSMENTS, DEFAULT_DISPLAYS, DEFAULT_SCORE, Assessment, Test
from .config import TestGorillaSimConfig, Variants

CandidatureStatus = Literal["invited", "started", "completed"]
FaultKind = Literal["throttle", "error", "slow"]
API_TOKEN_USER = "api-token"
# Kinds of documents in the store.
_CANDIDATURE, _SENT_EMAIL, _TEST_TAKER, _ASSESSMENT_STATUS, _COUNTER = (
    "candidature",
    "email",
    "test_taker",
    "assessment_status",
    "counter",
)


class SimError(Exception):
    """An error answer in Django REST framework's shape (`{"detail": …}` unless a body is given)."""

    def __init__(
        self,
        status_code: int,
        detail: str = "",
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.body = body if body is not None else {"detail": detail}
        self.headers = headers or {}


def unauthorized(detail: str) -> SimError:
    return SimError(401, detail, headers={"WWW-Authenticate": "Token"})


@dataclass
class TokenRecord:
    user: str
    last_used: float
    uses: int = 0
    expires: bool = True


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite the name

    id: int
    test: Test
    score: float | None
    score_display: str
    percentile: float | None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.test.name,
            "score": self.score,
            "status": "published",
            "completed": True,
            "test_id": self.test.id,
            "custom_questions": [],
            "algorithm": self.test.algorithm,
            "is_code_test": False,
            "score_display": self.score_display,
            "display_normalized_percentile_score": self.percentile,
        }


@dataclass
class Candidature:
    id: int
    assessment: Assessment
    test_taker: int
    email: str
    first_name: str
    last_name: str
    invitation_uuid: str
    created: datetime
    status: CandidatureStatus = "invited"
    results: list[TestResult] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def avg_score(self) -> float | None:
        scores = [r.score for r in self.results if r.score is not None]
        return round(sum(scores) / len(scores), 1) if scores else None

    def link(self, public_url: str) -> str:
        """The candidate's link, in the form public consumer code sees
        (…/testtaker/welcome/<uuid>)."""
        return f"{public_url}/testtaker/welcome/{self.invitation_uuid}"

    def view(self, public_url: str, variants: Variants) -> dict[str, Any]:
        """The candidature as the list (and the invite's answer) shows it."""
        personality = next((r for r in self.results if not r.test.scored), None)
        view = {
            "id": self.id,
            "assessment": self.assessment.id,
            variants.test_taker_field: self.test_taker,
            "email": self.email,
            "full_name": self.full_name,
            "status": self.status,
            "stage": "NYE",
            "avg_score": self.avg_score,
            "created": self.created.isoformat(),
            "invitation_uuid": self.invitation_uuid,
            "is_hired": False,
            "personality_algorithm": personality.test.algorithm if personality else None,
            "personality": personality.score_display if personality else None,
        }
        if variants.invitation_links:
            view["invitation_link"] = self.link(public_url)
        return view

    def detail(self) -> dict[str, Any]:
        """One item of the candidate detail's `assessments_detail`
        (the fields consumer code reads)."""
        return {
            "id": self.id,
            "assessment_id": self.assessment.id,
            "assessment_name": self.assessment.name,
            "status": self.status,
            "average": self.avg_score,
            "stage": "NYE",
            "invited": self.created.isoformat(),
            "is_exited_full_screen": False,
            "is_left_screen": False,
            "repeated_ip": False,
        }


@dataclass
class Fault:
    kind: FaultKind
    remaining: int
    endpoint: str | None = None
    status: int = 503
    delay_seconds: float = 0.5
    reset_seconds: int | None = None

    def view(self) -> dict[str, Any]:
        return {
            key: getattr(self, key)
            for key in ("kind", "remaining", "endpoint", "status", "delay_seconds", "reset_seconds")
        }


@dataclass
class Email:
    to: str
    subject: str
    link: str
    assessment: int
    candidature: int
    sent_at: datetime


@dataclass
class EndpointStats:
    limit: int
    allowed: int = 0
    throttled: int = 0  # 429s the limit gave
    forced: int = 0  # answers the fault switches gave (429, 5xx)
    # Requests let through per (user, window end): what proves a client kept to the limit.
    windows: dict[tuple[str, float], int] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "allowed": self.allowed,
            "throttled": self.throttled,
            "forced": self.forced,
            "max_in_window": max(self.windows.values(), default=0),
            "windows": list(self.windows.values()),
        }


class TestGorillaSim:
    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, config: TestGorillaSimConfig, store: DocumentStore) -> None:
        self.config = config
        self.public_url = config.public_url.rstrip("/")
        self._store = store
        statuses = {int(doc["id"]): doc["status"] for doc in store.all(_ASSESSMENT_STATUS)}
        self.assessments: dict[int, Assessment] = {
            a.id: Assessment(a.id, a.name, statuses[a.id], a.tests) if a.id in statuses else a
            for a in ASSESSMENTS
        }
        self.candidatures: dict[int, Candidature] = {
            c.id: c for c in store.records(_CANDIDATURE, Candidature)
        }
        self.outbox: list[Email] = store.records(_SENT_EMAIL, Email)
        self.logins = 0
        self._tokens: dict[str, TokenRecord] = {}
        if config.api_token:
            self._tokens[config.api_token] = TokenRecord(
                API_TOKEN_USER, time.monotonic(), expires=False
            )
        self._test_takers: dict[str, int] = {
            doc["email"]: doc["id"] for doc in store.all(_TEST_TAKER)
        }
        self._last_id = (store.get(_COUNTER, "id") or {}).get("last", 8000)
        self._faults: list[Fault] = []
        self.variants = replace(config.variants)
        self.set_limits(config.window_seconds, config.limits_or_default())

    # What the API and the control API show

    def view(self, candidature: Candidature) -> dict[str, Any]:
        """A candidature as the partner API shows it, in the current variants' form."""
        return candidature.view(self.public_url, self.variants)

    def control_view(self, candidature: Candidature) -> dict[str, Any]:
        """A candidature for tests: every field, whatever the variants."""
        return candidature.view(self.public_url, Variants()) | {
            "test_taker": candidature.test_taker
        }

    def invite_answer(self, candidature: Candidature) -> dict[str, Any]:
        if self.variants.invite_answer == "uuid_only":
            return {"invitation_uuid": candidature.invitation_uuid}
        if self.variants.invite_answer == "empty":
            return {}
        return self.view(candidature)

    def candidate_detail(self, test_taker: int, candidature_id: int | None) -> dict[str, Any]:
        """GET /api/assessments/candidates/<testtaker_id>/[?candidature=<id>], in the variant's
        form. That `candidature` narrows `assessments_detail` to that one is our assumption."""
        if test_taker not in self._test_takers.values():
            raise SimError(404, "Not found.")
        own = [
            c for c in self.find() if c.test_taker == test_taker and candidature_id in (None, c.id)
        ]
        if self.variants.candidate_detail == "flat":
            if candidature_id is None or not own:
                raise SimError(404, "Not found.")
            return own[0].detail()
        email = next(e for e, t in self._test_takers.items() if t == test_taker)
        return {"id": test_taker, "email": email, "assessments_detail": [c.detail() for c in own]}

    # Authentication

    def login(self, username: str, password: str) -> str:
        self.logins += 1
        if not (
            secrets.compare_digest(username, self.config.username)
            and secrets.compare_digest(password, self.config.password)
        ):
            raise SimError(
                400, body={"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        # Like Django REST framework's tokens: one per user; a new one once the old has expired.
        for token, record in self._tokens.items():
            if record.user == username and not self._expired(record):
                return token
        token = secrets.token_hex(20)
        self._tokens[token] = TokenRecord(username, time.monotonic())
        return token

    def authenticate(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "token" or not token:
            raise unauthorized("Authentication credentials were not provided.")
        record = self._tokens.get(token.strip())
        if record is None or self._expired(record):
            raise unauthorized("Invalid token.")
        record.last_used = time.monotonic()
        record.uses += 1
        return record.user

    def _expired(self, record: TokenRecord) -> bool:
        return (
            record.expires and time.monotonic() - record.last_used >= self.config.token_idle_seconds
        )

    def expire_tokens(self) -> int:
        """Expire every login token now (the API key, if any, stays valid)."""
        expiring = [token for token, record in self._tokens.items() if record.expires]
        for token in expiring:
            del self._tokens[token]
        return len(expiring)

    def tokens(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [
            {
                "user": r.user,
                "uses": r.uses,
                "idle_seconds": round(now - r.last_used, 3),
                "expired": self._expired(r),
            }
            for r in self._tokens.values()
        ]

    # Rate limits and faults

    def set_limits(self, window_seconds: float, limits: dict[str, int]) -> None:
        """New limits start new windows and new counts."""
        self.window_seconds = window_seconds
        self.limits = dict(limits)
        self._limiter = FixedWindowLimiter(window_seconds)
        self.stats = {endpoint: EndpointStats(limit) for endpoint, limit in self.limits.items()}

    def reset_stats(self) -> None:
        self.set_limits(self.window_seconds, self.limits)

    def admit(self, endpoint: str, user: str) -> dict[str, str]:
        """Count one request; its rate-limit headers,
        or a 429 once the window's limit is used up."""
        state = self._limiter.hit(f"{user}:{endpoint}", self.limits[endpoint])
        stats = self.stats[endpoint]
        headers = _rate_headers(state.limit, state.remaining, state.seconds_to_reset)
        if not state.allowed:
            stats.throttled += 1
            raise SimError(429, "Request was throttled.", headers=headers)
        stats.allowed += 1
        window = (user, state.resets_at)
        stats.windows[window] = stats.windows.get(window, 0) + 1
        return headers

    def add_fault(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        return [f.view() for f in self._faults]

    def take_fault(self, endpoint: str) -> Fault | None:
        for fault in self._faults:
            if fault.endpoint in (None, endpoint):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def forced_error(self, endpoint: str, fault: Fault) -> SimError:
        self.stats[endpoint].forced += 1
        if fault.kind == "throttle":
            reset = fault.reset_seconds or max(1, round(self.window_seconds))
            return SimError(
                429,
                "Request was throttled.",
                headers=_rate_headers(self.limits[endpoint], 0, reset),
            )
        return SimError(fault.status, "Internal server error (simulated).")

    # Assessments and candidatures

    def assessment(self, assessment_id: int) -> Assessment:
        if assessment_id not in self.assessments:
            raise SimError(404, "Not found.")
        return self.assessments[assessment_id]

    def invite(
        self, assessment_id: int, email: str, first_name: str, last_name: str
    ) -> Candidature:
        assessment = self.assessment(assessment_id)
        if assessment.status == "archived":
            raise SimError(400, "This assessment is archived and cannot receive candidates.")
        # "Candidates can take more than one assessment, but can only take each assessment once."
        if any(
            c.assessment.id == assessment_id and c.email.lower() == email.lower()
            for c in self.candidatures.values()
        ):
            message = "This candidate has already been invited to this assessment."
            if self.variants.duplicate_invite == "detail":
                raise SimError(400, message)
            # The error key public consumer code checks; the rest of the item is our assumption.
            raise SimError(
                400,
                body={
                    "errors": [
                        {"field": "email", "error_key": "REPEATING_INVITATION", "message": message}
                    ]
                },
            )
        if email.lower() not in self._test_takers:
            self._test_takers[email.lower()] = self._next_id()
            self._store.put(
                _TEST_TAKER,
                email.lower(),
                {"email": email.lower(), "id": self._test_takers[email.lower()]},
            )
        test_taker = self._test_takers[email.lower()]
        candidature = Candidature(
            id=self._next_id(),
            assessment=assessment,
            test_taker=test_taker,
            email=email,
            first_name=first_name,
            last_name=last_name,
            invitation_uuid=str(uuid.uuid4()),
            created=_now(),
        )
        self.candidatures[candidature.id] = candidature
        self._save(candidature)
        if assessment.status == "new":  # "active: at least one candidate has been invited"
            self.assessments[assessment_id] = Assessment(
                assessment.id, assessment.name, "active", assessment.tests
            )
            self._store.put(
                _ASSESSMENT_STATUS, str(assessment_id), {"id": assessment_id, "status": "active"}
            )
        self._email_invitation(candidature)
        return candidature

    def _next_id(self) -> int:
        self._last_id += 1
        self._store.put(_COUNTER, "id", {"last": self._last_id})
        return self._last_id

    def _save(self, candidature: Candidature) -> None:
        self._store.put_record(_CANDIDATURE, str(candidature.id), candidature)

    def reinvite(self, candidature_id: int) -> Candidature:
        """The invitation emailed again; only before the candidate starts
        (TestGorilla does not say)."""
        candidature = self.candidature(candidature_id)
        if candidature.status != "invited":
            raise SimError(400, f"The candidate has already {candidature.status} this assessment.")
        self._email_invitation(candidature)
        return candidature

    def _email_invitation(self, candidature: Candidature) -> None:
        link = candidature.link(self.public_url)
        subject = f"You're invited to the {candidature.assessment.name} assessment"
        self.outbox.append(
            email := Email(
                candidature.email, subject, link, candidature.assessment.id, candidature.id, _now()
            )
        )
        self._store.put_record(_SENT_EMAIL, str(len(self.outbox)), email)

    def candidature(self, candidature_id: int) -> Candidature:
        if candidature_id not in self.candidatures:
            raise SimError(404, "Not found.")
        return self.candidatures[candidature_id]

    def by_invitation(self, invitation_uuid: str) -> Candidature | None:
        return next(
            (c for c in self.candidatures.values() if c.invitation_uuid == invitation_uuid), None
        )

    def find(
        self,
        *,
        assessment: int | None = None,
        email: str | None = None,
        search: str | None = None,
        status: str | None = None,
    ) -> list[Candidature]:
        def matches(c: Candidature) -> bool:
            return (
                (assessment is None or c.assessment.id == assessment)
                and (email is None or c.email.lower() == email.lower())
                and (search is None or search.lower() in f"{c.email} {c.full_name}".lower())
                and (status is None or c.status in status.split(","))
            )

        return sorted((c for c in self.candidatures.values() if matches(c)), key=lambda c: c.id)

    def delete(self, candidature_id: int) -> None:
        self.candidatures.pop(self.candidature(candidature_id).id)
        self._store.delete(_CANDIDATURE, str(candidature_id))

    def results(self, assessment_id: int, test_taker: int) -> list[TestResult]:
        found = self.find(assessment=assessment_id)
        return [r for c in found if c.test_taker == test_taker for r in c.results]

    def start(self, candidature_id: int) -> Candidature:
        candidature = self.candidature(candidature_id)
        if candidature.status == "completed":
            raise SimError(409, "The candidate already completed this assessment.")
        candidature.status = "started"
        self._save(candidature)
        return candidature

    def complete(
        self, candidature_id: int, scores: dict[str, float | str], percentiles: dict[str, float]
    ) -> Candidature:
        """Finish every test: a number is a score (0–100), a string a personality result."""
        candidature = self.start(candidature_id)
        results = []
        for test in candidature.assessment.tests:
            given = scores.get(str(test.id))
            if test.scored:
                score = float(given) if isinstance(given, (int, float)) else DEFAULT_SCORE
                percentile = percentiles.get(str(test.id), score)
                results.append(TestResult(self._next_id(), test, score, "", percentile))
            else:
                display = (
                    str(given) if given is not None else DEFAULT_DISPLAYS.get(test.algorithm, "")
                )
                results.append(TestResult(self._next_id(), test, None, display, None))
        candidature.results = results
        candidature.status = "completed"
        self._save(candidature)
        return candidature

    def emails(self, address: str | None = None) -> dict[str, Any]:
        sent = [e for e in self.outbox if address is None or e.to.lower() == address.lower()]
        counts: dict[str, int] = {}
        for e in self.outbox:
            counts[e.to.lower()] = counts.get(e.to.lower(), 0) + 1
        return {
            "emails": [e.__dict__ | {"sent_at": e.sent_at.isoformat()} for e in sent],
            "counts": counts,
        }


def page(
    items: list[dict[str, Any]], limit: int, offset: int, url: str, max_page_size: int
) -> dict[str, Any]:
    """Django REST framework's limit/offset page: `next`/`previous` are absolute URLs or null."""
    limit = max(1, min(limit, max_page_size))
    offset = max(0, offset)

    def link(at: int) -> str:
        base, _, query = url.partition("?")
        kept = [p for p in query.split("&") if p and not p.startswith(("limit=", "offset="))]
        return f"{base}?{'&'.join([*kept, f'limit={limit}', f'offset={at}'])}"

    return {
        "count": len(items),
        "next": link(offset + limit) if offset + limit < len(items) else None,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "results": items[offset : offset + limit],
    }


def _rate_headers(limit: int, remaining: int, reset_seconds: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset_seconds),
    }


def _now() -> datetime:
    return datetime.now(UTC)
