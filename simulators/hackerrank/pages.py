"""The HackerRank simulator's web pages, for a person driving it by hand.

- ``/``: every test candidate, newest first, with a button for each move the candidate or a
  reviewer could make next (the same account methods as ``/_sim/*``);
- ``/outbox``: the invitation emails the simulator "sent", each with its test link;
- ``/tests/{unique_id}/login?b={token}``: where a candidate's test link lands: start the test,
  hand it in, thank you.

A button answers with a redirect back to ``/`` (with ``?error=`` when the move is not possible),
so a reload never repeats it and the page keeps updating itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..pages import Badge, back_home, templates
from .catalog import TESTS
from .service import (
    IN_PROGRESS,
    INVITED,
    PROCESSING_REPORT,
    REPORT_READY,
    Account,
    Candidate,
    SimError,
    parse_time,
)

TEMPLATES = templates(Path(__file__).parent / "templates")

pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


def _account(request: Request) -> Account:
    return request.app.state.account


AccountDep = Annotated[Account, Depends(_account)]


@dataclass(frozen=True)
class Row:
    """One test candidate as the home page shows it, with the moves its state allows."""

    candidate: Candidate
    status: Badge
    link: str
    skills: dict[str, float]
    can_start: bool
    can_submit: bool
    can_finish: bool
    can_expire: bool
    can_rescore: bool

    @property
    def has_moves(self) -> bool:
        return any(
            (self.can_start, self.can_submit, self.can_finish, self.can_expire, self.can_rescore)
        )


def status_badge(account: Account, record: Candidate) -> Badge:
    """HackerRank's status number in words (the middle ones are our assumption: service.py)."""
    if record.status == INVITED:
        if account.invite_open(record):
            return Badge("Invited (not started)", "")
        return Badge("Invite expired", "attention")
    if record.status == IN_PROGRESS:
        return Badge("Taking the test", "waiting")
    if record.status == PROCESSING_REPORT:
        return Badge("Submitted; report being generated", "waiting")
    if record.status == REPORT_READY:
        return Badge("Report ready", "good")
    return Badge(f"Status {record.status}", "")


def _row(account: Account, record: Candidate) -> Row:
    startable = record.status == INVITED and account.invite_open(record)
    return Row(
        candidate=record,
        status=status_badge(account, record),
        link=account.test_link(record, ""),
        skills=account.skill_split(record) if record.status == REPORT_READY else {},
        can_start=startable,
        can_submit=startable or record.status == IN_PROGRESS,
        can_finish=record.status == PROCESSING_REPORT,
        can_expire=startable,
        can_rescore=record.status == REPORT_READY,
    )


# The home page and its buttons


@pages.get("/")
async def home(request: Request, account: AccountDep, error: str | None = None) -> HTMLResponse:
    newest_first = sorted(account.candidates.values(), key=lambda c: c.id, reverse=True)
    context = {
        "rows": [_row(account, record) for record in newest_first],
        "tests": [test for test in TESTS.values() if not test.draft],
        "error": error,
    }
    return TEMPLATES.TemplateResponse(request, "home.html", context)


def _refusal(exc: SimError) -> str:
    return " ".join([exc.message.rstrip(".") + ".", *exc.errors])


def _score(form: Any, record: Candidate) -> float:
    """The score a person typed: a number from 0 to the test's maximum."""
    try:
        score = float(str(form.get("score", "")).strip())
    except ValueError:
        score = math.nan
    if not math.isfinite(score) or not 0 <= score <= record.test.max_score:
        # The message travels in the redirect's URL (and so access logs): the id, never the email.
        raise SimError(
            400, f"Enter a score from 0 to {record.test.max_score:g} for candidate {record.id}"
        )
    return score


def _candidate(account: Account, candidate_id: str) -> Candidate:
    record = (
        account.candidates.get(int(candidate_id))
        if candidate_id.isascii() and candidate_id.isdigit()
        else None
    )
    if record is None:
        raise SimError(404, f"No candidate {candidate_id}: it may have been cancelled")
    return record


