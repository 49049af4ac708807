"""The Checkr simulator's web pages, for a person driving it by hand.

- ``/``: every invitation, newest first, with its candidate and report, and a button for each
  move the candidate or Checkr could make next (the same account methods as ``/_sim/*``);
- ``/outbox``: the emails the simulator "sent", each with its link;
- ``/apply/{token}``: the candidate's invitation page; submitting it completes the invitation.

A button answers with a redirect back to ``/`` (with ``?error=`` when the move is not possible),
so a reload never repeats it and the page keeps updating itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..pages import Badge, back_home, message_page, templates
from .reports import Report
from .state import PACKAGES, Account, Candidate, CheckrError, Invitation

TEMPLATES = templates(Path(__file__).parent / "templates")

pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

# Screening types in words, for the candidate and the person at the page.
SCREENINGS = {
    "ssn_trace": "SSN trace: confirms your identity and past addresses",
    "sex_offender_search": "Sex offender registry search",
    "national_criminal_search": "National criminal records search",
    "county_criminal_search": "County criminal records search in the counties you have lived in",
    "motor_vehicle_report": "Motor vehicle report: your driving record",
    "global_watchlist_search": "Global watchlist search",
}
ASSESSMENTS = {"eligible": "Eligible", "review": "Needs review", "escalated": "Escalated"}
REPORT_MOVES = {
    "suspend": "Suspend",
    "resume": "Resume",
    "dispute": "Candidate disputes",
    "cancel": "Cancel",
}
# Which moves the page offers in which report status: the statuses Account.move_report allows.
_MOVES_FROM = {
    "pending": ("suspend", "cancel"),
    "suspended": ("resume", "cancel"),
    "complete": ("dispute",),
}
_COMPLETABLE = {"pending", "suspended", "dispute"}
_ETA_MOVABLE = {"pending", "suspended"}


@dataclass(frozen=True)
class Row:
    """One invitation as the home page shows it."""

    invitation: Invitation
    candidate: Candidate | None
    package: str
    status: Badge
    report: Report | None
    report_status: Badge | None
    assessment: str | None
    document_link: str | None
    moves: tuple[str, ...]
    completable: bool
    eta_movable: bool

    @property
    def pending(self) -> bool:
        return self.invitation.status == "pending" and not self.invitation.deleted_at


def _account(request: Request) -> Account:
    return request.app.state.account


def _invitation_badge(invitation: Invitation) -> Badge:
    if invitation.deleted_at:
        return Badge("Canceled by the partner", "")
    return {
        "pending": Badge("Waiting for the candidate", "waiting"),
        "completed": Badge("Completed by the candidate", "good"),
        "expired": Badge("Expired", "attention"),
    }.get(invitation.status, Badge(invitation.status, ""))


def _report_badge(report: Report) -> Badge:
    if report.status == "complete":
        if report.result == "clear":
            return Badge("Complete: clear", "good")
        return Badge(f"Complete: {report.result}", "attention")
    return {
        "pending": Badge("In progress", "waiting"),
        "suspended": Badge("Suspended", "attention"),
        "dispute": Badge("Disputed by the candidate", "attention"),
        "canceled": Badge("Canceled", ""),
    }.get(report.status, Badge(report.status, ""))


def _row(account: Account, invitation: Invitation) -> Row:
    report = account.reports.get(invitation.report_id) if invitation.report_id else None
    document_link = None
    if report is not None and report.document is not None:
        # Relative, so it opens on whatever address the page was reached at.
        uri = urlsplit(account.document_view(report.document)["download_uri"])
        document_link = f"{uri.path}?{uri.query}"
    return Row(
        invitation=invitation,
        candidate=account.candidates.get(invitation.candidate_id),
        package=PACKAGES[invitation.package][0],
        status=_invitation_badge(invitation),
        report=report,
        report_status=None if report is None else _report_badge(report),
        assessment=None if report is None else ASSESSMENTS.get(report.assessment or ""),
        document_link=document_link,
        moves=() if report is None else _MOVES_FROM.get(report.status, ()),
        completable=report is not None and report.status in _COMPLETABLE,
        eta_movable=report is not None and report.status in _ETA_MOVABLE,
    )


def _rows(account: Account) -> list[Row]:
    # Through account.invitation, as the API reads them, so one past its expiry shows expired.
    invitations = [account.invitation(i) for i in list(account.invitations)]
    newest_first = sorted(
        enumerate(invitations), key=lambda pair: (pair[1].created_at, pair[0]), reverse=True
    )
    return [_row(account, invitation) for _, invitation in newest_first]


@pages.get("/")
async def home(request: Request, error: str | None = None) -> HTMLResponse:
    account = _account(request)
    invited = {i.candidate_id for i in account.invitations.values()}
    context: dict[str, Any] = {
        "rows": _rows(account),
        "uninvited": [c for c in account.candidates.values() if c.id not in invited],
        "now": account.now(),
        "invitation_days": account.config.invitation_ttl_seconds / 86400,
        "moves": REPORT_MOVES,
        "assessments": ASSESSMENTS,
        "error": error,
    }
    return TEMPLATES.TemplateResponse(request, "home.html", context)


@pages.get("/outbox")
async def outbox(request: Request) -> HTMLResponse:
    account = _account(request)
    # Through account.invitation, as the API reads them, so one past its expiry shows expired.
    invitations = {i: account.invitation(i) for i in list(account.invitations)}
    emails = [
        {
            **asdict(email),
            "invitation_state": _invitation_state(invitations.get(email.invitation_id)),
        }
        for email in reversed(account.outbox)
    ]
    return TEMPLATES.TemplateResponse(request, "outbox.html", {"emails": emails})


def _invitation_state(invitation: Invitation | None) -> str | None:
    if invitation is None:
        return None
    return "canceled" if invitation.deleted_at else invitation.status


@pages.post("/invitations/{invitation_id}/{action}")
async def move_invitation(invitation_id: str, action: str, request: Request) -> RedirectResponse:
    account = _account(request)
    if action not in ("complete", "expire"):
        return back_home(f"No such move for an invitation: {action}")
    try:
        if action == "complete":
            account.complete_invitation(invitation_id)
        else:
            account.expire_invitation(invitation_id)
    except CheckrError as exc:
        return back_home(f"Could not {action} the invitation: {exc.message}.")
    return back_home()


@pages.post("/reports/{report_id}/{action}")
async def move_report(report_id: str, action: str, request: Request) -> RedirectResponse:
    account, form = _account(request), await request.form()
    try:
        if action == "complete":
            result, assessment = form.get("result", "clear"), form.get("assessment") or None
            if result not in ("clear", "consider") or assessment not in (None, *ASSESSMENTS):
                return back_home(f"Not a result Checkr gives: {result} (assessment {assessment})")
            account.complete_report(report_id, str(result), assessment and str(assessment))
        elif action == "eta":
            account.update_eta(report_id, _eta(form.get("eta")))
        elif action in REPORT_MOVES:
            account.move_report(report_id, action)
        else:
            return back_home(f"No such move for a report: {action}")
    except CheckrError as exc:
        verb = "move the ETA of" if action == "eta" else action
        return back_home(f"Could not {verb} the report: {exc.message}.")
    return back_home()


def _eta(value: object) -> datetime:
    """A datetime-local field's value, read as UTC (the simulator's clock is UTC)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise CheckrError(400, f"not a date and time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# The candidate's page


@pages.get("/apply/{token}")
async def apply_page(token: str, request: Request) -> HTMLResponse:
    invitation = _account(request).invitation_by_token(token)
    if invitation is None:
        return message_page(
            TEMPLATES, request, "not-found", "Invitation not found", status_code=404
        )
    if invitation.status != "pending" or invitation.deleted_at:
        return _closed(request, invitation)
    return _apply_form(request, invitation)


@pages.post("/apply/{token}")
async def apply_submit(token: str, request: Request) -> HTMLResponse:
    account = _account(request)
    invitation = account.invitation_by_token(token)
    if invitation is None:
        return message_page(
            TEMPLATES, request, "not-found", "Invitation not found", status_code=404
        )
    if invitation.status == "completed" and not invitation.deleted_at:  # e.g. submitted twice
        return _thank_you(request, invitation)
    if invitation.status != "pending" or invitation.deleted_at:
        return _closed(request, invitation)
    if not (await request.form()).get("consent"):
        error = "Please confirm that you authorise the background check."
        return _apply_form(request, invitation, error=error, status_code=422)
    return _thank_you(request, account.complete_invitation(invitation.id))


def _apply_form(
    request: Request, invitation: Invitation, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    account = _account(request)
    name, _, screenings = PACKAGES[invitation.package]
    candidate = account.candidates.get(invitation.candidate_id)
    context = {
        "token": invitation.token,
        "package": name,
        "screenings": [SCREENINGS.get(kind, kind) for kind in screenings],
        "first_name": candidate.fields.get("first_name") if candidate else None,
        "expires_at": invitation.expires_at,
        "error": error,
    }
    return TEMPLATES.TemplateResponse(request, "apply.html", context, status_code=status_code)


def _thank_you(request: Request, invitation: Invitation) -> HTMLResponse:
    report = _account(request).reports.get(invitation.report_id or "")
    text = (
        f"Your {PACKAGES[invitation.package][0]} background check has started. Checkr will email "
        "you if it needs anything more, and the employer is told when the report is ready"
    )
    if report is not None:
        text += f", estimated by {report.estimated_completion_time:%d %B %Y}"
    return message_page(TEMPLATES, request, "thank-you", "Thank you", text + ".")


def _closed(request: Request, invitation: Invitation) -> HTMLResponse:
    why = (
        "The employer canceled it."
        if invitation.deleted_at
        else {
            "expired": "It expired before it was completed.",
            "completed": "It has already been completed.",
        }.get(invitation.status, "")
    )
    return message_page(
        TEMPLATES,
        request,
        "closed",
        "This invitation is closed",
        f"{why} If you still need to complete a background check, ask the employer for a new "
        "invitation.",
    )
