"""Adapter for HackerRank for Work, API v3 (docs/vendors.md "HackerRank"; simulators/hackerrank).

Ordering: one `POST /tests/{test_id}/candidates` per order. Our order id travels in
`invite_metadata`, the result webhook goes to the order's own URL with a bearer token we chose
(`webhook_authentication`), and HackerRank is asked to push later score changes too
(`accept_result_updates`). The vendor reference is `"{test_id}:{candidate_id}"`.

Idempotency: HackerRank has no idempotency key; (test, email) is its natural key and a second
invite answers 422. On a 422 we search the test's candidates by email:
- a candidate carrying our order id is our own earlier invite (a retry whose answer was lost):
  it is returned, and no second email goes out;
- a candidate of another order who attempted the test (a start or end time, or status 7) means
  a new order legitimately wants a new attempt, so we invite again with `force_reattempt`. A
  retry of that call finds our order id and stops; another order's invitation still open is
  refused, never taken over. Search rows lacking the metadata or the attempt are read in full;
- no candidate at all: the 422 meant something else (a draft test), and it is raised as is.

Resend (an operator's repair): the same invite again with `force`, which the spec documents as
"forces sending an email even when the candidate has already been invited". It carries the
settings the candidate was invited with, read back from HackerRank (`TestCandidateShow`) and the
order's callback, so a vendor that takes the whole invite again keeps them. Only an open invite
of a candidate who has not started is sent again. **Our assumption**: the forced invite keeps the
test candidate (its id); an answer naming another is reported, not followed.

Results: `score` comes from the candidate, `max_score` from the test; an outcome ("passed" or
"failed") only when the test sets a `cutoff_score` (or, our assumption, only a
`cutoff_score_percentage`), never invented. All three are opt-in fields of the test, asked for by
name. Since we accept result updates, a completed result can change: `StatusReading.revision` is the
score, so a pushed rescore shows as a new revision and the order posts it again.

Webhooks: HackerRank pushes to per-order URLs, authenticated by the API route with our bearer
token (api/webhooks.py); the body is a hint only and its shape is not published, so this
adapter never reads one (`parse_webhook` raises WebhookUnreadable).

Rate limit: HackerRank recommends at most 10 requests per second; each adapter instance (one per
vendor account) keeps to that. A 429's wait comes from Retry-After, else from the simulator's
X-RateLimit-Reset (seconds); HackerRank does not publish the header names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from orders.models import (
    Invitation,
    Order,
    PackageTestResult,
    StatusReading,
    VendorResult,
    VendorStatus,
)
from peers import (
    PeerError,
    peer_client,
    retry_after_header,
    retry_after_seconds,
    send,
)
from settings import Settings
from smartrecruiters.models import AssessmentType
from store.limits import SharedLimits
from vendors.base import (
    AccountPace,
    Capabilities,
    OrderCallback,
    PackageTest,
    ParsedWebhook,
    Push,
    Report,
    VendorPackage,
    WebhookUnreadable,
)

NAME = "hackerrank"
PEER = "HackerRank"
DEFAULT_BASE_URL = "https://www.hackerrank.com"
API_PATH = "/x/api/v3"
REQUESTS_PER_SECOND = 10
PAGE_SIZE = 100  # the API's maximum

INVITED, REPORT_READY = -1, 7
# Opt-in fields of a test that a result needs: the schema marks `cutoff_score` "additional", and
# `additional_fields` lists it with `max_score` and `cutoff_score_percentage`.
TEST_RESULT_FIELDS = "max_score,cutoff_score,cutoff_score_percentage"
# What a resent invite carries again, as HackerRank shows it: the settings our invitation set.
_RESENT_SETTINGS = (
    "full_name",
    "invite_metadata",
    "invite_valid_to",
    "test_finish_url",
    "accept_result_updates",
)


def from_account(
    settings: Settings, credentials: dict, shared_limits: SharedLimits | None = None
) -> HackerRankVendor:
    """Credentials: `api_key` (required) and `base_url` (default https://www.hackerrank.com)."""
    return HackerRankVendor(
        api_key=credentials["api_key"],
        base_url=credentials.get("base_url") or DEFAULT_BASE_URL,
        timeout_seconds=settings.vendor_timeout_seconds,
        shared_limits=shared_limits,
    )


def _wait_hint(response: httpx.Response) -> float | None:
    """Retry-After when sent; else, for a 429, the seconds until the rate window resets."""
    hint = retry_after_header(response)
    if hint is None and response.status_code == 429:
        hint = retry_after_seconds(response.headers.get("X-RateLimit-Reset"))
    return hint


def _parse_ref(ref: str) -> tuple[str, str]:
    test_id, sep, candidate_id = ref.partition(":")
    if not sep or not test_id or not candidate_id:
        raise PeerError(PEER, "malformed vendor reference", retryable=False)
    return test_id, candidate_id


def _time(value: Any) -> datetime | None:
    """A time HackerRank sent; None when absent or unreadable (never a failed order)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _metadata(candidate: Mapping[str, Any]) -> dict[str, Any]:
    metadata = candidate.get("invite_metadata") or {}
    if isinstance(metadata, str):  # tolerated: metadata echoed back as a JSON string
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    return metadata if isinstance(metadata, dict) else {}


def _reference(metadata: Mapping[str, Any]) -> str:
    """The order reference an invitation's metadata names (invitations made before references
    named the company carry the order id alone, which was their reference)."""
    return str(metadata.get("reference") or metadata.get("order_id") or "")


def _webhook_settings(callback: OrderCallback) -> dict[str, Any]:
    """Where HackerRank pushes the order's results, with the bearer token it shows."""
    return {
        "test_result_url": callback.url,
        "webhook_authentication": {"type": "bearer_token", "data": {"token": callback.token}},
    }


