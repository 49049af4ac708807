"""The simulated Checkr account: candidates, invitations, reports, webhooks, outbox and events.

Invitation: pending -> completed | expired; a pending one can be deleted (cancelled).
Completing it creates a report: pending <-> suspended -> complete -> dispute -> complete again
(a new completed_at, possibly another result); pending or suspended reports can be canceled.
Every move emits the Checkr event of that name to the account's webhooks.

No method awaits, so on the app's single event loop every check-then-write is atomic. Every
change is written through to a document store as it is made, so a restarted simulator still
knows every candidate, invitation, report, webhook URL, email and event; faults and variants
live in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..docstore import DocumentStore
from .config import CheckrSimConfig
from .pdf import render_report
from .reports import Document, Report, Screening

# slug -> (name, price in cents, screening types); Checkr packages are per account.
PACKAGES: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "tasker_standard": (
        "Tasker Standard",
        2500,
        ("ssn_trace", "sex_offender_search", "national_criminal_search", "county_criminal_search"),
    ),
    "driver_pro": (
        "Driver Pro",
        5500,
        (
            "ssn_trace",
            "sex_offender_search",
            "national_criminal_search",
            "county_criminal_search",
            "motor_vehicle_report",
        ),
    ),
    "essential_criminal": (
        "Essential Criminal",
        3500,
        ("ssn_trace", "sex_offender_search", "global_watchlist_search", "national_criminal_search"),
    ),
}
# The report names most screenings by one id (`ssn_trace_id`); these by a list, embedded as a list.
LISTED_SCREENINGS = {"county_criminal_search": "county_criminal_searches"}
# What an ssn_trace shows of the SSN when the candidate gave none (Checkr's own example).
SAMPLE_SSN = "XXX-XX-4645"
# Kinds of documents in the store; the account document holds the clock and the link key.
_ACCOUNT, _CANDIDATE, _INVITATION, _REPORT, _WEBHOOK, _SENT_EMAIL, _EVENT = (
    "account",
    "candidate",
    "invitation",
    "report",
    "webhook",
    "email",
    "event",
)

# Candidate fields Checkr accepts on POST /v1/candidates and shows back (the SSN redacted).
CANDIDATE_FIELDS = (
    "first_name",
    "middle_name",
    "no_middle_name",
    "last_name",
    "mother_maiden_name",
    "email",
    "phone",
    "zipcode",
    "dob",
    "ssn",
    "driver_license_number",
    "driver_license_state",
    "previous_driver_license_number",
    "previous_driver_license_state",
    "copy_requested",
    "custom_id",
    "metadata",
)


class CheckrError(Exception):
    """Answered as Checkr answers errors: `{"error": message}` with the status."""

    def __init__(
        self, status_code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers


# Checkr's "Supported characters" (its API reference): names outside this set are refused, and a
# last name needs at least two of them (the Candidate schema's `last_name` pattern `{2,}`).
NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9ªµºÀ-ÖØ-öø-ÿ\-'., ]*")
NAME_FIELDS = ("first_name", "middle_name", "last_name", "mother_maiden_name")


class Variants(BaseModel):
    """Ways a real Checkr account may differ, each a documented form;
    set through the control API."""

    # Custom ids of the account's hierarchy nodes. The spec's InvitationCreate: `node` is
    # "required if any nodes exist on the account", and so are `work_locations`.
    nodes: list[str] = Field(default_factory=list)
    # How a report embeds lists (`county_criminal_searches`, `documents`): a bare array (the
    # OpenAPI export) or a list object `{object: list, data: [...]}` (the official Ruby SDK's
    # samples/report.md).
    embedded_lists: Literal["array", "list_object"] = "array"
    # What a dispute's re-completion changes: a later `completed_at` and `revised_at` (our
    # assumption), or `revised_at` only, `completed_at` keeping the first completion (the spec
    # documents both fields, not which one moves).
    revision_marks: Literal["both", "revised_at_only"] = "both"


class Faults(BaseModel):
    """Misbehaviour switched on through the control API; all off by default."""

    # Webhooks: every event sent twice with one id; held until released newest first (out of
    # order); delivered this many seconds late; never sent (lost).
    duplicate: bool = False
    hold: bool = False
    delay_seconds: float = Field(0.0, ge=0)
    drop: bool = False
    # API: the next N calls answer 429 (with the rate-limit headers), or a server error.
    rate_limit_next: int = Field(0, ge=0)
    server_error_next: int = Field(0, ge=0)
    server_error_status: Literal[500, 502, 503, 504] = 503
    # API: every call answers this much later.
    slow_seconds: float = Field(0.0, ge=0)


def new_id() -> str:
    return secrets.token_hex(12)  # Checkr ids are 24 hex digits


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Candidate:
    id: str
    created_at: datetime
    fields: dict[str, Any]
    report_ids: list[str] = field(default_factory=list)


@dataclass
class Invitation:
    id: str
    token: str
    candidate_id: str
    package: str
    work_locations: list[dict]
    tags: list[str]
    created_at: datetime
    expires_at: datetime
    node: str | None = None
    status: str = "pending"
    completed_at: datetime | None = None
    deleted_at: datetime | None = None
    report_id: str | None = None


@dataclass
class Webhook:
    id: str
    url: str
    include_object: bool
    created_at: datetime


@dataclass
class Email:
    to: str
    kind: str
    subject: str
    invitation_id: str
    link: str
    sent_at: datetime


class Account:
    """One Checkr account, kept in `store`. `on_event` receives each event as it is emitted."""

    def __init__(self, config: CheckrSimConfig, store: DocumentStore) -> None:
        self.config = config
        self.on_event: Callable[[dict[str, Any]], None] = lambda event: None
        self._store = store
        saved = store.get(_ACCOUNT, _ACCOUNT)
        if saved is None:
            self.reset()
        else:
            self._restore(
                clock_offset=timedelta(seconds=saved["clock_offset_seconds"]),
                link_key=bytes.fromhex(saved["link_key"]),
            )

    def reset(self) -> None:
        for kind in (_ACCOUNT, _CANDIDATE, _INVITATION, _REPORT, _WEBHOOK, _SENT_EMAIL, _EVENT):
            self._store.clear(kind)
        self._restore(clock_offset=timedelta(), link_key=secrets.token_bytes(32))
        self._save_account()
        for url in self.config.webhook_urls:
            self.add_webhook(url)

    def _restore(self, clock_offset: timedelta, link_key: bytes) -> None:
        self.clock_offset = clock_offset
        self._link_key = link_key  # signs document download links
        self.base_url = self.config.public_url or "http://127.0.0.1"
        self.faults = Faults()
        self.variants = Variants()
        self.candidates = {c.id: c for c in self._store.records(_CANDIDATE, Candidate)}
        self.invitations = {i.id: i for i in self._store.records(_INVITATION, Invitation)}
        self.reports = {r.id: r for r in self._store.records(_REPORT, Report)}
        self.webhooks = {w.id: w for w in self._store.records(_WEBHOOK, Webhook)}
        self.outbox = self._store.records(_SENT_EMAIL, Email)
        self.events = self._store.all(_EVENT)

    def _save_account(self) -> None:
        self._store.put(
            _ACCOUNT,
            _ACCOUNT,
            {
                "clock_offset_seconds": self.clock_offset.total_seconds(),
                "link_key": self._link_key.hex(),
            },
        )

    def now(self) -> datetime:
        """The simulator's clock: real time, moved on by the control API to reach expiries."""
        return datetime.now(UTC).replace(microsecond=0) + self.clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        self.clock_offset += timedelta(seconds=seconds)
        self._save_account()
        return self.now()

    # Candidates and invitations

    def create_candidate(self, body: dict[str, Any]) -> Candidate:
        for name in NAME_FIELDS:
            value = body.get(name)
            if isinstance(value, str) and not NAME_CHARACTERS.fullmatch(value):
                raise CheckrError(400, f"{name} contains unsupported characters")
        if isinstance(body.get("last_name"), str) and len(body["last_name"]) < 2:
            raise CheckrError(400, "last_name must be at least 2 characters")
        fields = {name: body[name] for name in CANDIDATE_FIELDS if name in body}
        if isinstance(fields.get("ssn"), str):
            fields["ssn"] = "XXX-XX-" + fields["ssn"][-4:]  # Checkr shows only the last four digits
        candidate = Candidate(id=new_id(), created_at=self.now(), fields=fields)
        self._save_candidate(candidate)
        return candidate

    def _save_candidate(self, candidate: Candidate) -> None:
        self.candidates[candidate.id] = candidate
        self._store.put_record(_CANDIDATE, candidate.id, candidate)

    def _name_of(self, candidate_id: str) -> str | None:
        """The candidate's name as Checkr has it, for the report; None when it has none."""
        candidate = self.candidates.get(candidate_id)
        fields = candidate.fields if candidate else {}
        names = [fields.get(name) for name in ("first_name", "middle_name", "last_name")]
        return " ".join(name for name in names if isinstance(name, str) and name) or None

    def candidate(self, candidate_id: str) -> Candidate:
        if candidate_id not in self.candidates:
            raise CheckrError(404, "Candidate not found")
        return self.candidates[candidate_id]

    def create_invitation(self, body: dict[str, Any]) -> Invitation:
        candidate = self.candidate(body["candidate_id"])
        if body["package"] not in PACKAGES:
            raise CheckrError(404, "Package not found")
        if not candidate.fields.get("email"):
            raise CheckrError(400, "Candidate email is required for an invitation")
        # The messages are our assumption; the rule is the spec's (InvitationCreate).
        if self.variants.nodes:
            if not body.get("node"):
                raise CheckrError(400, "node is required for accounts with a hierarchy")
            if body["node"] not in self.variants.nodes:
                raise CheckrError(404, "Node not found")
            if not body.get("work_locations"):
                raise CheckrError(400, "work_locations is required for accounts with a hierarchy")
        now = self.now()
        invitation = Invitation(
            id=new_id(),
            token=secrets.token_urlsafe(16),
            candidate_id=candidate.id,
            package=body["package"],
            work_locations=body.get("work_locations", []),
            node=body.get("node"),
            tags=body.get("tags", []),
            created_at=now,
            expires_at=now + timedelta(seconds=self.config.invitation_ttl_seconds),
        )
        self._save_invitation(invitation)
        email = Email(
            to=candidate.fields["email"],
            kind="invitation",
            subject=f"{PACKAGES[invitation.package][0]}: please complete your background check",
            invitation_id=invitation.id,
            link=self.invitation_url(invitation),
            sent_at=now,
        )
        self.outbox.append(email)
        self._store.put_record(_SENT_EMAIL, str(len(self.outbox)), email)
        self._emit("invitation.created", self.invitation_view(invitation))
        return invitation

    def invitation(self, invitation_id: str, include_deleted: bool = True) -> Invitation:
        invitation = self.invitations.get(invitation_id)
        if invitation is None or (invitation.deleted_at and not include_deleted):
            raise CheckrError(404, "Invitation not found")
        if (
            invitation.status == "pending"
            and not invitation.deleted_at
            and self.now() >= invitation.expires_at
        ):
            self._move_invitation(invitation, "expired")
        return invitation

    def invitation_by_token(self, token: str) -> Invitation | None:
        found = next(
            (i for i in self.invitations.values() if secrets.compare_digest(i.token, token)), None
        )
        return found and self.invitation(found.id)

    def delete_invitation(self, invitation_id: str) -> Invitation:
        invitation = self.invitation(invitation_id, include_deleted=False)
        if invitation.status != "pending":
            raise CheckrError(400, f"Invitation cannot be canceled: it is {invitation.status}")
        invitation.deleted_at = self.now()
        self._save_invitation(invitation)
        self._emit("invitation.deleted", self.invitation_view(invitation))
        return invitation

    def complete_invitation(self, invitation_id: str) -> Invitation:
        """The candidate submitted the form: the report starts."""
        invitation = self._pending(invitation_id)
        now = self.now()
        report = Report(
            id=new_id(),
            candidate_id=invitation.candidate_id,
            package=invitation.package,
            work_locations=invitation.work_locations,
            created_at=now,
            estimated_completion_time=now + timedelta(days=3),
            screenings=[
                Screening(type=kind, id=new_id(), created_at=now)
                for kind in PACKAGES[invitation.package][2]
            ],
        )
        self._save_report(report)
        candidate = self.candidates[invitation.candidate_id]
        candidate.report_ids.append(report.id)
        self._save_candidate(candidate)
        invitation.report_id = report.id
        invitation.completed_at = now
        self._move_invitation(invitation, "completed")
        self._emit("report.created", self.report_view(report))
        return invitation

    def expire_invitation(self, invitation_id: str) -> Invitation:
        return self._move_invitation(self._pending(invitation_id), "expired")

    def _pending(self, invitation_id: str) -> Invitation:
        invitation = self.invitation(invitation_id)
        if invitation.deleted_at or invitation.status != "pending":
            raise CheckrError(
                409, f"Invitation is {'deleted' if invitation.deleted_at else invitation.status}"
            )
        return invitation

    def _move_invitation(self, invitation: Invitation, status: str) -> Invitation:
        invitation.status = status
        self._save_invitation(invitation)
        self._emit(f"invitation.{status}", self.invitation_view(invitation))
        return invitation

    # Reports

    def report(self, report_id: str) -> Report:
        if report_id not in self.reports:
            raise CheckrError(404, "Report not found")
        return self.reports[report_id]

    def move_report(self, report_id: str, action: str) -> Report:
        """suspend, resume, dispute or cancel, from the statuses Checkr allows it in."""
        moves = {
            "suspend": ({"pending"}, "suspended", "report.suspended"),
            "resume": ({"suspended"}, "pending", "report.resumed"),
            "dispute": ({"complete"}, "dispute", "report.disputed"),
            "cancel": ({"pending", "suspended"}, "canceled", "report.canceled"),
        }
        allowed, status, event = moves[action]
        report = self._report_in(report_id, allowed, action)
        report.status = status
        if status == "canceled":
            for screening in report.screenings:
                screening.status = "canceled"
        self._save_report(report)
        self._emit(event, self.report_view(report))
        return report

    def complete_report(self, report_id: str, result: str, assessment: str | None) -> Report:
        """Every screening completes; with `consider`, the last one found something."""
        report = self._report_in(report_id, {"pending", "suspended", "dispute"}, "complete")
        now = self.now()
        revising = report.status == "dispute"
        if revising:
            # A revision always shows a later time than the one before.
            last = max(t for t in (report.completed_at, report.revised_at) if t is not None)
            report.revised_at = now if now > last else last + timedelta(seconds=1)
        if not revising or self.variants.revision_marks == "both":
            report.completed_at = report.revised_at if revising else now
        report.status, report.result, report.assessment = "complete", result, assessment
        for screening in report.screenings:
            screening.status, screening.result, screening.completed_at = (
                "complete",
                "clear",
                report.completed_at,
            )
        if result == "consider":
            report.screenings[-1].result = "consider"
        report.document = Document(
            id=new_id(),
            filename=f"report-{report.id}.pdf",
            content=render_report(
                report, PACKAGES[report.package][0], candidate=self._name_of(report.candidate_id)
            ),
            created_at=report.completed_at or now,
        )
        self._save_report(report)
        self._emit("report.completed", self.report_view(report))
        return report

    def update_eta(self, report_id: str, eta: datetime) -> Report:
        report = self._report_in(report_id, {"pending", "suspended"}, "update")
        report.estimated_completion_time = eta
        self._save_report(report)
        self._emit("report.updated", self.report_view(report))
        return report

    def _report_in(self, report_id: str, statuses: set[str], action: str) -> Report:
        report = self.report(report_id)
        if report.status not in statuses:
            raise CheckrError(409, f"cannot {action} a report that is {report.status}")
        return report

    def _save_report(self, report: Report) -> None:
        self.reports[report.id] = report
        self._store.put_record(_REPORT, report.id, report)

    def _save_invitation(self, invitation: Invitation) -> None:
        self.invitations[invitation.id] = invitation
        self._store.put_record(_INVITATION, invitation.id, invitation)

    # Documents: download links are signed and expire, like Checkr's pre-signed URLs

    def document(self, document_id: str) -> Document:
        for report in self.reports.values():
            if report.document is not None and report.document.id == document_id:
                return report.document
        raise CheckrError(404, "Document not found")

    def _link_signature(self, document_id: str, expires: int) -> str:
        return hmac.new(
            self._link_key, f"{document_id}:{expires}".encode(), hashlib.sha256
        ).hexdigest()

    def download(self, document_id: str, expires: int, signature: str) -> Document:
        if not hmac.compare_digest(
            self._link_signature(document_id, expires).encode(),
            signature.encode("utf-8", "replace"),
        ):
            raise CheckrError(403, "Request signature does not match")
        if self.now().timestamp() > expires:
            raise CheckrError(403, "Request has expired")
        return self.document(document_id)

    # Webhooks

    def add_webhook(self, url: str, include_object: bool = True) -> Webhook:
        if not url.startswith(("https://", "http://")):  # plain HTTP: as in Checkr's test mode
            raise CheckrError(
                400,
                "Url is not valid. Please use a publicly available host and the HTTPS or "
                "SNS protocol.",
            )
        if any(hook.url == url for hook in self.webhooks.values()):
            raise CheckrError(400, "Url has already been taken.")
        if len(self.webhooks) >= self.config.max_webhooks:
            raise CheckrError(400, "Allowed webhook API limit exceeded.")
        hook = Webhook(id=new_id(), url=url, include_object=include_object, created_at=self.now())
        self.webhooks[hook.id] = hook
        self._store.put_record(_WEBHOOK, hook.id, hook)
        return hook

    def delete_webhook(self, webhook_id: str) -> Webhook:
        if webhook_id not in self.webhooks:
            raise CheckrError(404, "Webhook not found")
        self._store.delete(_WEBHOOK, webhook_id)
        return self.webhooks.pop(webhook_id)

    def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        event_id = new_id()
        event = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created_at": iso(self.now()),
            "webhook_url": None,  # set per delivery
            "data": {"object": obj},
            "account_id": self.config.account_id,
        }
        self.events.append(event)
        self._store.put(_EVENT, event_id, event)
        self.on_event(event)

    # Views: the API's JSON

    def outbox_counts(self) -> dict[str, int]:
        return dict(Counter(email.to for email in self.outbox))

    def invitation_url(self, invitation: Invitation) -> str:
        return f"{self.base_url}/apply/{invitation.token}"

    def candidate_view(self, candidate: Candidate) -> dict[str, Any]:
        return {
            "id": candidate.id,
            "object": "candidate",
            "uri": f"/v1/candidates/{candidate.id}",
            "created_at": iso(candidate.created_at),
            **candidate.fields,
            "report_ids": list(candidate.report_ids),
            "geo_ids": [],
        }

    def invitation_view(self, invitation: Invitation) -> dict[str, Any]:
        return {
            "id": invitation.id,
            "object": "invitation",
            "uri": f"/v1/invitations/{invitation.id}",
            "invitation_url": self.invitation_url(invitation),
            "status": invitation.status,
            "created_at": iso(invitation.created_at),
            "expires_at": iso(invitation.expires_at),
            "completed_at": iso(invitation.completed_at),
            "deleted_at": iso(invitation.deleted_at),
            "package": invitation.package,
            "candidate_id": invitation.candidate_id,
            "report_id": invitation.report_id,
            "tags": list(invitation.tags),
            "archived": False,
        }

    def package_view(self, slug: str) -> dict[str, Any]:
        name, price, screenings = PACKAGES[slug]
        package_id = hashlib.sha256(slug.encode()).hexdigest()[:24]
        return {
            "id": package_id,
            "object": "package",
            "uri": f"/v1/packages/{package_id}",
            "apply_url": f"{self.base_url}/apply/packages/{slug}",
            "created_at": "2024-01-02T09:00:00Z",
            "name": name,
            "slug": slug,
            "price": price,
            "screenings": [{"type": kind, "subtype": None} for kind in screenings],
        }

    def report_view(self, report: Report, include: frozenset[str] = frozenset()) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": report.id,
            "object": "report",
            "uri": f"/v1/reports/{report.id}",
            "status": report.status,
            "result": report.result,
            "includes_canceled": report.status == "canceled",
            "created_at": iso(report.created_at),
            "revised_at": iso(report.revised_at),
            "upgraded_at": None,
            "package": report.package,
            "adjudication": None,
            "assessment": report.assessment,
            "source": "api",
            "work_locations": report.work_locations,
            "candidate_id": report.candidate_id,
            "estimated_completion_time": iso(report.estimated_completion_time),
            "document_ids": [report.document.id] if report.document else [],
        }
        if report.completed_at is not None:  # the spec's completed_at is a non-null string
            view["completed_at"] = iso(report.completed_at)
            view["turnaround_time"] = int((report.completed_at - report.created_at).total_seconds())
        for screening in report.screenings:
            listed = LISTED_SCREENINGS.get(screening.type)
            if listed:
                view.setdefault(f"{screening.type}_ids", []).append(screening.id)
                if listed in include:
                    view.setdefault(listed, []).append(self._screening_view(screening))
            else:
                view[f"{screening.type}_id"] = screening.id
                if screening.type in include:
                    view[screening.type] = self._screening_view(screening)
        if "documents" in include:
            view["documents"] = [self.document_view(report.document)] if report.document else []
        if self.variants.embedded_lists == "list_object":
            for name in (*LISTED_SCREENINGS.values(), "documents"):
                if name in view:
                    view[name] = {"object": "list", "data": view[name]}
        return view

    def _screening_view(self, screening: Screening) -> dict[str, Any]:
        view = {
            "id": screening.id,
            "object": screening.type,
            "status": screening.status,
            "result": screening.result,
            "created_at": iso(screening.created_at),
        }
        if screening.completed_at is not None:
            view["completed_at"] = iso(screening.completed_at)
        if screening.type == "ssn_trace":  # PII, as Checkr shows it: a consumer must not pass it on
            view["ssn"] = SAMPLE_SSN
        return view

    def document_view(self, document: Document) -> dict[str, Any]:
        expires = int(self.now().timestamp() + self.config.document_link_ttl_seconds)
        signature = self._link_signature(document.id, expires)
        return {
            "id": document.id,
            "object": "document",
            "type": "pdf_report",
            "created_at": iso(document.created_at),
            "filename": document.filename,
            "content_type": "application/pdf",
            "filesize": len(document.content),
            "download_uri": (
                f"{self.base_url}/downloads/{document.id}?expires={expires}&signature={signature}"
            ),
        }

    def webhook_view(self, hook: Webhook) -> dict[str, Any]:
        return {
            "id": hook.id,
            "object": "webhook",
            "uri": f"/v1/webhooks/{hook.id}",
            "account_id": self.config.account_id,
            "include_object": hook.include_object,
            "webhook_url": hook.url,
            "created_at": iso(hook.created_at),
            "deleted_at": None,
        }
