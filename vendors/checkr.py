"""Adapter for Checkr background checks via invitations (docs/vendors.md "Checkr").

An order becomes a Checkr candidate (custom_id = our order id) and an invitation to that
candidate for the order's package; Checkr emails the candidate, who fills in the form, and the
report starts. The reference is "<candidate id>:<invitation id>".

Credentials of a vendor account:
- ``api_key`` (required): HTTP Basic user name for the API; it is also the key Checkr signs
  webhooks with;
- ``base_url`` (optional): ``https://api.checkr.com`` (staging: ``https://api.checkr-staging.com``);
- ``work_location`` (optional), e.g. ``{"country": "US", "state": "CA", "city": "..."}``: orders
  from SmartRecruiters carry no work location, so it is a setting of the account. Checkr
  requires it (with a state for US candidates) for hierarchy-enabled accounts, and its help
  centre says it will be required for all; without it none is sent;
- ``node`` (optional): the ``custom_id`` of the hierarchy node the account's checks are ordered
  for; Checkr requires it, with a work location, once any node exists on the account.

Webhooks are account-level (Push.ACCOUNT_URL): register
``{public_url}/webhooks/checkr/accounts/{account_id}`` at Checkr. Checkr signs no timestamp, so
there is no replay window: a replayed event is recognised by its event id in the workflow, and
every event is only a hint to read the invitation and report again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from orders.models import (
    Invitation,
    Order,
    PackageTestResult,
    StatusReading,
    VendorEvent,
    VendorResult,
    VendorStatus,
)
from peers import (
    PeerError,
    Refusal,
    peer_client,
    retry_after_header,
    send,
)
from settings import Settings
from smartrecruiters.models import AssessmentType
from store.limits import SharedLimits
from vendors.base import (
    AccountPace,
    Capabilities,
    CredentialsUnusable,
    OrderCallback,
    PackageTest,
    ParsedWebhook,
    Push,
    Report,
    VendorPackage,
    WebhookRejected,
    WebhookUnreadable,
)

NAME = "checkr"
PEER = "Checkr"
DEFAULT_BASE_URL = "https://api.checkr.com"
SIGNATURE_HEADER = "x-checkr-signature"
# Checkr allows 1200 requests a minute per account; stay below it.
REQUESTS_PER_MINUTE = 1000
# Idempotency keys are derived from the order id, so a retried activity repeats the same POST.
_KEY_NAMESPACE = uuid.UUID("8a4f3c2e-5b7d-4e1a-9c6f-2d8b0e7a1c53")
# Checkr forgets an Idempotency-Key after 24 h. An invitation of an order received longer ago than
# this (an outage of a day) may have been created by an attempt whose answer never came back, so
# the candidate and invitation are looked up by the order's reference before anything is posted.
KEYS_TRUSTED_FOR = timedelta(hours=20)

_INVITATION_STATUSES: dict[str | None, VendorStatus] = {
    "pending": VendorStatus.INVITED,
    "expired": VendorStatus.EXPIRED,
}
_REPORT_STATUSES: dict[str | None, VendorStatus] = {
    "pending": VendorStatus.PROCESSING,
    "suspended": VendorStatus.ON_HOLD,  # waiting for the candidate's documents
    "paused": VendorStatus.ON_HOLD,  # waiting for a review action (newer Checkr docs)
    "dispute": VendorStatus.ON_HOLD,  # the candidate disputed a completed report
    "complete": VendorStatus.COMPLETED,
    "canceled": VendorStatus.CANCELLED,
}
# Screening types with the label a recruiter reads; the report embeds them (?include=) by
# type, or by the plural for the screenings it runs per county or state.
_SCREENINGS = {
    "ssn_trace": "SSN trace",
    "sex_offender_search": "Sex offender search",
    "global_watchlist_search": "Global watchlist search",
    "national_criminal_search": "National criminal search",
    "federal_criminal_search": "Federal criminal search",
    "county_criminal_search": "County criminal search",
    "state_criminal_search": "State criminal search",
    "motor_vehicle_report": "Motor vehicle report",
}
_EMBEDDED_AS = {
    "county_criminal_search": "county_criminal_searches",
    "state_criminal_search": "state_criminal_searches",
}
MAX_PAGES = 50
_ASSESSMENTS = {"eligible": "eligible", "review": "needs review", "escalated": "escalated"}
# Checkr's "Supported characters" in names (its API reference gives the ranges as a regex).
_NAME_CHARACTERS = re.compile(r"[a-zA-Z0-9ªµºÀ-ÖØ-öø-ÿ\-'., ]+")


def from_account(
    settings: Settings, credentials: dict, shared_limits: SharedLimits | None = None
) -> CheckrVendor:
    node = credentials.get("node")
    if node is not None and (not isinstance(node, str) or not node.strip()):
        raise CredentialsUnusable("node must be the custom_id of a node of the account's hierarchy")
    work_location = credentials.get("work_location")
    if work_location is not None:
        _check_work_location(work_location)
    elif node is not None:
        raise CredentialsUnusable(
            "node needs a work_location too: Checkr requires both for accounts with a hierarchy"
        )
    return CheckrVendor(
        api_key=credentials["api_key"],
        base_url=credentials.get("base_url", DEFAULT_BASE_URL),
        work_location=work_location,
        node=node,
        timeout_seconds=settings.vendor_timeout_seconds,
        shared_limits=shared_limits,
    )


def _check_work_location(location: Any) -> None:
    """Checkr's WorkLocation: an ISO-3166 alpha-2 country (US when absent), a state required for
    US candidates, an optional city of at most 255 characters."""
    if not isinstance(location, dict) or set(location) - {"country", "state", "city"}:
        raise CredentialsUnusable("work_location must be an object with country, state and city")
    if not all(isinstance(value, str) for value in location.values()):
        raise CredentialsUnusable("work_location's country, state and city must be text")
    country = location.get("country", "US")
    if len(country) != 2 or not country.isalpha():
        raise CredentialsUnusable("work_location.country must be a two-letter ISO-3166 code")
    if country.upper() == "US" and not location.get("state"):
        raise CredentialsUnusable("work_location.state is required for US work locations")
    if len(location.get("city", "")) > 255:
        raise CredentialsUnusable("work_location.city must be at most 255 characters")


def reset_wait(response: httpx.Response) -> float | None:
    """Seconds until Checkr's X-Ratelimit-Reset (an ISO timestamp); else Retry-After."""
    try:
        reset = datetime.fromisoformat(response.headers.get("x-ratelimit-reset", "").strip())
    except ValueError:
        return retry_after_header(response)
    if reset.tzinfo is None:
        reset = reset.replace(tzinfo=UTC)
    # At least a second: a reset already past (clock skew) must not turn into a retry storm.
    return max(1.0, (reset - datetime.now(UTC)).total_seconds())