def _absolute(link: str) -> str:
    """Candidate links are sometimes shown without a scheme ("hackerrank.com/test/…")."""
    return link if "://" in link else f"https://{link}"


def _attempted(candidate: Mapping[str, Any]) -> bool:
    """The candidate began the test: a start or end time, or a finished report (status 7)."""
    return (
        bool(candidate.get("attempt_starttime") or candidate.get("attempt_endtime"))
        or candidate.get("status") == REPORT_READY
    )


def _incomplete(row: Mapping[str, Any]) -> bool:
    """A search row that cannot tell whose invite it is, or whether it was attempted."""
    return "invite_metadata" not in row or not any(
        key in row for key in ("attempt_starttime", "attempt_endtime", "status")
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class HackerRankVendor:
    name = NAME
    capabilities = Capabilities(
        push=Push.PER_ORDER_URL,
        push_auth="bearer_we_choose",
        idempotency="natural_key_conflict_then_lookup",
        cancel=True,
        # We ask for accept_result_updates, so a completed score may be revised and pushed again.
        results_revisable=True,
        rate_limit="10 requests/s",
        resend=True,
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout_seconds: float,
        requests_per_second: float = REQUESTS_PER_SECOND,
        shared_limits: SharedLimits | None = None,
    ) -> None:
        # Basic auth: the API key as user name, an empty password. Only this client carries it.
        self._http = peer_client(
            base_url=base_url.rstrip("/") + API_PATH,
            auth=httpx.BasicAuth(api_key, ""),
            timeout=timeout_seconds,
        )
        # PDF links point at signed storage URLs: fetched without our credentials.
        self._downloads = peer_client(timeout=timeout_seconds, follow_redirects=True)
        self._pace = AccountPace(PEER, api_key, requests_per_second, 1, shared_limits)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._downloads.aclose()

    async def _call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
    ) -> httpx.Response:
        await self._pace.turn(action)
        request = self._http.build_request(method, path, params=params, json=body)
        return await send(PEER, action, self._http, request, wait_hint=_wait_hint)

    async def _json(self, action: str, path: str, params: dict | None = None) -> Any:
        response = await self._call(action, "GET", path, params=params)
        try:
            return response.json()
        except ValueError as err:
            raise PeerError(PEER, f"{action} answer is not JSON") from err

    async def _pages(self, action: str, path: str, params: dict | None = None) -> list[Any]:
        """Every item of a paged list: offsets advance until `next` is empty. Items are as the
        vendor sent them: callers check their shape."""
        items: list[Any] = []
        while True:
            page = await self._json(
                action, path, {**(params or {}), "limit": PAGE_SIZE, "offset": len(items)}
            )
            try:
                data = list(page["data"])
            except (KeyError, TypeError) as err:
                raise PeerError(PEER, f"{action} is not in the expected shape") from err
            items.extend(data)
            if not data or not page.get("next"):
                return items

    # Catalog

    async def list_packages(self) -> list[VendorPackage]:
        tests = await self._pages("test list", "/tests")
        try:
            return [
                self._package(test)
                for test in tests
                if not test.get("draft") and test.get("state") != "archived"
            ]
        except (KeyError, TypeError) as err:
            raise PeerError(PEER, "test list is not in the expected shape") from err

    @staticmethod
    def _package(test: Mapping[str, Any]) -> VendorPackage:
        test_id, name = str(test["id"]), str(test["name"])
        details = [f"{test['duration']} minutes"] if test.get("duration") else []
        details += [str(tag) for tag in test.get("tags") or []]
        description = f"HackerRank test ({', '.join(details)})" if details else "HackerRank test"
        return VendorPackage(
            id=test_id,
            name=name,
            description=description,
            type=AssessmentType.SKILL_TEST,
            tests=(PackageTest(id=test_id, name=name, description=description),),
        )

    # Ordering

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        test_id = order.package_id
        path = f"/tests/{quote(test_id, safe='')}/candidates"
        body = self._invite_body(order, callback)
        try:
            response = await self._call("invitation", "POST", path, body=body)
        except PeerError as conflict:
            if conflict.status != 422:
                raise
            candidates = await self._candidates_with_email(test_id, order.candidate.email)
            ours = [c for c in candidates if _reference(_metadata(c)) == order.reference]
            if ours:  # our own earlier invite: never a second email
                return self._invitation(
                    test_id,
                    ours[-1]["id"],
                    ours[-1].get("invite_link") or ours[-1].get("test_link") or "",
                )
            if not candidates:  # not a duplicate: a draft test, or something else refused
                raise
            if not all(_attempted(c) for c in candidates):
                # Another order's invitation is still the candidate's (one open row is enough,
                # whatever older attempts sit beside it): `force` or a reattempt would re-send
                # and take over that invitation (its result would go to this order), so refuse.
                raise PeerError(
                    PEER,
                    "the candidate already holds another order's invitation to this test",
                    status=422,
                    retryable=False,
                ) from None
            # The address took this test for another order: a reattempt is a new test candidate.
            response = await self._call(
                "invitation", "POST", path, body={**body, "force_reattempt": True}
            )
        try:
            invited = response.json()
            return self._invitation(test_id, invited["id"], invited["test_link"])
        except (ValueError, KeyError, TypeError) as err:
            raise PeerError(PEER, "invitation answer is not in the expected shape") from err

    @staticmethod
    def _invite_body(order: Order, callback: OrderCallback) -> dict[str, Any]:
        received = (
            order.received_at if order.received_at.tzinfo else order.received_at.replace(tzinfo=UTC)
        )
        body: dict[str, Any] = {
            "email": order.candidate.email,
            "full_name": f"{order.candidate.first_name} {order.candidate.last_name}".strip(),
            "invite_metadata": {"order_id": order.order_id, "reference": order.reference},
            "invite_valid_to": (received + timedelta(days=order.deadline_days)).isoformat(
                timespec="seconds"
            ),
            **_webhook_settings(callback),
            "accept_result_updates": True,
            # The description says invite emails go out only when asked for
            # (its schema default disagrees).
            "send_email": True,
        }
        if order.return_url:
            body["test_finish_url"] = order.return_url
        return body

    async def _candidates_with_email(self, test_id: str, email: str) -> list[dict[str, Any]]:
        """The test's candidates with exactly this address (search matches names and parts of
        addresses).

        What a search row carries is not published: a row without the invite's metadata or any
        sign of the attempt is read again in full, so our own invite is never taken for another's.
        """
        found = await self._pages(
            "candidate search",
            f"/tests/{quote(test_id, safe='')}/candidates/search",
            {"search": email},
        )
        rows = [
            c
            for c in found
            if isinstance(c, dict) and str(c.get("email", "")).lower() == email.lower()
        ]
        return [await self._in_full(test_id, row) if _incomplete(row) else row for row in rows]

    async def _in_full(self, test_id: str, row: dict[str, Any]) -> dict[str, Any]:
        if row.get("id") is None:
            return row
        try:
            shown = await self._json(
                "candidate search", self._candidate_path(f"{test_id}:{row['id']}")
            )
        except PeerError as err:
            if (
                err.status != 404
            ):  # gone since the search (a cancelled invite): the row is all there is
                raise
            return row
        return {**row, **shown} if isinstance(shown, dict) else row

    @staticmethod
    def _invitation(test_id: str, candidate_id: Any, link: str) -> Invitation:
        return Invitation(
            vendor_ref=f"{test_id}:{candidate_id}",
            test_url=_absolute(str(link)),
            results_revisable=True,
        )

    # Status and results

    def _candidate_path(self, ref: str, suffix: str = "") -> str:
        test_id, candidate_id = _parse_ref(ref)
        return f"/tests/{quote(test_id, safe='')}/candidates/{quote(candidate_id, safe='')}{suffix}"

    async def get_status(self, ref: str) -> StatusReading:
        # A 404 is raised, never read as cancelled: HackerRank documents no cancelled state, and
        # an unknown candidate may mean lost records or another account's key.
        candidate = await self._json("status", self._candidate_path(ref))
        status = self._status(candidate)
        revision = f"{candidate.get('score')}" if status == VendorStatus.COMPLETED else None
        return StatusReading(status=status, revision=revision)

    @staticmethod
    def _status(candidate: Mapping[str, Any]) -> VendorStatus:
        """7 is "completed and report generated";
        the rest is read from the attempt and the invite."""
        code = candidate.get("status")
        if code == REPORT_READY:
            return VendorStatus.COMPLETED
        if candidate.get("attempt_endtime"):
            return VendorStatus.PROCESSING
        if candidate.get("attempt_starttime"):
            return VendorStatus.STARTED
        valid_to = _time(candidate.get("invite_valid_to"))
        if candidate.get("invite_valid") is False or (
            valid_to is not None and valid_to <= datetime.now(UTC)
        ):
            return VendorStatus.EXPIRED
        if code == INVITED:
            return VendorStatus.INVITED
        return VendorStatus.UNKNOWN

    async def get_result(self, ref: str) -> VendorResult:
        test_id, _ = _parse_ref(ref)
        candidate = await self._json("result", self._candidate_path(ref))
        # All three are opt-in: a test shows them only when they are named.
        test = await self._json(
            "test", f"/tests/{quote(test_id, safe='')}", {"additional_fields": TEST_RESULT_FIELDS}
        )
        try:
            return self._result(candidate, test)
        except (KeyError, TypeError, ValueError) as err:
            raise PeerError(PEER, "result is not in the expected shape") from err

    @staticmethod
    def _result(candidate: Mapping[str, Any], test: Mapping[str, Any]) -> VendorResult:
        score, max_score, cutoff = (
            _number(candidate.get("score")),
            _number(test.get("max_score")),
            _number(test.get("cutoff_score")),
        )
        percentage = _number(candidate.get("percentage_score"))
        if percentage is None and score is not None and max_score:
            percentage = 100 * score / max_score
        outcome = (
            None if cutoff is None or score is None else "passed" if score >= cutoff else "failed"
        )
        cutoff_share = _number(test.get("cutoff_score_percentage"))
        if outcome is None and cutoff_share is not None and percentage is not None:
            # Our assumption: a cutoff set as a share of the maximum, where no score is given.
            outcome = "passed" if percentage >= cutoff_share else "failed"
        summary = []
        if score is not None:
            out_of = f" of {max_score:g}" if max_score else ""
            share = f" ({percentage:.0f}%)" if percentage is not None else ""
            summary.append(f"Scored {score:g}{out_of}{share}.")
        if outcome is not None:
            threshold = f"score of {cutoff:g}" if cutoff is not None else f"of {cutoff_share:g}%"
            summary.append(
                f"{'Reached' if outcome == 'passed' else 'Below'} the cutoff {threshold}."
            )
        if candidate.get("integrity_status"):
            summary.append(f"Integrity: {candidate['integrity_status']}.")
        skills = candidate.get("scores_skills_split") or {}
        return VendorResult(
            score=score,
            max_score=max_score,
            outcome=outcome,
            summary=" ".join(summary) or "Completed at HackerRank.",
            submitted_at=_time(candidate.get("attempt_endtime")),
            # Skill scores read as percentages (the published example: 100 and 0).
            tests=[
                PackageTestResult(
                    test_id=f"skill:{name}", name=str(name), score=_number(value), max_score=100.0
                )
                for name, value in skills.items()
                if _number(value) is not None
            ],
            report_url=candidate.get("authenticated_report_url") or candidate.get("report_url"),
        )

    async def download_report(self, ref: str) -> Report | None:
        """Ask for a PDF link (503 = not generated yet:
        retry later), then fetch it at once: it expires."""
        try:
            response = await self._call(
                "report link", "GET", self._candidate_path(ref, "/pdf"), params={"format": "url"}
            )
        except PeerError as err:
            if err.status == 503:
                raise PeerError(
                    PEER,
                    "report PDF is not ready yet",
                    status=503,
                    retryable=True,
                    retry_after=err.retry_after,
                ) from err
            raise
        link = self._pdf_link(response)
        try:
            download = await send(
                PEER,
                "report download",
                self._downloads,
                self._downloads.build_request("GET", urljoin(str(self._http.base_url), link)),
            )
        except PeerError as err:
            # An expired or refused link: the next attempt asks for a fresh one.
            raise PeerError(
                PEER, "report download failed", status=err.status, retryable=True
            ) from err
        if not download.content.startswith(b"%PDF"):
            raise PeerError(PEER, "report download is not a PDF")
        test_id, candidate_id = _parse_ref(ref)
        return Report(
            filename=f"hackerrank-report-{test_id}-{candidate_id}.pdf", content=download.content
        )

    @staticmethod
    def _pdf_link(response: httpx.Response) -> str:
        """The link as plain text (what consumers observe), or tolerated:
        JSON with `url` or `pdf_url`."""
        text = response.text.strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        if isinstance(parsed, dict):
            parsed = parsed.get("url") or parsed.get("pdf_url")
        if not isinstance(parsed, str) or not parsed.strip():
            raise PeerError(PEER, "report link answer is not a URL")
        return parsed.strip()

    async def abandon_invitation(self, order_reference: str) -> None:
        """Nothing to tidy: every try of the invitation came to the same one, and withdrawing
        it needs the id the vendor never gave us."""

    async def cancel_invitation(self, ref: str) -> None:
        try:
            await self._call("cancellation", "DELETE", self._candidate_path(ref, "/invite"))
        except PeerError as err:
            # 404: already cancelled; 422: already attempted, nothing left to cancel.
            if err.status not in (404, 422):
                raise

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        test_id, candidate_id = _parse_ref(ref)
        try:
            candidate = await self._json("invitation resend", self._candidate_path(ref))
        except PeerError as err:
            if err.status == 404:
                raise PeerError(
                    PEER,
                    "invitation resend refused: the invite was cancelled",
                    status=404,
                    retryable=False,
                ) from err
            raise
        status = self._status(candidate)
        if status != VendorStatus.INVITED:
            raise PeerError(
                PEER,
                "invitation resend refused: the invite is no longer open (it reads "
                f"{status.value})",
                status=409,
                retryable=False,
            )
        body = {key: candidate[key] for key in _RESENT_SETTINGS if candidate.get(key) is not None}
        body |= {
            "email": candidate.get("email"),
            **_webhook_settings(callback),
            "send_email": True,
            "force": True,
        }
        response = await self._call(
            "invitation resend", "POST", f"/tests/{quote(test_id, safe='')}/candidates", body=body
        )
        try:
            resent_to = str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as err:
            # Not retried: HackerRank has sent the email; another try would send another.
            raise PeerError(
                PEER, "invitation resend answer is not in the expected shape", retryable=False
            ) from err
        if resent_to != candidate_id:
            raise PeerError(
                PEER,
                "invitation resend went to another test candidate than the order's",
                retryable=False,
            )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        raise WebhookUnreadable(
            "HackerRank pushes to per-order URLs; the order webhook route handles them"
        )
