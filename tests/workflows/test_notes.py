"""How a failed call reads in an order's timeline (workflows/notes.py), one case per error type.

The errors are made as the activities make them (peers.py's messages through `peer_errors`), so
a change to their wording that the notes no longer read fails here.
"""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
    TimeoutType,
)
from temporalio.testing import ActivityEnvironment

from activities.orders import peer_errors, vendor_errors
from peers import CallDeferred, PeerError, raise_for_status
from smartrecruiters.client import AccessRefused
from workflows import notes


def _raised(error: Exception, **options: bool) -> ApplicationError:
    """The ApplicationError the activity raises for a peer's error."""

    def call() -> None:
        with peer_errors(**options) if "sr_refusing" in options else vendor_errors(**options):
            raise error

    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(call)
    return raised.value


def _answered(peer: str, action: str, status: int, refused: str | None = None) -> PeerError:
    with pytest.raises(PeerError) as raised:
        raise_for_status(
            peer,
            httpx.Response(status, text='{"email": "ann@example.com"}'),
            action,
            refusal=(lambda _: refused) if refused else None,
        )
    return raised.value


def _activity_error(
    cause: BaseException, retry_state: RetryState = RetryState.NON_RETRYABLE_FAILURE
) -> ActivityError:
    err = ActivityError(
        "Activity task failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="create_invitation",
        activity_id="1",
        retry_state=retry_state,
    )
    err.__cause__ = cause
    return err


def _gave_up(last: ApplicationError) -> ActivityError:
    """Retried until the call's schedule-to-close timeout, the last attempt's failure under it."""
    timeout = TimeoutError(
        "activity ScheduleToClose timeout",
        type=TimeoutType.SCHEDULE_TO_CLOSE,
        last_heartbeat_details=[],
    )
    timeout.__cause__ = last
    return _activity_error(timeout, RetryState.TIMEOUT)


def test_a_vendor_refusing_the_invitation_names_what_it_refused():
    refused = _answered("HackerRank", "create invitation", 422, "it refused the candidate's email")
    err = _activity_error(_raised(refused))

    assert notes.failed(err, notes.INVITATION, vendor="hackerrank") == (
        "HackerRank refused the invitation (HTTP 422: it refused the candidate's email)"
    )


def test_a_refusal_never_quotes_the_peers_body():
    err = _activity_error(_raised(_answered("Checkr", "result", 400)))

    note = notes.failed(err, notes.RESULT_READ, vendor="checkr")
    assert note == "Checkr refused our request for the result (HTTP 400)"
    assert "ann@example.com" not in note


def test_smartrecruiters_refusing_us_for_the_company_says_the_connection_may_have_ended():
    refused = AccessRefused(
        "SmartRecruiters", "update order answered HTTP 403", status=403, retryable=False
    )
    err = _activity_error(_raised(refused, sr_refusing=True))

    assert notes.failed(err, notes.status_update("PENDING")) == (
        "SmartRecruiters refused our status update PENDING for this company (HTTP 403): its "
        "connection may have ended (`assessments connections` shows it)"
    )


def test_smartrecruiters_refusing_our_token_keeps_our_reason():
    refused = AccessRefused(
        "SmartRecruiters", "SmartRecruiters refused our client credentials", status=401
    )
    err = _activity_error(_raised(refused, sr_refusing=True))

    assert notes.failed(err, notes.status_update("COMPLETED")).startswith(
        "SmartRecruiters refused our status update COMPLETED for this company "
        "(SmartRecruiters refused our client credentials): its connection may have ended"
    )


def test_smartrecruiters_refusing_an_update_itself_is_a_plain_refusal():
    err = _activity_error(
        _raised(_answered("SmartRecruiters", "result update", 400), sr_refusing=True)
    )

    assert notes.failed(err, notes.status_update("COMPLETED")) == (
        "SmartRecruiters refused our status update COMPLETED (HTTP 400)"
    )