def _label(kind: str) -> str:
    return _SCREENINGS.get(kind) or kind.replace("_", " ").capitalize()


def _id(body: dict[str, Any]) -> str:
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise PeerError(PEER, f"answer has no {body.get('object') or 'object'} id")
    return body["id"]


def _listed(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _split(ref: str) -> tuple[str, str]:
    candidate_id, _, invitation_id = ref.partition(":")
    if not candidate_id or not invitation_id:
        raise PeerError(PEER, "not a Checkr reference", retryable=False)
    return candidate_id, invitation_id


class CheckrVendor:
    name = NAME
    capabilities = Capabilities(
        push=Push.ACCOUNT_URL,
        push_auth="hmac_body",
        idempotency="idempotency_key_header",
        cancel=True,
        results_revisable=True,
        vendor_expiry=timedelta(days=7),
        rate_limit="1200 requests/min",
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        work_location: dict[str, str] | None = None,
        node: str | None = None,
        timeout_seconds: float = 10.0,
        requests_per_minute: int = REQUESTS_PER_MINUTE,
        transport: httpx.AsyncBaseTransport | None = None,
        shared_limits: SharedLimits | None = None,
    ) -> None:
        # No credentials on the client itself: document links point elsewhere (pre-signed).
        self._http = peer_client(
            base_url=base_url.rstrip("/"), timeout=timeout_seconds, transport=transport
        )
        self._authorization = (
            "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
        )  # empty password
        self._signing_key = api_key.encode()
        self._work_location = work_location
        self._node = node
        self._pace = AccountPace(PEER, api_key, requests_per_minute, 60, shared_limits)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self, action: str, method: str, path: str, refusal: Refusal | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        request = self._http.build_request(method, path, **kwargs)
        request.headers["Authorization"] = self._authorization
        await self._pace.turn(action)
        response = await send(
            PEER, action, self._http, request, wait_hint=reset_wait, refusal=refusal
        )
        try:
            body = response.json()
        except ValueError as err:
            raise PeerError(PEER, f"{action} answer is not JSON") from err
        if not isinstance(body, dict):
            raise PeerError(PEER, f"{action} answer is not in the expected shape")
        return body

    # Packages

    async def list_packages(self) -> list[VendorPackage]:
        packages: list[VendorPackage] = []
        for page in range(1, MAX_PAGES + 1):
            body = await self._call(
                "package list", "GET", "/v1/packages", params={"page": page, "per_page": 100}
            )
            data = body.get("data") or []
            try:
                packages += [self._package(p) for p in data]
            except (KeyError, TypeError, AttributeError) as err:
                raise PeerError(PEER, "package list is not in the expected shape") from err
            if not data or not body.get("next_href"):
                break
        return packages

    @staticmethod
    def _package(package: dict) -> VendorPackage:
        kinds = [s["type"] for s in package.get("screenings") or [] if s.get("type")]
        tests = tuple(
            PackageTest(id=kind, name=_label(kind), description=_label(kind)) for kind in kinds
        )
        screenings = ", ".join(t.name for t in tests) or "as configured at Checkr"
        return VendorPackage(
            id=package["slug"],
            name=package.get("name") or package["slug"],
            description=f"Checkr background check: {screenings}",
            type=AssessmentType.BACKGROUND_CHECK,
            tests=tests,
        )

    # Ordering

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        """Candidate, then invitation, each POST with a key derived from the order id: a retry
        within Checkr's 24 h key lifetime gets the first answers back, not a second email."""
        candidate = {"email": order.candidate.email, "custom_id": order.reference}
        # The email is all an invitation needs: the candidate gives their name in Checkr's form.
        # A name Checkr would refuse is left for them to give, rather than failing the order.
        if _name_accepted(order.candidate.first_name, least=1):
            candidate["first_name"] = order.candidate.first_name
        if _name_accepted(order.candidate.last_name, least=2):
            candidate["last_name"] = order.candidate.last_name
        keys_forgotten = datetime.now(UTC) - order.received_at > KEYS_TRUSTED_FOR
        candidate_id = await self._earlier_candidate(order.reference) if keys_forgotten else None
        if candidate_id is None:
            candidate_id = _id(
                await self._post("candidate", "/v1/candidates", candidate, order.reference)
            )
        created = (
            await self._earlier_invitation(candidate_id, order.package_id)
            if keys_forgotten
            else None
        )
        if created is None:
            invitation: dict[str, Any] = {
                "candidate_id": candidate_id,
                "package": order.package_id,
            }
            if self._node:
                invitation["node"] = self._node
            if self._work_location:
                invitation["work_locations"] = [self._work_location]
            created = await self._post(
                "invitation",
                "/v1/invitations",
                invitation,
                order.reference,
                refusal=self._invitation_refusal,
            )
        if not isinstance(created.get("invitation_url"), str):
            raise PeerError(PEER, "invitation answer has no invitation_url")
        invitation_id = _id(created)
        return Invitation(
            vendor_ref=f"{candidate_id}:{invitation_id}",
            test_url=created["invitation_url"],
            # Invitation events name the invitation, report events only the candidate.
            webhook_keys=[candidate_id, invitation_id],
            results_revisable=True,
        )

    async def _earlier_candidate(self, reference: str) -> str | None:
        """The candidate an earlier attempt created for the order (its custom_id), if any."""
        listed = await self._call(
            "candidate lookup", "GET", "/v1/candidates", params={"custom_id": reference}
        )
        return next(
            (
                _id(candidate)
                for candidate in _listed(listed)
                if candidate.get("custom_id") == reference
            ),
            None,
        )

    async def _earlier_invitation(self, candidate_id: str, package: str) -> dict[str, Any] | None:
        """The invitation an earlier attempt sent the candidate for the package, if any."""
        listed = await self._call(
            "invitation lookup", "GET", "/v1/invitations", params={"candidate_id": candidate_id}
        )
        return next(
            (
                invitation
                for invitation in _listed(listed)
                if invitation.get("package") == package
                and invitation.get("candidate_id") == candidate_id
            ),
            None,
        )

    async def _post(
        self,
        action: str,
        path: str,
        body: dict[str, Any],
        reference: str,
        refusal: Refusal | None = None,
    ) -> dict[str, Any]:
        key = uuid.uuid5(_KEY_NAMESPACE, f"{action}:{reference}")
        return await self._call(
            action, "POST", path, refusal, json=body, headers={"Idempotency-Key": str(key)}
        )

    def _invitation_refusal(self, response: httpx.Response) -> str | None:
        """What the operator can change when Checkr refuses an invitation: the account's node and
        work location, which hierarchy-enabled accounts need on every invitation."""
        if response.status_code != 400:
            return None
        missing = [
            name
            for name, value in (("node", self._node), ("work_location", self._work_location))
            if not value
        ]
        # Only a refusal that speaks of them: another 400 (a package, an email) is not theirs.
        said = response.text.lower()
        if not missing or not any(
            word in said for word in ("node", "work_location", "work location", "hierarchy")
        ):
            return None
        return (
            "an account with a hierarchy needs a node and a work location on every invitation: "
            f"set {' and '.join(missing)} in the vendor account's credentials"
        )

    async def abandon_invitation(self, order_reference: str) -> None:
        """Nothing to tidy: every try of the invitation came to the same one, and withdrawing
        it needs the id the vendor never gave us."""

    async def cancel_invitation(self, ref: str) -> None:
        """Delete the invitation while the candidate has not submitted it.

        Once submitted, the report runs at Checkr and its API offers no cancel: nothing is done
        here; the customer can cancel the report in Checkr's dashboard.
        """
        _, invitation_id = _split(ref)
        invitation = await self._invitation(invitation_id)
        if invitation.get("status") != "pending" or invitation.get("deleted_at"):
            return
        try:
            await self._call("cancellation", "DELETE", f"/v1/invitations/{invitation_id}")
        except PeerError as err:
            if err.status != 400:  # 400: completed or expired meanwhile, nothing left to cancel
                raise

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        """Checkr's API sends no invitation again (`capabilities.resend` is off): refused."""
        raise PeerError(PEER, "invitations are not sent again", retryable=False)

    # Status and results

    async def _invitation(self, invitation_id: str) -> dict[str, Any]:
        return await self._call(
            "invitation status",
            "GET",
            f"/v1/invitations/{invitation_id}",
            params={"include_deleted": "true"},
        )

    async def _report(self, ref: str, include: str | None = None) -> dict[str, Any] | None:
        invitation = await self._invitation(_split(ref)[1])
        report_id = invitation.get("report_id")
        if not report_id:
            return None
        params = {"include": include} if include else None
        return await self._call("report", "GET", f"/v1/reports/{report_id}", params=params)

    async def get_status(self, ref: str) -> StatusReading:
        invitation = await self._invitation(_split(ref)[1])
        if invitation.get("deleted_at"):
            return StatusReading(status=VendorStatus.CANCELLED)
        status = invitation.get("status")
        if status != "completed":
            return StatusReading(status=_INVITATION_STATUSES.get(status, VendorStatus.UNKNOWN))
        if not invitation.get("report_id"):
            return StatusReading(
                status=VendorStatus.PROCESSING
            )  # submitted, report not created yet
        report = await self._call("report status", "GET", f"/v1/reports/{invitation['report_id']}")
        reading = _REPORT_STATUSES.get(report.get("status"), VendorStatus.UNKNOWN)
        revision = _revision(report) if reading == VendorStatus.COMPLETED else None
        return StatusReading(status=reading, revision=revision)

    async def get_result(self, ref: str) -> VendorResult:
        report = await self._report(
            ref, include=",".join(_EMBEDDED_AS.get(kind, kind) for kind in _SCREENINGS)
        )
        if report is None:
            raise PeerError(PEER, "the invitation has no report yet")
        result, assessment = report.get("result"), report.get("assessment")
        if result == "clear":
            summary = "Background check complete: clear."
        elif result == "consider":
            summary = (
                "Background check complete: consider — review the report at Checkr before deciding."
            )
        else:
            summary = (
                "Background check complete without an overall result — review the report at Checkr."
            )
        if assessment in _ASSESSMENTS:
            summary += f" Checkr assessment: {_ASSESSMENTS[assessment]}."
        if report.get("includes_canceled"):
            summary += " Some screenings were canceled."
        return VendorResult(
            outcome=result,
            summary=summary,
            submitted_at=report.get("completed_at"),
            tests=_screening_results(report),
        )

    async def download_report(self, ref: str) -> Report | None:
        """The PDF report, fetched at once: Checkr's download link is valid for 15 minutes."""
        report = await self._report(ref, include="documents")
        if report is None:
            return None
        documents = _items(report.get("documents"))
        pdf = next(
            (d for d in documents if d.get("type") == "pdf_report" and d.get("download_uri")), None
        )
        if pdf is None:
            return None
        # A pre-signed link: sent without our credentials.
        try:
            response = await send(
                PEER,
                "report download",
                self._http,
                self._http.build_request("GET", pdf["download_uri"]),
            )
        except PeerError as err:
            if err.status in (403, 410):  # the link expired on the way: a new read gives a new link
                raise PeerError(
                    PEER, "report link expired before the download", status=err.status
                ) from err
            raise
        filename = pdf.get("filename") or f"checkr-report-{report['id']}.pdf"
        return Report(
            filename=filename,
            content=response.content,
            content_type=pdf.get("content_type") or "application/pdf",
        )

    # Webhooks

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        expected = hmac.new(self._signing_key, raw_body, hashlib.sha256).hexdigest().encode()
        # Bytes, compared in constant time; a non-ASCII header cannot match and must not raise.
        if not hmac.compare_digest(expected, signature.strip().lower().encode("utf-8", "replace")):
            raise WebhookRejected("X-Checkr-Signature mismatch")
        try:
            event = json.loads(raw_body)
            obj = event["data"]["object"]
            vendor_event = VendorEvent(event_id=str(event["id"]), kind=str(event["type"]))
        except (ValueError, KeyError, TypeError) as err:
            raise WebhookUnreadable("not a Checkr event") from err
        if not isinstance(obj, dict):
            raise WebhookUnreadable("not a Checkr event")
        if _older_than_delivery_window(event.get("created_at")):
            # Checkr signs no timestamp; it stops retrying after about 24 h, so anything older
            # is a replay of a captured event, refused before it costs the order any history.
            raise WebhookRejected("event older than Checkr's delivery window: a replay")
        # Reports (and most objects) name their candidate; invitations and candidates are keys too.
        key = obj.get("candidate_id") or (
            obj.get("id") if obj.get("object") in ("candidate", "invitation") else None
        )
        if key:
            return [ParsedWebhook(event=vendor_event, webhook_key=str(key))]
        if obj.get("object") == "report" and isinstance(obj.get("id"), str) and obj["id"]:
            # A webhook with include_object off names only the report: its candidate is read.
            report_id = obj["id"]

            async def candidate_of_report() -> str | None:
                report = await self._call(
                    "report of a webhook", "GET", f"/v1/reports/{quote(report_id, safe='')}"
                )
                return str(report["candidate_id"]) if report.get("candidate_id") else None

            return [ParsedWebhook(event=vendor_event, resolve_key=candidate_of_report)]
        return []


# Checkr retries a failed delivery every minute for 10 minutes, then hourly for 24 hours.
DELIVERY_WINDOW = timedelta(hours=25)


def _older_than_delivery_window(created_at: Any) -> bool:
    try:
        created = datetime.fromisoformat(str(created_at))
    except ValueError:
        return False  # no readable time: the workflow's deduplication by event id still holds
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return datetime.now(UTC) - created > DELIVERY_WINDOW


def _revision(report: dict[str, Any]) -> str | None:
    """The report's last completion or revision: a dispute re-completes it with a later
    `completed_at`, a later `revised_at`, or both (the spec has both, and says not which)."""
    marks = []
    for name in ("completed_at", "revised_at"):
        try:
            marks.append((datetime.fromisoformat(str(report.get(name))), report[name]))
        except ValueError:
            continue
    try:
        return max(marks)[1] if marks else None
    except TypeError:  # one with a zone, one without: not comparable; the completion then
        return report.get("completed_at")


def _items(value: Any) -> list[dict[str, Any]]:
    """An embedded list as Checkr shows it: a bare array (the OpenAPI export), a list object
    `{object: list, data: [...]}` (the official SDK's samples), or one object; only objects kept."""
    if isinstance(value, dict) and value.get("object") == "list":
        value = value.get("data")
    return [
        item for item in (value if isinstance(value, list) else [value]) if isinstance(item, dict)
    ]


def _name_accepted(name: str, least: int) -> bool:
    """Whether Checkr accepts the name: its "Supported characters", `least` of them at least."""
    return len(name) >= least and _NAME_CHARACTERS.fullmatch(name) is not None


def _screening_results(report: dict[str, Any]) -> list[PackageTestResult]:
    """One line per screening type: its status and result, never its data (SSN, records).

    Several county searches read as one: "consider" if any found something.
    """
    results = []
    for kind, label in _SCREENINGS.items():
        screenings = _items(report.get(_EMBEDDED_AS.get(kind, kind)))
        # A screening shown by its id alone (the SDK's samples) says nothing yet.
        outcomes = [
            o
            for o in (s.get("result") or s.get("status") for s in screenings)
            if isinstance(o, str)
        ]
        if not outcomes:
            continue
        outcome = (
            "consider"
            if "consider" in outcomes
            else next((o for o in outcomes if o != "clear"), "clear")
        )
        results.append(
            PackageTestResult(
                test_id=kind, name=label, outcome=outcome, summary=f"{label}: {outcome}."
            )
        )
    return results
