"""How a failed call to SmartRecruiters or a vendor reads in an order's timeline.

Operators read the timeline (`assessments orders show`, the Temporal UI's current details): a
note says who refused what, with the HTTP status and our own reason, in words rather than the
activity's error type and message. It never quotes a peer's body or the order's data: the
messages read here are ours (peers.py: "<peer>: <action> answered HTTP <status>[: <what it
refused>]"), a Vendor API vendor's own refusal text ("<event> refused: <its words>") is left out,
and so is the message of an error of any other type, since it may quote its input.

The peer, status and reason are read from that message rather than from structured details, so
failures recorded before this wording existed read the same. Pure: the workflow calls it while
it runs and while it replays (notes are its state, not commands).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
)

from activities.orders import HELD_ORDER_RETRY, SR_REFUSING
from peers import CREDENTIALS_REFUSED, INVITATION_UNKNOWN, PEER_REJECTED, PEER_UNAVAILABLE

# Peers by the names their errors carry: the display name the clients and adapters use
# (`PEER = …` in smartrecruiters/ and vendors/), or a vendor's id where an adapter names itself.
PEER_NAMES = {
    "SmartRecruiters": "SmartRecruiters",
    "smartrecruiters": "SmartRecruiters",
    "HackerRank": "HackerRank",
    "hackerrank": "HackerRank",
    "Checkr": "Checkr",
    "checkr": "Checkr",
    "TestGorilla": "TestGorilla",
    "testgorilla": "TestGorilla",
    "sandbox vendor": "the sandbox vendor",
    "sandbox": "the sandbox vendor",
    "API vendor": "the API vendor",
    "api": "the API vendor",
}

# What a call that failed was for, as the notes name it.
INVITATION = "the invitation"
STATUS_READ = "our request for the invitation's status"
RESULT_READ = "our request for the result"
REPORT_MOVE = "the report's move to the candidate's profile"
WITHDRAWAL = "the withdrawal of the invitation"
ABANDONED_INVITATION = "the withdrawal of the unfinished invitation"
RESEND = "our request to send the invitation again"


def status_update(status: str) -> str:
    return f"our status update {status}"


# httpx's transport failures (peers.py keeps the class name), in words.
_TRANSPORT = {
    "ConnectError": "no connection",
    "ConnectTimeout": "no connection in time",
    "ReadTimeout": "no answer in time",
    "WriteTimeout": "the request could not be sent in time",
    "PoolTimeout": "no connection in time",
    "RemoteProtocolError": "the connection broke off",
    "ReadError": "the connection broke off",
    "WriteError": "the connection broke off",
    "NetworkError": "a network failure",
    "UnsupportedProtocol": "a URL that is not HTTP",
}
# PeerError's "<peer>: <message>"; a peer's name is a few words, never a sentence of ours.
_PEER_MESSAGE = re.compile(r"(?P<peer>[\w.-]+(?: [\w.-]+)?): (?P<rest>.*)", re.DOTALL)
_ANSWERED = re.compile(r".*? answered HTTP (?P<status>\d{3})(?:: (?P<reason>.*))?", re.DOTALL)
_TRANSPORT_FAILED = re.compile(r".*? failed: (?P<error>\w+)")
# A Vendor API vendor refusing an event, in its own words (vendors/api_vendor.py): they may name
# the candidate, so the note keeps only that it refused.
_VENDOR_WORDS = re.compile(r"[\w.]+ refused: .*", re.DOTALL)
# What the activities add to a peer's message for these types; the notes say it in their words.
_SR_REFUSING_SUFFIX = ": SmartRecruiters refuses us for this company"
_UNKNOWN_INVITATION = re.compile(r":? ?the vendor does not know the invitation.*", re.DOTALL)


@dataclass(frozen=True)
class PeerFailure:
    """A failed call, as the notes tell it."""

    type: str | None  # the ApplicationError's type (or exception's); None: no answer in time
    peer: str | None  # the peer's display name, when the failure names one
    status: int | None
    reason: str | None  # ours: what the peer refused, or what went wrong
    gave_up: bool  # retried until the call's time ran out


def peer_failure(err: BaseException) -> PeerFailure:
    """The failure behind an activity's error, through a timeout to its last attempt's."""
    gave_up = isinstance(err, ActivityError) and err.retry_state == RetryState.TIMEOUT
    cause: BaseException | None = err.cause if isinstance(err, ActivityError) else err
    while isinstance(cause, TimeoutError):
        gave_up = True
        cause = cause.cause
    if not isinstance(cause, ApplicationError):
        # A timeout without an attempt's failure: no answer in time. Anything else is unexpected.
        kind = None if cause is None else type(cause).__name__
        return PeerFailure(type=kind, peer=None, status=None, reason=None, gave_up=gave_up)
    if cause.type not in (
        PEER_REJECTED,
        PEER_UNAVAILABLE,
        CREDENTIALS_REFUSED,
        INVITATION_UNKNOWN,
        SR_REFUSING,
    ):
        return PeerFailure(type=cause.type, peer=None, status=None, reason=None, gave_up=gave_up)
    peer, message = None, cause.message
    if named := _PEER_MESSAGE.fullmatch(message):
        peer, message = PEER_NAMES.get(named["peer"], named["peer"]), named["rest"]
    elif (named_first := message.split(" ", 1))[0] in PEER_NAMES and len(named_first) == 2:
        # "sandbox offers no resend …": the adapter names its vendor first.
        peer, message = PEER_NAMES[named_first[0]], f"it {named_first[1]}"
    if cause.type == SR_REFUSING:
        message = message.removesuffix(_SR_REFUSING_SUFFIX)
    if cause.type == INVITATION_UNKNOWN:
        message = _UNKNOWN_INVITATION.sub("", message)
    status: int | None = None
    reason: str | None = message
    if answered := _ANSWERED.fullmatch(message):
        status, reason = int(answered["status"]), answered["reason"]
    elif _VENDOR_WORDS.fullmatch(message):
        status, reason = 422, None
    elif transport := _TRANSPORT_FAILED.fullmatch(message):
        reason = _TRANSPORT.get(transport["error"], message)
    return PeerFailure(
        type=cause.type, peer=peer, status=status, reason=reason or None, gave_up=gave_up
    )


def failed(err: BaseException, what: str, *, vendor: str | None = None) -> str:
    """A note for a call that failed: who refused `what` (a phrase of this module), with the HTTP
    status and our reason, and what the order does about it; `vendor` is the order's vendor id,
    for failures that name no peer."""
    return _capital(_failed(peer_failure(err), what, vendor))


def _failed(failure: PeerFailure, what: str, vendor: str | None) -> str:
    peer = failure.peer or (PEER_NAMES.get(vendor, "the vendor") if vendor else "the vendor")
    detail = _detail(failure)
    if failure.type == SR_REFUSING:
        return (
            f"{failure.peer or 'SmartRecruiters'} refused {what} for this company{detail}: "
            "its connection may have ended (`assessments connections` shows it)"
        )
    if failure.type == CREDENTIALS_REFUSED:
        minutes = HELD_ORDER_RETRY.total_seconds() / 60
        return (
            f"{peer} refused our vendor account's credentials{detail}, so {what} failed; tried "
            f"again every {minutes:g} minutes"
            + (" until its time ran out" if failure.gave_up else "")
            + ". Fix the account: `assessments vendor-account set-credentials`"
        )
    if failure.type == INVITATION_UNKNOWN:
        return f"{peer} does not know this order's invitation{detail}"
    if failure.type == PEER_UNAVAILABLE:
        return f"{peer} was unavailable for {what}{detail}; tried again automatically" + (
            " until its time ran out" if failure.gave_up else ""
        )
    if failure.type == PEER_REJECTED:
        if failure.peer is None:  # our own refusal: no peer was asked
            return f"{_capital(what)} failed: {failure.reason or 'refused'}"
        return f"{peer} refused {what}{detail}"
    if failure.type is None:
        return f"{_capital(what)} got no answer in time" + (
            " (tried again until its time ran out)" if failure.gave_up else ""
        )
    return (
        f"{_capital(what)} failed unexpectedly ({failure.type}); the order's history has the "
        "details, for support"
    )


def _detail(failure: PeerFailure) -> str:
    """ " (HTTP 422: it refused the candidate's email)", " (HTTP 503)", " (no answer in time)"."""
    parts = [f"HTTP {failure.status}"] if failure.status else []
    if failure.reason:
        parts.append(failure.reason)
    return f" ({': '.join(parts)})" if parts else ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
