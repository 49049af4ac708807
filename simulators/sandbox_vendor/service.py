"""The vendor itself: invitations and their life cycle, the outbox, and the control settings.

Life cycle: invited -> started -> completed | declined; anything not final can be cancelled.
Moving to the status an invitation already has is a no-op (so every action is idempotent);
moving out of a final status is a conflict. Each real move raises an ``invitation.<status>``
webhook event. An invitation nobody opened yet can be emailed again (``resend``).

No method awaits, so on the app's single event loop every check-then-write is atomic: two
concurrent requests with one reference cannot both create an invitation.
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..docstore import DocumentStore
from .catalog import PACKAGES, AssessmentResult, Package, grade_uniformly
from .config import SandboxVendorConfig
from .models import (
    FINAL_STATUSES,
    Email,
    Invitation,
    InvitationRecord,
    InvitationRequest,
    InvitationResult,
    InvitationStatus,
    utc_now,
)
from .report import render_report
from .webhooks import EventData, WebhookDispatcher, WebhookMode

_INVITATION = "invitation"
_EMAIL = "email"
_SETTINGS = "settings"
_SETTINGS_ID = "control"


class SandboxError(Exception):
    """A request the vendor refuses; the app answers it as JSON ``{"error": message}``."""

    status_code = 400

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class NotFound(SandboxError):
    status_code = 404


class Conflict(SandboxError):
    status_code = 409


class NotReady(SandboxError):
    status_code = 503


class ControlSettings(BaseModel):
    """Behaviour tests and demos switch at runtime through the control API; persisted."""

    webhook_mode: WebhookMode = "deliver"
    report_delay_seconds: float = 0.0
    # Candidates finish every test at this score the moment they are invited (benchmarks: the
    # vendor's side of an order at no cost to the machine); None: they take the test themselves.
    complete_at_once_score: float | None = None


class SandboxVendor:
    """The vendor's state, kept in the document store; the HTTP layer is in app.py."""

    def __init__(
        self, config: SandboxVendorConfig, store: DocumentStore, webhooks: WebhookDispatcher
    ) -> None:
        self._public_url = config.public_url.rstrip("/")
        self._store = store
        self._webhooks = webhooks

    # Lookups

    def package(self, package_id: str) -> Package:
        try:
            return PACKAGES[package_id]
        except KeyError:
            raise NotFound("unknown package") from None

    def invitation(self, invitation_id: str) -> InvitationRecord:
        doc = self._store.get(_INVITATION, invitation_id)
        if doc is None:
            raise NotFound("unknown invitation")
        return InvitationRecord(**doc)

    def invitation_by_reference(self, reference: str) -> InvitationRecord:
        record = self._find_invitation(reference=reference)
        if record is None:
            raise NotFound("unknown reference")
        return record

    def invitation_by_token(self, token: str) -> InvitationRecord | None:
        return self._find_invitation(token=token)

    def view(self, record: InvitationRecord) -> Invitation:
        return Invitation.from_record(record, test_url=self._test_url(record.token))

    # Life cycle

    def invite(self, request: InvitationRequest) -> tuple[InvitationRecord, bool]:
        """The invitation for the request's reference, and whether this call created it.

        Only a new invitation emails the candidate, so a partner retrying a timed-out request
        never sends the candidate a second invitation.
        """
        package = self.package(request.package_id)
        existing = self._find_invitation(reference=request.reference)
        if existing is not None:
            return existing, False
        record = InvitationRecord(
            id=f"inv_{uuid.uuid4().hex}",
            reference=request.reference,
            package_id=package.id,
            token=secrets.token_urlsafe(32),
            candidate=request.candidate,
            status="invited",
            created_at=utc_now(),
            redirect_url=str(request.redirect_url) if request.redirect_url else None,
            job_title=request.job_title,
        )
        self._save(record)
        self._send_invitation_email(record, package)
        if (score := self.settings().complete_at_once_score) is not None:
            self.complete(record.id, grade_uniformly(package, score))
        return record, True

    def start(self, invitation_id: str) -> InvitationRecord:
        return self._move(invitation_id, "started", started_at=utc_now())

    def complete(self, invitation_id: str, result: AssessmentResult) -> InvitationRecord:
        """Complete with `result`; an invitation already completed keeps its first result."""
        if self.invitation(invitation_id).status == "invited":
            self.start(invitation_id)
        return self._move(invitation_id, "completed", completed_at=utc_now(), result=result)

    def decline(self, invitation_id: str) -> InvitationRecord:
        return self._move(invitation_id, "declined")

    def cancel(self, invitation_id: str) -> InvitationRecord:
        return self._move(invitation_id, "cancelled")

    def resend(self, invitation_id: str) -> InvitationRecord:
        """Email the invitation again (the candidate lost it); the status stays, so no webhook.

        Only while nobody opened it: a started invitation's candidate has the test already, and a
        final one has nothing left to take.
        """
        record = self.invitation(invitation_id)
        if record.status != "invited":
            raise Conflict(
                f"invitation is {record.status}: only an invitation not yet opened is sent again"
            )
        self._send_invitation_email(record, self.package(record.package_id))
        return record

    # Results

    def result(self, record: InvitationRecord) -> InvitationResult:
        if record.status != "completed":
            raise Conflict("not completed")
        return InvitationResult.from_record(record)

    def report(self, record: InvitationRecord) -> bytes:
        """The PDF report, once the configured rendering delay after completion has passed."""
        result = self.result(record)
        ready_at = result.submitted_at.timestamp() + self.settings().report_delay_seconds
        wait = ready_at - utc_now().timestamp()
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise NotReady(
                f"report not ready yet, retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
        return render_report(record, self.package(record.package_id), result)

    # Outbox

    def outbox(self, reference: str | None = None) -> list[Email]:
        """Emails sent, newest first, optionally only those for one reference."""
        filters = {} if reference is None else {"reference": reference}
        return [Email(**doc) for doc in reversed(list(self._store.find(_EMAIL, **filters)))]

    # Control settings

    def settings(self) -> ControlSettings:
        return ControlSettings(**(self._store.get(_SETTINGS, _SETTINGS_ID) or {}))

    def update_settings(self, **changes: Any) -> ControlSettings:
        settings = ControlSettings.model_validate({**self.settings().model_dump(), **changes})
        self._store.put(_SETTINGS, _SETTINGS_ID, settings.model_dump(mode="json"))
        return settings

    # Internals

    def _move(
        self, invitation_id: str, status: InvitationStatus, **changes: Any
    ) -> InvitationRecord:
        # Re-read: the caller's copy may predate an await, and with it another request's move.
        record = self.invitation(invitation_id)
        if record.status == status:
            return record
        if record.status in FINAL_STATUSES:
            raise Conflict(f"invitation is {record.status}")
        moved = record.model_copy(update={"status": status, **changes})
        self._save(moved)
        self._webhooks.publish(
            f"invitation.{status}",
            EventData(invitation_id=moved.id, reference=moved.reference, status=status),
            mode=self.settings().webhook_mode,
        )
        return moved

    def _find_invitation(self, **fields: str) -> InvitationRecord | None:
        doc = next(self._store.find(_INVITATION, **fields), None)
        return None if doc is None else InvitationRecord(**doc)

    def _save(self, record: InvitationRecord) -> None:
        self._store.put(_INVITATION, record.id, record.model_dump(mode="json"))

    def _test_url(self, token: str) -> str:
        return f"{self._public_url}/take/{token}"

    def _send_invitation_email(self, record: InvitationRecord, package: Package) -> None:
        link = self._test_url(record.token)
        email = Email(
            id=f"msg_{uuid.uuid4().hex}",
            to=record.candidate.email,
            subject=f"Your invitation: {package.name}",
            body=(
                f"Hello {record.candidate.first_name},\n\n"
                f'You have been invited to complete the "{package.name}" assessment.\n'
                f"{package.description}\n\n"
                f"Open your personal link to begin:\n{link}\n\n"
                "This link is personal: please do not share it. If you would rather not take"
                " part, you can decline the assessment on the same page.\n\n"
                "The Sandbox Vendor team\n"
            ),
            link=link,
            invitation_id=record.id,
            reference=record.reference,
            sent_at=utc_now(),
        )
        self._store.put(_EMAIL, email.id, email.model_dump(mode="json"))
