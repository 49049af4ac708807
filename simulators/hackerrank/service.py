"""The simulated account: invites, the candidate journey, the outbox and short-lived PDF links.

Candidate status (HackerRank documents only the ends): -1 invited, 7 "completed and report
generated"; "all other intermediate states are internal". **Our assumption** for the middle:
1 while the candidate takes the test, 5 while the report is processed. An invite that is
cancelled (`DELETE …/invite`) is gone: reading it answers 404 (the spec does not say; ours).

No method awaits except the report timer, so on the app's single event loop every
check-then-write is atomic. Candidates, the outbox and the id counter are written through to a
document store as they change, so a restarted simulator still knows every invite.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..docstore import DocumentStore
from . import skills
from .catalog import OWNER_ID, TESTS, SimTest
from .report import render_report
from .spec import published_document
from .webhooks import WebhookMode, WebhookSender, authorization

INVITED, IN_PROGRESS, PROCESSING_REPORT, REPORT_READY = -1, 1, 5, 7
# What the published TestCandidateShow marks `additional`:
# sent only when named in `additional_fields`.
CANDIDATE_OPT_IN = frozenset(
    name
    for name, schema in published_document()["definitions"]["TestCandidateShow"][
        "properties"
    ].items()
    if schema.get("additional")
)
# Kinds of documents in the store.
_CANDIDATE, _SENT_EMAIL, _COUNTER = "candidate", "email", "counter"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SimError(Exception):
    """A refusal, answered as JSON `{"message": …, "errors": […]}`."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


def utc_now() -> datetime:
    return datetime.now(UTC)