@pages.post("/candidates/{candidate_id}/{move}", response_class=RedirectResponse)
async def move(
    candidate_id: str, move: str, request: Request, account: AccountDep
) -> RedirectResponse:
    """A button of the home page: the move, then back to the page."""
    try:
        record = _candidate(account, candidate_id)
        if move == "start":
            account.start(record.id)
        elif move == "submit":
            account.submit(record.id, _score(await request.form(), record), None, None)
        elif move == "report":
            account.finish_report(record.id)
        elif move == "expire":
            account.expire(record.id)
        elif move == "rescore":
            account.rescore(record.id, _score(await request.form(), record))
        else:
            raise SimError(404, f"No such move: {move}")
    except SimError as exc:
        return back_home(_refusal(exc))
    return back_home()


# The outbox


@pages.get("/outbox")
async def outbox(request: Request, account: AccountDep) -> HTMLResponse:
    emails = [
        {
            **email,
            "sent_at": parse_time(email.get("sent_at")),
            "test_name": TESTS[email["test_id"]].name if email.get("test_id") in TESTS else "",
        }
        for email in reversed(account.outbox)
    ]
    return TEMPLATES.TemplateResponse(request, "outbox.html", {"emails": emails})


# The candidate's test link


@pages.get("/tests/{unique_id}/login")
async def candidate_page(
    request: Request, unique_id: str, account: AccountDep, b: str = ""
) -> Response:
    return _candidate_page(request, account, account.by_link(unique_id, b))


@pages.post("/tests/{unique_id}/login/start", response_model=None)
async def candidate_starts(request: Request, unique_id: str, account: AccountDep) -> Response:
    """The "Start the test" button."""
    form = await request.form()
    record = account.by_link(unique_id, str(form.get("b", "")))
    if record is None:
        return _candidate_page(request, account, None)
    try:
        account.start(record.id)
    except SimError as exc:
        return _candidate_page(request, account, record, error=_refusal(exc), status_code=409)
    return RedirectResponse(_link(record), status_code=303)


@pages.post("/tests/{unique_id}/login/submit", response_model=None)
async def candidate_submits(request: Request, unique_id: str, account: AccountDep) -> Response:
    """Handing the test in; the simulator has no questions, so the candidate names the score."""
    form = await request.form()
    record = account.by_link(unique_id, str(form.get("b", "")))
    if record is None:
        return _candidate_page(request, account, None)
    if record.attempt_endtime is not None:  # handed in twice (a reload): never scored again
        return RedirectResponse(_link(record), status_code=303)
    try:
        account.submit(record.id, _score(form, record), None, None)
    except SimError as exc:
        return _candidate_page(request, account, record, error=_refusal(exc), status_code=422)
    return RedirectResponse(_link(record), status_code=303)


def _web_link(url: object) -> str | None:
    """A partner's finish URL, only when http(s): the page never links a `javascript:` one."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _link(record: Candidate) -> str:
    return Account.test_link(record, "")


def _candidate_page(
    request: Request,
    account: Account,
    record: Candidate | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if record is None:
        return TEMPLATES.TemplateResponse(
            request,
            "message.html",
            {
                "heading_id": "not-found",
                "heading": "Test link not found",
                "text": "This link is not valid. Check that you copied the whole link from "
                "your invitation email.",
            },
            status_code=404,
        )
    if record.attempt_endtime is not None:
        state = "done"
    elif record.attempt_starttime is not None:
        state = "taking"
    elif account.invite_open(record):
        state = "invited"
    else:
        state = "expired"
    context = {
        "candidate": record,
        "test": record.test,
        "state": state,
        "token": record.token,
        "finish_url": _web_link(record.invite.get("test_finish_url")),
        "valid_to": record.valid_to,
        "error": error,
    }
    return TEMPLATES.TemplateResponse(request, "candidate.html", context, status_code=status_code)
