"""The simulated SmartRecruiters: its OAuth server, the companies' candidates, the orders they
placed with the partner, their results, and the companies' Connect state (`companies`).

Every read-modify-write below runs without an `await` in between, so on the single event loop
it cannot interleave with another request (the partner may PATCH a result while SR is still
waiting for the partner's answer to the order).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeGuard
from urllib.parse import urlsplit

import httpx
import json_merge_patch
from fastapi import Depends, Request

from ..docstore import DocumentStore
from .companies import Companies, NotIntegrated, credentials_match
from .config import SmartRecruitersSimConfig
from .faults import FaultQueue
from .limits import CredentialLimits
from .partner import PartnerClient, PartnerError, PartnerLink, fits_spec, order_request

SEED_JOB_TITLE = "Backend Engineer"
SEED_CANDIDATES = (
    ("Ada", "Lovelace", "ada.lovelace@example.com"),
    ("Grace", "Hopper", "grace.hopper@example.com"),
    ("Alan", "Turing", "alan.turing@example.com"),
)

# The path of a result callback of another shape than /orders/{orderId}/results (variant "other").
OTHER_CALLBACK_PATH = "/assessment-api/v202010/assessment-results/{token}"

PARTNER_CONFIGURATION_SCOPE = "partner_configuration_manage"
RESULT_SCOPE = "assessment_result_manage"
ORDERS_READ_SCOPE = "assessment_orders_read"
# What the partner's master credentials allow (security scheme `oauth2_master`).
MASTER_SCOPES = (PARTNER_CONFIGURATION_SCOPE,)
# What a company's SR-issued customer credentials allow: results, and the Customer API read.
CUSTOMER_SCOPES = (RESULT_SCOPE, ORDERS_READ_SCOPE)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Grant:
    """To whom SR issued a token: the partner itself (master credentials) or one company."""

    client_id: str
    scopes: tuple[str, ...]
    company_id: str | None = None


class StepSetupError(Exception):
    """The hiring step's configuration was refused: `status` is the page's answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Simulator:
    def __init__(
        self, config: SmartRecruitersSimConfig, store: DocumentStore, partner: PartnerClient
    ) -> None:
        self.config = config
        self.faults = FaultQueue()
        self.limits = CredentialLimits()
        self.variants = config.variants
        self.companies = Companies(config, store)
        self._store = store
        self._partner = partner
        partner.variants = lambda: self.variants
        self._embedded_link = PartnerLink.embedded(config)
        self._package_names: dict[str, dict[str, str]] = {}

    def seed(self) -> None:
        """Give a fresh company an open job and a few applicants; a restarted one keeps its data."""
        if not self._store.all("job"):
            job_id = str(uuid.uuid4())
            self._store.put("job", job_id, {"id": job_id, "title": SEED_JOB_TITLE})
        if not self._store.all("candidate"):
            for first_name, last_name, email in SEED_CANDIDATES:
                self.add_candidate(first_name, last_name, email)

    # --- SR's OAuth server ---------------------------------------------------------------

    def authenticate(self, client_id: str, client_secret: str) -> Grant | None:
        """What a client presenting these credentials may do; None for unknown credentials."""
        master_id, master_secret = self.config.master_client_id, self.config.master_client_secret
        if credentials_match(client_id, client_secret, master_id, master_secret):
            return Grant(client_id, MASTER_SCOPES)
        company_id = self.companies.company_of_credentials(client_id, client_secret)
        if company_id is None:
            return None
        return Grant(client_id, CUSTOMER_SCOPES, company_id)

    def issue_token(self, grant: Grant) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        ttl = self.config.token_ttl_seconds
        self._store.put(
            "token",
            token,
            {
                "token": token,
                "expires_at": time.time() + ttl,
                "client_id": grant.client_id,
                "scopes": list(grant.scopes),
                "company_id": grant.company_id,
            },
        )
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": " ".join(grant.scopes),
        }

    def token_grant(self, token: str) -> Grant | None:
        """The grant of an issued, unexpired token; None otherwise."""
        stored = self._store.get("token", token)
        # Tokens stored before grants had scopes count as expired; clients then get new ones.
        if stored is None or stored["expires_at"] <= time.time() or "scopes" not in stored:
            return None
        return Grant(stored["client_id"], tuple(stored["scopes"]), stored["company_id"])

    def _revoke_tokens(self, client_id: str) -> None:
        for stored in self._store.find("token", client_id=client_id):
            self._store.delete("token", stored["token"])

    # --- request record ------------------------------------------------------------------

    def record_request(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        body: bytes,
        *,
        received_at: str | None = None,
        client_id: str | None = None,
        host: str | None = None,
        query: str = "",
    ) -> None:
        """One partner request: when it arrived and was answered (`at`), whose credential it
        used, and at which host and query."""
        request_id = uuid.uuid4().hex
        self._store.put(
            "request",
            request_id,
            {
                "id": request_id,
                "received_at": received_at or _now(),
                "at": _now(),
                "client_id": client_id,
                "method": method,
                "path": path,
                "host": host,
                "query": query,
                "status": status,
                "json": _json_or_none(content_type, body),
                "content_type": content_type,
                "size": len(body),
            },
        )

    def requests(
        self, method: str | None = None, path_contains: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            r
            for r in self._store.all("request")
            if (method is None or r["method"] == method.upper())
            and (path_contains is None or path_contains in r["path"])
        ]

    def clear_requests(self) -> None:
        for record in self._store.all("request"):
            self._store.delete("request", record["id"])

    # --- candidates ----------------------------------------------------------------------

    def candidates(self) -> list[dict[str, Any]]:
        return self._store.all("candidate")

    def candidate(self, candidate_id: str) -> dict[str, Any] | None:
        return self._store.get("candidate", candidate_id)

    def add_candidate(
        self, first_name: str, last_name: str, email: str, company_id: str | None = None
    ) -> dict[str, Any]:
        job = self._store.all("job")[0]
        candidate: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "company_id": company_id or self.config.company_id,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "application_id": str(uuid.uuid4()),
            "job": {"id": job["id"], "title": job["title"]},
            "step": self.config.hiring_steps[0],
        }
        self._store.put("candidate", candidate["id"], candidate)
        return candidate

    async def move_candidate(self, candidate: dict[str, Any], step: str) -> dict[str, Any] | None:
        """Move to a hiring step; entering the auto-triggered step orders its assessment.

        Returns the order placed, if any.
        """
        if step not in self.config.hiring_steps:
            steps = ", ".join(self.config.hiring_steps)
            raise ValueError(f"unknown hiring step {step!r}; the steps are: {steps}")
        entering = candidate["step"] != step
        candidate["step"] = step
        self._store.put("candidate", candidate["id"], candidate)
        company = self.company_of(candidate)
        setup = self.step_assessment(company)
        if (
            entering
            and step == self.config.auto_trigger_step
            and setup is not None
            and setup["auto_triggered"]
            and self.partner_connected(company)
        ):
            return await self.place_order(
                candidate, setup["package_id"], kind="manual", trigger="auto"
            )
        return None

    def step_assessment(self, company_id: str) -> dict[str, Any] | None:
        """What the company's assessment step orders, as its admin configured it (Configure →
        partner, type and package, and the Auto-triggered switch), or None while it is not
        configured. The embedded default company starts configured, so a first try needs no
        setup."""
        setup = self._store.get("step_assessment", company_id)
        if setup is None and company_id == self.config.company_id:
            return {
                "package_id": self.config.auto_trigger_package_id,
                "type": None,
                "auto_triggered": True,
            }
        return setup

    async def configure_step_assessment(
        self, company_id: str, package_id: str, package_type: str, auto_triggered: bool
    ) -> dict[str, Any]:
        """What the admin saves in the step's editor: only a connected company, and only a
        package its catalog offers under the type chosen (PartnerError if the catalog cannot be
        read)."""
        if not self.partner_connected(company_id):
            raise StepSetupError(409, f"No assessment partner is connected for {company_id}")
        catalog = await self.packages(company_id)
        if not any(p["id"] == package_id and p["type"] == package_type for p in catalog):
            raise StepSetupError(
                422,
                f"The partner offers no {package_type} package with id {package_id}: choose a "
                "package of the type chosen.",
            )
        setup = {"package_id": package_id, "type": package_type, "auto_triggered": auto_triggered}
        self._store.put("step_assessment", company_id, setup)
        return setup

    # --- orders placed with the partner --------------------------------------------------

    def orders(self, candidate_id: str | None = None) -> list[dict[str, Any]]:
        if candidate_id is None:
            return self._store.all("order")
        return list(self._store.find("order", candidate_id=candidate_id))

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self._store.get("order", order_id)

    def _placed(self, order_id: str) -> dict[str, Any]:
        """An order the caller knows was placed (it placed it, or the control API checked)."""
        order = self.order(order_id)
        if order is None:
            raise LookupError(f"no order {order_id}")
        return order

    def orders_of_application(self, application_id: str) -> list[dict[str, Any]]:
        return list(self._store.find("order", application_id=application_id))

    def application_candidate(self, application_id: str) -> dict[str, Any] | None:
        return next(self._store.find("candidate", application_id=application_id), None)

    def company_of(self, record: dict[str, Any]) -> str:
        """The company of a candidate or an order (the default one if stored before companies)."""
        return record.get("company_id") or self.config.company_id

    async def place_order(
        self,
        candidate: dict[str, Any],
        package_id: str,
        *,
        kind: str,
        trigger: str,
        order_id: str | None = None,
        send: bool = True,
    ) -> dict[str, Any]:
        """Create an order and send it to the partner (unless a test sends it later).

        `trigger` is "manual" when a recruiter (or a test) places it, "auto" for a hiring step.
        """
        order_id = order_id or str(uuid.uuid4())
        company_id = self.company_of(candidate)
        callback_url, callback_token = self._result_callback(order_id)
        order = {
            "order_id": order_id,
            "company_id": company_id,
            "kind": kind,
            "trigger": trigger,
            "candidate_id": candidate["id"],
            "application_id": candidate["application_id"],
            "package_id": package_id,
            "created_at": _now(),
            "result": {},
            "patches": [],
            "attachments": [],
            "result_callback_url": callback_url,
            "callback_token": callback_token,
            "partner_request": {
                "body": order_request(
                    self.config, kind, callback_url, candidate, package_id, company_id
                ),
            },
            "partner_status": None,
            "partner_body": None,
            "partner_error": None,
        }
        # Stored before the call: the partner may report progress before it answers.
        self._store.put("order", order_id, order)
        return await self.send_order(order_id) if send else order

    def _result_callback(self, order_id: str) -> tuple[str, str | None]:
        """Where the partner is to send the order's results, as the variants say (SR documents
        only the result operation, `/orders/{orderId}/results`; the URL's form is Gap 2), and
        the opaque token of a callback of another shape ("other"), None for the others."""
        base = (
            self.config.public_url
            if self.variants.callback_host == "api"
            else self.config.alias_url
        )
        if self.variants.callback_path == "other":
            # Our assumption of an unlike shape: an opaque token instead of the order id.
            token = secrets.token_urlsafe(24)
            return f"{base}{OTHER_CALLBACK_PATH.format(token=token)}", token
        url = f"{base}/assessment-api/v202010/orders/{order_id}/results"
        if self.variants.callback_path == "trailing-slash":
            url += "/"
        elif self.variants.callback_path == "query":
            url += f"?ref={secrets.token_hex(8)}"
        return url, None

    def order_of_callback(self, token: str) -> dict[str, Any] | None:
        return next(self._store.find("order", callback_token=token), None)

    async def send_order(self, order_id: str) -> dict[str, Any]:
        """(Re)send an order's request body to the partner and keep the partner's answer.

        The partner is reached as its company's link says now, so a resend after the company
        connected goes where the partner configuration points.
        """
        sent = self._placed(order_id)
        link = self.partner_link(self.company_of(sent))
        candidate_url = None
        try:
            url = link.order_url(sent["kind"])
            answer = await self._partner.post(link, url, sent["partner_request"]["body"])
            status, body, error = answer.status, answer.body, None
            if sent["kind"] == "inline" and status == httpx.codes.OK:
                candidate_url = self._inline_link(
                    fits_spec("InlineAssessmentPackageResponse", body, f"POST {url}")
                )
        except PartnerError as exc:
            status, body, error = None, None, str(exc)
        # Read again: the partner may have reported progress while SR waited for its answer.
        order = self._placed(order_id)
        order.update(
            partner_status=status,
            partner_body=body,
            partner_error=error,
            candidate_url=candidate_url,
        )
        self._store.put("order", order_id, order)
        return order

    def _inline_link(self, answer: dict[str, Any]) -> str:
        """The candidate's link in an inline order's answer, read from the one key this SR reads:
        the spec's schema requires `assessmentPackageURL` but describes only `url`."""
        link = answer.get(self.variants.inline_key)
        if not _is_web_url(link):
            raise PartnerError(
                f"the inline order's answer has no http(s) link under {self.variants.inline_key!r}"
            )
        return link

    async def packages(self, company_id: str | None = None) -> list[dict[str, Any]]:
        """The partner's package catalog as one company (the default one if None) sees it."""
        company_id = company_id or self.config.company_id
        link = self.partner_link(company_id)
        catalog = await self._partner.packages(link, requester=self.variants.requester_header)
        self._package_names[company_id] = {package["id"]: package["name"] for package in catalog}
        return catalog

    def package_names(self, company_id: str) -> dict[str, str]:
        """The names of the company's packages as the partner's catalog last gave them, for pages
        that show orders without asking the partner again."""
        return self._package_names.get(company_id, {})

    async def package(self, package_id: str, company_id: str | None = None) -> dict[str, Any]:
        """One package as a company sees it, read at `singleAssessmentPackageUrl` filled in as the
        `url_expansion` variant says: the URL SR called, and what the partner answered."""
        link = self.partner_link(company_id or self.config.company_id)
        url = link.package_url(package_id, self.variants.url_expansion)
        if url is None:
            raise PartnerError("the partner configuration has no singleAssessmentPackageUrl")
        answer = await self._partner.get(link, url)
        if answer.status == 200:
            fits_spec("AssessmentPackage", answer.body, f"GET {url}")
        return {"url": url, "partner_status": answer.status, "partner_body": answer.body}

    # --- the companies' connection with the partner ---------------------------------------

    def partner_connected(self, company_id: str) -> bool:
        """Whether the company has the partner's app: the embedded default company always, any
        other once its Connect finished. SR offers a recruiter only the partners connected."""
        return (
            company_id == self.config.company_id
            or self.companies.partner_link(company_id) is not None
        )

    def partner_link(self, company_id: str) -> PartnerLink:
        """The partner configuration's URLs and the company's own partner-issued credentials if
        it connected through Connect; otherwise the configured partner URL and credentials."""
        return self.companies.partner_link(company_id) or self._embedded_link

    def company_overview(self) -> list[dict[str, Any]]:
        return self.companies.overview(self.company_of(c) for c in self.candidates())

    async def disconnect(self, company_id: str, *, tell_partner: bool = True) -> dict[str, Any]:
        """The admin disconnects the partner's app: SR tells the partner (`integrationDisableUrl`,
        with a token for that company or bare, as `disconnect_auth` says), ends the integration
        whatever the partner answered, and the SR-issued credentials stop working (before or after
        the call, as `disconnect_revokes` says). Without `tell_partner`, SR's call is lost on the
        way (our assumption: SR does not retry it), as when the partner was unreachable."""
        link = self.companies.partner_link(company_id)
        if link is None:
            raise NotIntegrated(f"Company {company_id} is not connected to the partner")
        variants = self.variants
        url = link.disable_url(company_id, variants.url_expansion)
        revoke_first = variants.disconnect_revokes == "before-delete"
        status, error = None, None
        if revoke_first:
            self._revoke_company(company_id, None, None)
        if not tell_partner:
            error = "SR's call to the partner was lost (tell_partner=false)"
        elif url is None:
            error = "the partner configuration has no integrationDisableUrl"
        else:
            try:
                status = (
                    await self._partner.delete(
                        link, url, bearer=variants.disconnect_auth == "bearer"
                    )
                ).status
            except PartnerError as exc:
                error = str(exc)
        self._partner.forget_token(link)
        self._revoke_company(company_id, status, error)
        return {"company_id": company_id, "partner_status": status, "partner_error": error}

    def _revoke_company(self, company_id: str, status: int | None, error: str | None) -> None:
        revoked_client_id = self.companies.end_integration(company_id, status, error)
        if revoked_client_id is not None:
            self._revoke_tokens(revoked_client_id)

    # --- results reported by the partner -------------------------------------------------

    def apply_result_patch(self, order: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        order["result"] = json_merge_patch.merge(order["result"], patch)
        order["patches"].append(patch)
        self._store.put("order", order["order_id"], order)
        return order["result"]

    def add_attachment(
        self, order: dict[str, Any], filename: str, content_type: str, data: bytes
    ) -> dict[str, Any]:
        file_id = uuid.uuid4().hex
        attachment = {
            "id": file_id,
            "url": f"{self.config.public_url}/files/{file_id}",
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
        }
        self._store.put(
            "file", file_id, {**attachment, "data": base64.b64encode(data).decode("ascii")}
        )
        order["attachments"].append(attachment)
        self._store.put("order", order["order_id"], order)
        return attachment

    def file(self, file_id: str) -> tuple[dict[str, Any], bytes] | None:
        stored = self._store.get("file", file_id)
        if stored is None:
            return None
        return stored, base64.b64decode(stored["data"])


def _is_web_url(url: Any) -> TypeGuard[str]:
    try:
        return isinstance(url, str) and urlsplit(url).scheme in ("http", "https")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _json_or_none(content_type: str | None, body: bytes) -> Any:
    if not content_type or "json" not in content_type.lower():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def current_simulator(request: Request) -> Simulator:
    return request.app.state.simulator


Sim = Annotated[Simulator, Depends(current_simulator)]