def hr_time(value: datetime | None) -> str | None:
    """HackerRank's spelling of timestamps: 2016-05-24T06:27:25+0000."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z") if value else None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Candidate:
    id: int
    test: SimTest
    email: str
    full_name: str
    token: str
    invited_on: datetime
    invite: dict[
        str, Any
    ]  # the invite body's settings: metadata, URLs, webhook credentials, validity
    status: int = INVITED
    invite_valid: bool = True
    attempt_starttime: datetime | None = None
    attempt_endtime: datetime | None = None
    score: float = 0.0
    integrity_status: str | None = None
    integrity_summary: str | None = None
    emails_sent: int = 0
    # The split per skill a submission or rescore named; None: spread from the score (skills.py).
    skill_scores: dict[str, float] | None = None

    @property
    def valid_to(self) -> datetime | None:
        return parse_time(self.invite.get("invite_valid_to"))

    @property
    def percentage(self) -> float:
        return round(100 * self.score / self.test.max_score, 2) if self.test.max_score else 0.0


@dataclass
class Faults:
    """Switched at runtime through the control API."""

    rate_limit_next: int = 0  # answer 429 to the next N API calls
    server_error_next: int = 0  # answer 500 to the next N API calls
    slow_seconds: float = 0.0  # answer every API call this late
    retry_after: bool = True  # send Retry-After with a 429 (HackerRank does not say it does)
    webhook: WebhookMode = "deliver"
    webhook_delay_seconds: float = 0.0
    # Properties the candidate search's rows leave out. The spec gives the rows every property
    # of TestCandidateIndex; that real rows carry `invite_metadata` and the attempt's times and
    # status is not shown by any published example (our assumption), so tests try rows without.
    search_row_omits: tuple[str, ...] = ()


@dataclass
class Account:
    report_delay_seconds: float | None
    pdf_link_seconds: float
    webhooks: WebhookSender
    store: DocumentStore
    candidates: dict[int, Candidate] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    _pdf_links: dict[str, tuple[int, float]] = field(default_factory=dict)
    _timers: set[asyncio.Task[None]] = field(default_factory=set)
    _next_id: int = 71134637

    def __post_init__(self) -> None:
        self.candidates = {c.id: c for c in self.store.records(_CANDIDATE, Candidate)}
        self.outbox = self.store.all(_SENT_EMAIL)
        self._next_id = (self.store.get(_COUNTER, _CANDIDATE) or {}).get("last", self._next_id)

    # Partner API

    def test(self, test_id: str) -> SimTest:
        if test_id not in TESTS:
            raise SimError(404, "Test not found")
        return TESTS[test_id]

    def candidate(self, test_id: str, candidate_id: str) -> Candidate:
        record = self.candidates.get(int(candidate_id)) if candidate_id.isdigit() else None
        if record is None or record.test.id != test_id:
            raise SimError(404, "Candidate not found")
        return record

    def invite(self, test_id: str, body: dict[str, Any], base_url: str) -> Candidate:
        """One candidate per call; (test, email) is the natural key, `force` re-sends the invite."""
        test = self.test(test_id)
        email = body["email"].strip()
        if not _EMAIL.match(email):
            raise SimError(400, "Invalid request", ["email: is not a valid email address"])
        for key in ("invite_valid_from", "invite_valid_to"):
            try:
                parse_time(body.get(key))
            except ValueError:
                raise SimError(400, "Invalid request", [f"{key}: is not a date and time"]) from None
        if body.get("test_result_url") and not body.get("webhook_authentication"):
            raise SimError(
                400,
                "Invalid request",
                ["webhook_authentication: is required when test_result_url is provided"],
            )
        if test.draft:
            raise SimError(422, "Candidates cannot be invited to a draft test")
        existing = self._latest(test_id, email)
        if existing is not None and existing.attempt_starttime is not None:
            if not body.get("force_reattempt"):
                raise SimError(422, "Candidate has already attempted this test")
            existing = None  # a reattempt is a new test candidate
        elif existing is not None and not (body.get("force") or body.get("force_reattempt")):
            raise SimError(422, "Candidate has already been invited to this test")
        if existing is None:
            self._next_id += 1
            self.store.put(_COUNTER, _CANDIDATE, {"last": self._next_id})
            existing = Candidate(
                id=self._next_id,
                test=test,
                email=email,
                full_name="",
                token=secrets.token_urlsafe(24),
                invited_on=utc_now(),
                invite={},
            )
            self.candidates[existing.id] = existing
        existing.full_name = body.get("full_name") or existing.full_name or email.split("@")[0]
        existing.invite = dict(body)
        existing.invite_valid = True
        # "By default this flag is false and email would not be sent"
        # (the description; its schema default says true).
        if body.get("send_email") is True:
            self._send_invite_email(existing, base_url)
        self._save(existing)
        return existing

    def search(self, test_id: str, query: str) -> list[Candidate]:
        """Candidates of the test whose name or email contains the query, oldest first."""
        self.test(test_id)
        needle = query.strip().lower()
        return [
            c
            for c in self.candidates.values()
            if c.test.id == test_id and (needle in c.email.lower() or needle in c.full_name.lower())
        ]

    def cancel(self, test_id: str, candidate_id: str) -> Candidate:
        record = self.candidate(test_id, candidate_id)
        if record.attempt_starttime is not None:
            raise SimError(
                422, "Candidate has already attempted this test; the invite cannot be cancelled"
            )
        del self.candidates[record.id]
        self.store.delete(_CANDIDATE, str(record.id))
        return record

    def pdf_link(self, record: Candidate, base_url: str) -> str:
        self._report_ready(record)
        token = secrets.token_urlsafe(24)
        self._pdf_links[token] = (record.id, time.monotonic() + self.pdf_link_seconds)
        return f"{base_url}/_files/reports/{token}.pdf"

    def pdf(self, record: Candidate) -> bytes:
        self._report_ready(record)
        return render_report(
            candidate=record.full_name,
            email=record.email,
            test=record.test.name,
            score=record.score,
            max_score=record.test.max_score,
            submitted=hr_time(record.attempt_endtime) or "",
            cutoff_score=record.test.cutoff_score,
            # The same split the API's scores_skills_split gives, so PDF and API agree.
            skill_scores=self.skill_split(record),
        )

    def pdf_by_link(self, token: str) -> bytes:
        candidate_id, expires = self._pdf_links.get(token, (None, 0.0))
        if candidate_id is None or time.monotonic() > expires:
            raise SimError(403, "Request has expired")  # what a signed storage URL answers
        record = self.candidates.get(candidate_id)
        if record is None:
            raise SimError(404, "Not found")
        return self.pdf(record)

    # The candidate's side, driven by the control API and the pages

    def by_link(self, unique_id: str, token: str) -> Candidate | None:
        """The candidate a test link names (`/tests/{unique_id}/login?b={token}`), or None."""
        for record in self.candidates.values():
            if record.test.unique_id == unique_id and secrets.compare_digest(
                record.token.encode(), token.encode()
            ):
                return record
        return None

    def invite_open(self, record: Candidate) -> bool:
        """The invite can still be started: not expired by hand, nor past `invite_valid_to`."""
        return self._invite_open(record)

    def start(self, candidate_id: int) -> Candidate:
        record = self._by_id(candidate_id)
        if record.attempt_starttime is None:
            if not self._invite_open(record):
                raise SimError(409, "The invite is no longer valid")
            record.attempt_starttime = utc_now()
            record.status = IN_PROGRESS
            self._save(record)
        return record

    def submit(
        self,
        candidate_id: int,
        score: float | None,
        integrity_status: str | None,
        integrity_summary: str | None,
        skill_scores: Mapping[str, float] | None = None,
    ) -> Candidate:
        """The candidate hands in; the report is ready after the report delay (status 5, then 7).
        A split per skill, when named, makes the score (a score named beside it must agree)."""
        record = self._by_id(candidate_id)
        if record.attempt_endtime is not None:
            raise SimError(409, "The candidate has already submitted")
        # Checked before the attempt starts, so a refused submission changes nothing.
        score, split = self._scores(record, score, skill_scores)
        record = self.start(candidate_id)
        record.attempt_endtime = utc_now()
        record.score, record.skill_scores = score, split
        record.integrity_status, record.integrity_summary = integrity_status, integrity_summary
        record.status = PROCESSING_REPORT
        self._save(record)
        self._schedule_report(record)
        return record

    def resume_reports(self) -> None:
        """Reports that were being generated when the simulator stopped take a fresh delay."""
        for record in self.candidates.values():
            if record.status == PROCESSING_REPORT:
                self._schedule_report(record)

    def _schedule_report(self, record: Candidate) -> None:
        if self.report_delay_seconds is not None:
            timer = asyncio.create_task(
                self._report_ready_after_delay(record.id, self.report_delay_seconds)
            )
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)

    def finish_report(self, candidate_id: int) -> Candidate:
        """The report is generated: status 7, and the result is pushed."""
        record = self._by_id(candidate_id)
        if record.status != PROCESSING_REPORT:
            raise SimError(409, "No report is being generated for this candidate")
        record.status = REPORT_READY
        self._save(record)
        self._push(record)
        return record

    def expire(self, candidate_id: int) -> Candidate:
        record = self._by_id(candidate_id)
        record.invite_valid = False
        self._save(record)
        return record

    def rescore(
        self,
        candidate_id: int,
        score: float | None,
        skill_scores: Mapping[str, float] | None = None,
    ) -> Candidate:
        """A later score change (e.g. a manual re-evaluation);
        pushed again if the partner accepts updates."""
        record = self._by_id(candidate_id)
        if record.status != REPORT_READY:
            raise SimError(409, "Only a finished report can be rescored")
        record.score, record.skill_scores = self._scores(record, score, skill_scores)
        self._save(record)
        if record.invite.get("accept_result_updates"):
            self._push(record)
        return record

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    # Views

    def view(
        self,
        record: Candidate,
        base_url: str,
        additional_fields: frozenset[str] | None = frozenset(),
    ) -> dict[str, Any]:
        """The candidate as `TestCandidateShow` describes it, null where unknown; the properties
        the schema marks `additional` only when named (None: all of them, for the control API)."""
        full = self._full_view(record, base_url)
        if additional_fields is None:
            return full
        return {
            name: value
            for name, value in full.items()
            if name not in CANDIDATE_OPT_IN or name in additional_fields
        }

    def search_row(self, record: Candidate, base_url: str) -> dict[str, Any]:
        """A row of the candidate search, less what the `search_row_omits` fault leaves out."""
        return {
            name: value
            for name, value in self.view(record, base_url).items()
            if name not in self.faults.search_row_omits
        }

    def _full_view(self, record: Candidate, base_url: str) -> dict[str, Any]:
        invite = record.invite
        ready = record.status == REPORT_READY
        attempted = record.attempt_starttime is not None
        report = f"{base_url}/x/tests/{record.test.id}/candidates/{record.id}/report"
        return {
            "id": str(record.id),
            "full_name": record.full_name,
            "email": record.email,
            "score": record.score,
            "test": record.test.id,
            "user": OWNER_ID,
            "attempt_starttime": hr_time(record.attempt_starttime),
            "attempt_endtime": hr_time(record.attempt_endtime),
            "attempt_events": [],
            "status": record.status,
            "ats_state": invite.get("ats_state", 0),
            "integrity_status": record.integrity_status if ready else None,
            "integrity_summary": record.integrity_summary if ready else None,
            "invite_email_done": record.emails_sent > 0,
            "invite_valid": self._invite_open(record),
            "invited_on": hr_time(record.invited_on),
            "invite_valid_from": hr_time(parse_time(invite.get("invite_valid_from"))),
            "invite_valid_to": hr_time(record.valid_to),
            "invite_link": self.test_link(record, base_url),
            "invite_metadata": invite.get("invite_metadata") or {},
            "evaluator_email": invite.get("evaluator_email"),
            "test_finish_url": invite.get("test_finish_url"),
            "test_result_url": invite.get("test_result_url"),
            "accept_result_updates": bool(invite.get("accept_result_updates")),
            "tags": list(invite.get("tags") or []),
            "report_url": f"{report}/summary",
            "authenticated_report_url": f"{report}/summary?authkey={record.token[:12]}",
            "pdf_url": f"{report}/pdf",
            "scores_tags_split": dict.fromkeys(record.test.tags, record.score) if ready else {},
            "scores_skills_split": self.skill_split(record) if ready else {},
            "added_time": "0",
            "unclaimed_added_time": 0,
            "comments": None,
            "performance_summary": None,
            "ip_address": "203.0.113.7" if attempted else None,
            "questions": None,
            "plagiarism": None,
            "plagiarism_status": (record.integrity_status == "High") if ready else None,
            "max_code_similarity": None,
            "feedback": "",
            "percentage_score": record.percentage,
            "candidate_details": [],
            "out_of_window_events": 0,
            "out_of_window_duration": 0.0,
            "editor_paste_count": 0,
            "proctor_images": [],
        }

    def webhook_payload(self, record: Candidate) -> dict[str, Any]:
        """Our assumption of the push body (see webhooks.py)."""
        return {
            "id": str(record.id),
            "test_id": record.test.id,
            "email": record.email,
            "score": record.score,
            "max_score": record.test.max_score,
            "percentage_score": record.percentage,
            "plagiarism_status": record.integrity_status == "High",
            "status": record.status,
            "invite_metadata": record.invite.get("invite_metadata") or {},
        }

    @staticmethod
    def skill_split(record: Candidate) -> dict[str, float]:
        """The candidate's percentage per skill: as named, else spread from the score."""
        if record.skill_scores is not None:
            return dict(record.skill_scores)
        return skills.spread(record.test, record.percentage)

    # Internals

    def _scores(
        self, record: Candidate, score: float | None, skill_scores: Mapping[str, float] | None
    ) -> tuple[float, dict[str, float] | None]:
        """The score to keep, and the split per skill when one is named."""
        if skill_scores is None:
            if score is None:
                raise SimError(400, "Invalid request", ["score: is required without skill_scores"])
            return self._clamp(record, score), None
        test = record.test
        problems = skills.problems(test, skill_scores)
        if problems:
            raise SimError(422, "Invalid skill scores", problems)
        split = {skill: float(skill_scores[skill]) for skill in test.skills}
        percentage = skills.combined(test, split)
        if score is not None and abs(100 * score / test.max_score - percentage) > skills.TOLERANCE:
            raise SimError(
                422,
                "The score does not match the skill scores",
                [
                    f"score: {score:g} is not the skill scores' weighted combination, "
                    f"{test.max_score * percentage / 100:g}"
                ],
            )
        return round(test.max_score * percentage / 100, 2), split

    @staticmethod
    def _report_ready(record: Candidate) -> None:
        """HackerRank: "In case of a 503 HTTP Status,
        please try downloading the pdf after some time"."""
        if record.status != REPORT_READY:
            raise SimError(503, "The report is being generated; please try again later")

    def _save(self, record: Candidate) -> None:
        self.store.put_record(_CANDIDATE, str(record.id), record)

    def _by_id(self, candidate_id: int) -> Candidate:
        if candidate_id not in self.candidates:
            raise SimError(404, "Candidate not found")
        return self.candidates[candidate_id]

    def _latest(self, test_id: str, email: str) -> Candidate | None:
        same = [
            c
            for c in self.candidates.values()
            if c.test.id == test_id and c.email.lower() == email.lower()
        ]
        return same[-1] if same else None

    @staticmethod
    def _clamp(record: Candidate, score: float) -> float:
        return float(min(max(score, 0.0), record.test.max_score))

    @staticmethod
    def _invite_open(record: Candidate) -> bool:
        return record.invite_valid and (record.valid_to is None or record.valid_to > utc_now())

    @staticmethod
    def test_link(record: Candidate, base_url: str) -> str:
        return f"{base_url}/tests/{record.test.unique_id}/login?b={record.token}"

    def _send_invite_email(self, record: Candidate, base_url: str) -> None:
        record.emails_sent += 1
        self.outbox.append(
            email := {
                "to": record.email,
                "subject": record.invite.get("subject") or f"Invitation: {record.test.name}",
                "test_id": record.test.id,
                "candidate_id": str(record.id),
                "test_link": self.test_link(record, base_url),
                "sent_at": utc_now().isoformat(),
            }
        )
        self.store.put(_SENT_EMAIL, str(len(self.outbox)), email)

    async def _report_ready_after_delay(self, candidate_id: int, delay: float) -> None:
        await asyncio.sleep(delay)  # the report generation time
        record = self.candidates.get(candidate_id)
        if record is not None and record.status == PROCESSING_REPORT:
            self.finish_report(candidate_id)

    def _push(self, record: Candidate) -> None:
        url = record.invite.get("test_result_url")
        if url:
            headers = authorization(record.invite.get("webhook_authentication"))
            self.webhooks.publish(
                url,
                headers,
                self.webhook_payload(record),
                self.faults.webhook,
                self.faults.webhook_delay_seconds,
            )