def test_an_unavailable_vendor_was_tried_again_until_the_time_ran_out():
    err = _gave_up(_raised(_answered("TestGorilla", "candidate status", 503)))

    assert notes.failed(err, notes.STATUS_READ, vendor="testgorilla") == (
        "TestGorilla was unavailable for our request for the invitation's status (HTTP 503); "
        "tried again automatically until its time ran out"
    )


def test_no_connection_is_said_in_words():
    lost = PeerError("HackerRank", "create invitation failed: ConnectTimeout")
    err = _gave_up(_raised(lost))

    assert notes.failed(err, notes.INVITATION, vendor="hackerrank") == (
        "HackerRank was unavailable for the invitation (no connection in time); tried again "
        "automatically until its time ran out"
    )


def test_our_own_budget_running_out_is_an_unavailable_peer():
    deferred = CallDeferred(
        "Checkr", "candidate status: our request budget is used up for now", retry_after=5
    )
    err = _gave_up(_raised(deferred))

    assert notes.failed(err, notes.STATUS_READ, vendor="checkr") == (
        "Checkr was unavailable for our request for the invitation's status (candidate status: "
        "our request budget is used up for now); tried again automatically until its time ran out"
    )


def test_refused_credentials_name_the_fix():
    err = _gave_up(_raised(_answered("HackerRank", "test list", 401)))

    assert notes.failed(err, notes.RESULT_READ, vendor="hackerrank") == (
        "HackerRank refused our vendor account's credentials (HTTP 401), so our request for the "
        "result failed; tried again every 5 minutes until its time ran out. Fix the account: "
        "`assessments vendor-account set-credentials`"
    )


def test_an_unknown_invitation_says_the_vendor_does_not_know_it():
    unknown = _answered("sandbox vendor", "status", 404)
    err = _activity_error(_raised(unknown, unknown_invitation_held=False))

    assert notes.failed(err, notes.STATUS_READ, vendor="sandbox") == (
        "The sandbox vendor does not know this order's invitation (HTTP 404)"
    )


def test_our_own_refusal_names_no_peer():
    ours = ApplicationError("the order's vendor account has no usable adapter", type="PeerRejected")

    assert notes.failed(_activity_error(ours), notes.INVITATION, vendor="checkr") == (
        "The invitation failed: the order's vendor account has no usable adapter"
    )


def test_a_vendor_that_names_itself_is_named():
    ours = ApplicationError(
        "sandbox offers no resend through this integration", type="PeerRejected"
    )

    assert notes.failed(_activity_error(ours), notes.RESEND, vendor="sandbox") == (
        "The sandbox vendor refused our request to send the invitation again (it offers no "
        "resend through this integration)"
    )


def test_no_answer_in_time():
    timeout = TimeoutError(
        "activity StartToClose timeout", type=TimeoutType.START_TO_CLOSE, last_heartbeat_details=[]
    )
    err = _activity_error(timeout, RetryState.TIMEOUT)

    assert notes.failed(err, notes.WITHDRAWAL, vendor="hackerrank") == (
        "The withdrawal of the invitation got no answer in time (tried again until its time "
        "ran out)"
    )


def test_an_unexpected_error_keeps_its_message_out():
    bug = ApplicationError("bad value for ann@example.com", type="ValueError")

    assert notes.failed(_activity_error(bug), notes.REPORT_MOVE, vendor="checkr") == (
        "The report's move to the candidate's profile failed unexpectedly (ValueError); the "
        "order's history has the details, for support"
    )


def test_a_vendor_api_refusal_in_the_vendors_own_words_stays_out():
    """The Vendor API's 422 carries the vendor's message, which may name the candidate."""
    refused = PeerError(
        "API vendor",
        "order.created refused: Ann Lee (ann@example.com) took this test last week",
        status=422,
        retryable=False,
    )
    err = _activity_error(_raised(refused))

    note = notes.failed(err, notes.INVITATION, vendor="api")
    assert note == "The API vendor refused the invitation (HTTP 422)"
    assert "Ann" not in note and "ann@example.com" not in note
