"""Adapter for TestGorilla (docs.testgorilla.com): polling only, strict per-endpoint limits.

Credentials of a vendor account (all strings unless said):
- ``username`` and ``password`` of an API user (logged in lazily; the token expires one hour
  after its last use, so a 401 logs in again once and repeats the call), or ``api_token`` (a
  long-lived key sent the same way; a 401 with it is final);
- ``base_url``: default ``https://app.testgorilla.com``;
- ``budget_share`` (number, 0–1, default 0.8): the fraction of each per-endpoint limit we may use.
  The limits are per API token, so every process holding an adapter for the account (each
  worker, each API replica reading the catalog) shares them: given the store's shared limits,
  the share holds for all of them together (without, for each process alone);
- ``rate_limits`` (object, endpoint name → requests per window) and ``rate_window_seconds``
  (number, default 60) when an account's limits differ from the published ones (or a simulator's);
- ``max_wait_seconds`` (number, default 5): how long a call that matters now waits for budget;
- ``invitation_url_template`` (default
  ``https://talent-assessment.testgorilla.com/{invitation_uuid}``): the candidate's link when no
  answer carries the candidature's own ``invitation_link`` (the form later public consumer code
  builds; an older one is
  ``https://assessment.testgorilla.com/testtaker/welcome/{invitation_uuid}``).

Reads. A candidature is read where TestGorilla's docs say: the candidate detail
(``GET /assessments/candidates/<testtaker_id>/?candidature=<id>``), else the assessment's
candidature list. Our vendor_ref is ``<assessment>:<candidature>:<testtaker>``; references made
before it carried the test-taker id try ``GET /assessments/candidature/<id>/`` once (not in the
docs, which list only DELETE there), and its 404 or 405 sends the read to the list: only a
candidature the list no longer has is unknown (a 404 to the workflow, which holds the order).

Rate limits. The registry builds one adapter per account and process, so its budgets are shared
by all open orders of the account, and through the store by every process. Each endpoint allows
at most ``budget_share × limit`` requests in any window, counting a request from when it is sent
until a window after its answer arrived (so however long the network takes, the vendor never
sees more than that in one of its windows): in this process first, then in the store's leased
slots, which every process holding the account takes from (``store/limits.py``). An endpoint is
also closed while the vendor says so: ``X-RateLimit-Remaining: 0`` or a 429 closes it for
``X-RateLimit-Reset`` seconds (a delta, not a timestamp). Invitations, results, reports and
cancellations wait for budget up to ``max_wait_seconds``; status polls never wait: without budget
``get_status`` raises a retryable PeerError whose ``retry_after`` is when budget frees (plus a
spread, so a crowd of polls does not come back at once) without calling the vendor, and polls
leave a tenth of the status budget to result fetches.

Idempotency. TestGorilla has no idempotency key, but "candidates can only take each assessment
once": a second invitation of the same email to the same assessment is refused (400; public
consumer code sees ``errors[].error_key == "REPEATING_INVITATION"``, but the body is not
documented, so any 400 leads to a lookup). The adapter then looks the candidature up by
assessment and email and returns it, without a second email. This also returns a candidature an
earlier order created for the same person and assessment: TestGorilla allows only that one attempt.

Resend (an operator's repair): TestGorilla's re-invite (`POST …/candidature/{id}/send-invitation/`,
documented with its own limit) emails the invitation again; only a candidature still `invited`
is re-invited, since what TestGorilla does for one past that is not documented.

No webhooks (TestGorilla documents none) and no vendor expiry: our deadline governs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    CallDeferred,
    PeerError,
    peer_client,
    raise_for_status,
    retry_after_header,
    send,
)
from settings import Settings
from smartrecruiters.models import AssessmentType
from store.limits import LimitUnavailable, SharedLimit, SharedLimits
from vendors.base import (
    CandidateLimits,
    Capabilities,
    CredentialsUnusable,
    Length,
    OrderCallback,
    PackageTest,
    ParsedWebhook,
    Push,
    Report,
    VendorPackage,
    WebhookUnreadable,
)

NAME = "testgorilla"
PEER = "TestGorilla"
DEFAULT_BASE_URL = "https://app.testgorilla.com"
DEFAULT_BUDGET_SHARE = 0.8
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_MAX_WAIT_SECONDS = 5.0
# Polls may not use the last tenth of the status endpoint's budget: results need it too.
POLL_RESERVE_SHARE = 0.1
# How long a poll may wait for the store's answer on the deployment's budget (this process's
# other callers ask first, one at a time); a budget used up frees only as its window passes.
POLL_ASKS_SECONDS = 2.0
PAGE_SIZE = 50
# An assessment's tests rarely change; its detail is read again after this long.
DETAIL_MAX_AGE_SECONDS = 600.0
MAX_SCORE = 100.0
# Where a candidate's link is built from its uuid when no answer carries the candidature's own
# `invitation_link`: the later of the two forms public consumer code links candidates to.
DEFAULT_INVITATION_URL_TEMPLATE = "https://talent-assessment.testgorilla.com/{invitation_uuid}"
# Test-taker ids this process remembers for references made before they carried one.
TEST_TAKERS_KEPT = 10_000

# Requests per minute and API token (docs.testgorilla.com/apis/rate-limits). The GET of one
# candidature is not in that table (taken as the candidate-detail limit), nor is render_pdf.
LIMITS: dict[str, int] = {
    "assessments": 20,
    "assessment": 20,
    "invite": 60,
    "candidatures": 100,
    "candidate": 100,
    "candidature": 100,
    "results": 60,
    "pdf": 20,
    "delete": 20,
    "reinvite": 60,
}

_STATUSES = {
    "invited": VendorStatus.INVITED,
    "started": VendorStatus.STARTED,
    "completed": VendorStatus.COMPLETED,
}
_PERSONALITY_NAMES = {
    "big_5": "Big 5 profile",
    "disc": "DISC profile",
    "16_types": "Personality type",
    "enneagram": "Enneagram type",
    "culture_fit": "Culture add",
}


def from_account(
    settings: Settings, credentials: dict, shared_limits: SharedLimits | None = None
) -> TestGorillaVendor:
    """The adapter for a TestGorilla account's credentials (see the module's docstring)."""
    if not credentials.get("api_token") and not (
        credentials.get("username") and credentials.get("password")
    ):
        raise CredentialsUnusable("they need username and password, or api_token")
    template = credentials.get("invitation_url_template", DEFAULT_INVITATION_URL_TEMPLATE)
    try:
        usable = (
            isinstance(template, str)
            and "{invitation_uuid}" in template
            and bool(template.format(invitation_uuid="x"))
        )
    except (KeyError, IndexError, ValueError):
        usable = False
    if not usable:
        raise CredentialsUnusable(
            "invitation_url_template must be a URL naming {invitation_uuid} and nothing "
            "else in braces"
        )
    return TestGorillaVendor(
        base_url=credentials.get("base_url", DEFAULT_BASE_URL),
        username=credentials.get("username"),
        password=credentials.get("password"),
        api_token=credentials.get("api_token"),
        budget_share=float(credentials.get("budget_share", DEFAULT_BUDGET_SHARE)),
        limits=dict(credentials.get("rate_limits") or {}),
        window_seconds=float(credentials.get("rate_window_seconds", DEFAULT_WINDOW_SECONDS)),
        max_wait_seconds=float(credentials.get("max_wait_seconds", DEFAULT_MAX_WAIT_SECONDS)),
        timeout_seconds=settings.vendor_timeout_seconds,
        invitation_url_template=template,
        shared_limits=shared_limits,
    )


class NoBudget(CallDeferred):
    """We did not call the vendor: the endpoint's budget is used up for `retry_after` seconds."""


@dataclass
class _Slot:
    """One request, counted from sending until its answer arrived (`done_at`)."""

    done_at: float = math.inf


@dataclass
class _Window:
    """At most `allowance` requests whose span touches any `seconds`-long window;
    closed until `closed_until`."""

    allowance: int
    seconds: float
    slots: list[_Slot] = field(default_factory=list)
    closed_until: float = 0.0

    def free_in(self, now: float, reserve: int = 0) -> float:
        """Seconds until one more request may go (0: now), keeping `reserve` requests unused."""
        self.slots = [s for s in self.slots if s.done_at > now - self.seconds]
        if now < self.closed_until:
            return self.closed_until - now
        room = max(1, self.allowance - reserve)
        if len(self.slots) < room:
            return 0.0
        finished = sorted(s.done_at for s in self.slots if s.done_at != math.inf)
        must_age_out = len(self.slots) - room + 1
        if must_age_out <= len(finished):
            return finished[must_age_out - 1] + self.seconds - now
        return self.seconds  # the rest are still in flight: at least a window

    def take(self) -> _Slot:
        slot = _Slot()
        self.slots.append(slot)
        return slot


class Budget:
    """Per-endpoint request budgets of one vendor account in this process."""

    def __init__(
        self,
        limits: Mapping[str, int],
        share: float,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._share = min(max(share, 0.0), 1.0)
        self._clock = clock
        self.window_seconds = window_seconds
        self._windows = {
            name: _Window(self._allowance(limit), window_seconds) for name, limit in limits.items()
        }

    def _allowance(self, limit: int) -> int:
        return max(1, math.floor(self._share * limit))

    def allowance(self, endpoint: str) -> int:
        return self._windows[endpoint].allowance

    def take_now(self, endpoint: str, action: str, *, poll: bool = False) -> _Slot:
        """A slot if the endpoint has budget now, else NoBudget (the vendor is not called)."""
        window = self._windows[endpoint]
        wait = window.free_in(self._clock(), self.reserve_for(endpoint, poll))
        if wait > 0:
            spread = random.uniform(0, window.seconds) if poll else 0.0
            raise NoBudget(
                PEER, f"{action}: request budget used up for now", retry_after=wait + spread
            )
        return window.take()

    async def take(self, endpoint: str, action: str, max_wait: float) -> _Slot:
        """A slot, waiting up to `max_wait` seconds for the endpoint's budget to free."""
        give_up_at = self._clock() + max_wait
        while True:
            try:
                return self.take_now(endpoint, action)
            except NoBudget as err:
                assert err.retry_after is not None
                if self._clock() + err.retry_after > give_up_at:
                    raise
                await asyncio.sleep(err.retry_after)

    def done(self, slot: _Slot) -> None:
        slot.done_at = self._clock()

    def unsent(self, endpoint: str, slot: _Slot) -> None:
        """The request of `slot` was not sent after all: it counts for nothing."""
        with contextlib.suppress(ValueError):
            self._windows[endpoint].slots.remove(slot)

    def reserve_for(self, endpoint: str, poll: bool) -> int:
        """Requests of the endpoint's allowance a caller leaves unused: polls leave a tenth."""
        return math.floor(self._windows[endpoint].allowance * POLL_RESERVE_SHARE) if poll else 0

    def observe(self, endpoint: str, response: httpx.Response) -> None:
        """Follow the vendor's own count: a lower limit, or an endpoint closed until its reset."""
        window = self._windows[endpoint]
        limit, remaining = (
            _int_header(response, "X-RateLimit-Limit"),
            _int_header(response, "X-RateLimit-Remaining"),
        )
        if limit is not None and limit > 0:
            window.allowance = min(window.allowance, self._allowance(limit))
        if response.status_code == 429 or remaining == 0:
            reset = _reset_seconds(response)
            window.closed_until = max(
                window.closed_until,
                self._clock() + (reset if reset is not None else window.seconds),
            )


class _Login:
    """The account's token, shared by all callers: one login at a time, renewed once per expiry."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        username: str | None,
        password: str | None,
        api_token: str | None,
    ) -> None:
        self._http = http
        self._username = username
        self._password = password
        self._token = api_token
        self._lock = asyncio.Lock()
        self.renewable = bool(username and password)

    async def token(self) -> str:
        if self._token:
            return self._token
        async with self._lock:
            if not self._token:
                self._token = await self._login()
            return self._token

    async def renew(self, stale: str) -> None:
        """Log in again, unless another caller already replaced the stale token."""
        async with self._lock:
            if self._token == stale:
                self._token = await self._login()

    async def _login(self) -> str:
        if not self.renewable:
            raise PeerError(
                PEER,
                "the vendor account has no username and password or api_token",
                retryable=False,
            )
        body = {"username": self._username, "password": self._password}
        response = await send(
            PEER,
            "login",
            self._http,
            self._http.build_request("POST", "/profiles/login/", json=body),
        )
        with _shape("login"):
            return str(response.json()["token"])


class TestGorillaVendor:
    __test__ = False  # not a pytest test class, despite the name

    name = NAME
    capabilities = Capabilities(
        push=Push.NONE,
        push_auth="none",
        idempotency="natural_key_conflict_then_lookup",
        cancel=True,
        rate_limit="per endpoint, per minute (20–100)",
        resend=True,
        # InviteRequest in simulators/testgorilla/testgorilla-api.yaml;
        # no name limits are documented.
        candidate_limits=CandidateLimits(email=Length(3)),
    )

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        username: str | None = None,
        password: str | None = None,
        api_token: str | None = None,
        budget_share: float = DEFAULT_BUDGET_SHARE,
        limits: Mapping[str, int] | None = None,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        timeout_seconds: float = 10.0,
        invitation_url_template: str = DEFAULT_INVITATION_URL_TEMPLATE,
        shared_limits: SharedLimits | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        # The limits are the API token's, wherever it is used: with the store's limits, each
        # endpoint's budget holds for every process holding the account, not for each alone.
        self._shared = shared_limits
        self._account = f"{PEER}:{self._base_url}:{username or api_token or ''}"
        self._lease_seconds = 2 * timeout_seconds + 5
        self._http = peer_client(base_url=f"{self._base_url}/api", timeout=timeout_seconds)
        self._login = _Login(self._http, username, password, api_token)
        # The published limits, with the account's own where it has them.
        self.budget = Budget(LIMITS | dict(limits or {}), budget_share, window_seconds)
        self._max_wait = max_wait_seconds
        self._details: dict[int, tuple[float, list[dict]]] = {}
        self._link_template = invitation_url_template
        self._test_takers: dict[
            int, int
        ] = {}  # candidature id → test-taker id, for references without it

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self,
        endpoint: str,
        action: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        poll: bool = False,
        allow: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """One request within the endpoint's budget;
        an expired token is renewed and the call repeated once."""
        for attempt in (1, 2):
            if poll:
                slot = self.budget.take_now(endpoint, action, poll=True)
            else:
                slot = await self.budget.take(endpoint, action, self._max_wait)
            try:
                async with self._deployments_budget(endpoint, action, poll):
                    token = await self._login.token()
                    request = self._http.build_request(
                        method,
                        path,
                        params=params,
                        json=json,
                        headers={"Authorization": f"Token {token}"},
                    )
                    response = await self._http.send(request)
            except httpx.TransportError as err:
                raise PeerError(PEER, f"{action} failed: {type(err).__name__}") from err
            except NoBudget:
                self.budget.unsent(endpoint, slot)
                raise
            finally:
                self.budget.done(slot)
            self.budget.observe(endpoint, response)
            if response.status_code == 401 and attempt == 1 and self._login.renewable:
                await self._login.renew(token)
                continue
            if response.status_code not in allow:
                raise_for_status(PEER, response, action, _wait_hint)
            return response
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def _deployments_budget(
        self, endpoint: str, action: str, poll: bool
    ) -> AsyncIterator[None]:
        """A slot of the endpoint's budget in the store, counted as this process's budget counts
        a request (from sending until a window after its answer), for every process at once."""
        if self._shared is None:
            yield
            return
        allowance = self.budget.allowance(endpoint)
        limit = SharedLimit(
            interval_seconds=0.0,
            capacity=max(1, allowance - self.budget.reserve_for(endpoint, poll)),
            lease_seconds=self._lease_seconds,
            counted_for_seconds=self.budget.window_seconds,
        )
        async with contextlib.AsyncExitStack() as held:
            try:
                await held.enter_async_context(
                    self._shared.turn(
                        f"{self._account}:{endpoint}",
                        limit,
                        POLL_ASKS_SECONDS if poll else self._max_wait,
                    )
                )
            except LimitUnavailable as err:
                # When a slot frees is not known here: about when the next would at an even pace.
                spread = random.uniform(0, self.budget.window_seconds) if poll else 0.0
                raise NoBudget(
                    PEER,
                    f"{action}: the deployment's request budget: {err}",
                    retry_after=self.budget.window_seconds / allowance + spread,
                ) from None
            yield

    async def _json(
        self,
        endpoint: str,
        action: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        poll: bool = False,
    ) -> Any:
        response = await self._call(endpoint, action, "GET", path, params=params, poll=poll)
        with _shape(action):
            return response.json()

    async def _pages(
        self, endpoint: str, action: str, path: str, params: dict[str, Any], *, poll: bool = False
    ) -> AsyncIterator[dict]:
        """Every item of a limit/offset list, page by page. The docs' candidature-list example
        shows no `count`: without one, a page with no `next` (or a short page) is the last."""
        offset = 0
        while True:
            body = await self._json(
                endpoint, action, path, {**params, "limit": PAGE_SIZE, "offset": offset}, poll=poll
            )
            with _shape(action):
                items, count = list(body["results"]), body.get("count")
            for item in items:
                yield item
            offset += len(items)
            if not items:
                return
            if count is not None:
                with _shape(action):
                    if offset >= int(count):
                        return
            elif body.get("next", "") is None or len(items) < PAGE_SIZE:
                return

    # Catalog

    async def list_packages(self) -> list[VendorPackage]:
        # "new" assessments have no candidate yet but take invitations (the first makes them
        # "active"); archived ones take none.
        summaries = [
            a
            async for a in self._pages(
                "assessments", "assessment list", "/assessments/", {"status": "new,active"}
            )
        ]
        packages = []
        for summary in summaries:
            with _shape("assessment list"):
                assessment_id, name = int(summary["id"]), str(summary["name"])
            tests = await self._tests_of(assessment_id)
            with _shape("assessment detail"):
                package_tests = tuple(
                    PackageTest(
                        str(t["id"]), str(t["name"]), str(t.get("description") or t["name"])
                    )
                    for t in tests
                )
            packages.append(
                VendorPackage(
                    id=str(assessment_id),
                    name=name,
                    description=_package_description(package_tests),
                    type=AssessmentType.SKILL_TEST,
                    tests=package_tests,
                )
            )
        return packages

    async def _tests_of(self, assessment_id: int) -> list[dict]:
        """The assessment's tests; within the detail budget only,
        else the last ones read (or none yet)."""
        read_at, tests = self._details.get(assessment_id, (-math.inf, []))
        if time.monotonic() - read_at < DETAIL_MAX_AGE_SECONDS:
            return tests
        try:
            response = await self._call(
                "assessment",
                "assessment detail",
                "GET",
                f"/assessments/{assessment_id}/",
                poll=True,
            )
        except NoBudget:
            return tests  # the catalog is read again soon; its test lists fill in then
        with _shape("assessment detail"):
            tests = _tests_in(response.json())
        self._details[assessment_id] = (time.monotonic(), tests)
        return tests

    # Orders

    async def create_invitation(self, order: Order, callback: OrderCallback) -> Invitation:
        """Invite; a refusal because this email already has a candidature here returns that one.

        The invite's answer is not documented: it is read for the candidature's id, test-taker id
        and link (as consumer code reads it) and whatever it lacks is looked up by assessment and
        email, since TestGorilla has emailed the candidate by then and inviting again would be
        refused."""
        assessment_id = _assessment_id(order.package_id)
        candidate = order.candidate
        body = {
            "email": candidate.email,
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
        }
        path = f"/assessments/{assessment_id}/invite_candidate/"
        response = await self._call(
            "invite", "invitation", "POST", path, json=body, allow=frozenset({400})
        )
        if response.status_code == 400:
            candidature = await self._find_candidature(assessment_id, candidate.email)
            if candidature is None:
                reason = _refusal_reason(response)
                raise PeerError(
                    PEER,
                    "invitation answered HTTP 400" + (f" ({reason})" if reason else ""),
                    status=400,
                    retryable=False,
                )
            return self._invitation(assessment_id, candidature)
        answer = _json_object(response)
        if (
            _int(answer.get("id")) is None
            or _test_taker_of(answer) is None
            or not answer.get("invitation_link")
        ):
            found = await self._find_candidature(
                assessment_id, candidate.email, answer.get("invitation_uuid")
            )
            if found is None and _int(answer.get("id")) is None:
                # Sent, but not listed yet: a retry is refused as a repeat and looks it up again.
                raise PeerError(
                    PEER, "invitation sent, but TestGorilla does not list the candidature yet"
                )
            answer = (found or {}) | {k: v for k, v in answer.items() if v not in (None, "")}
        return self._invitation(assessment_id, answer)

    def _invitation(self, assessment_id: int, candidature: dict) -> Invitation:
        with _shape("invitation"):
            candidature_id = int(candidature["id"])
        # The candidature's own link first; links built from its uuid are the last resort.
        link = candidature.get("invitation_link")
        if not link and candidature.get("invitation_uuid"):
            link = self._link_template.format(invitation_uuid=candidature["invitation_uuid"])
        if not link:
            raise PeerError(PEER, "invitation answer has no candidate link", retryable=False)
        test_taker = _test_taker_of(candidature)
        if test_taker is not None:
            self._remember_test_taker(candidature_id, test_taker)
        ref = _Ref(
            assessment_id,
            candidature_id,
            test_taker if test_taker is not None else self._test_takers.get(candidature_id),
        )
        # The candidature alone is also indexed: however a reference to it is written (with the
        # test taker or without, as older orders and list rows have it), a second order of the
        # same candidature meets the first in our index and is refused.
        keys = [ref.candidature_key] if ref.test_taker is not None else []
        return Invitation(vendor_ref=ref.text, test_url=str(link), webhook_keys=keys)

    async def _find_candidature(
        self, assessment_id: int, email: str, invitation_uuid: Any = None
    ) -> dict | None:
        """The assessment's candidature of this email (an assessment takes an email once), or of
        the invitation's uuid."""
        params = {"assessment": assessment_id, "search": email}
        async for candidature in self._pages(
            "candidatures", "candidature lookup", "/assessments/candidature/", params
        ):
            if str(candidature.get("email", "")).lower() == email.lower():
                return candidature
            if invitation_uuid and candidature.get("invitation_uuid") == invitation_uuid:
                return candidature
        return None

    def _remember_test_taker(self, candidature_id: int, test_taker: int) -> None:
        if len(self._test_takers) >= TEST_TAKERS_KEPT:
            self._test_takers.pop(next(iter(self._test_takers)))
        self._test_takers[candidature_id] = test_taker

    async def _read(self, ref: _Ref, action: str, *, poll: bool = False) -> _Reading | None:
        """The candidature's state, or None once TestGorilla no longer lists it.

        Read where the docs say: the candidate detail (`/assessments/candidates/<testtaker_id>/
        ?candidature=<id>`) when the test-taker id is known, else the assessment's candidature
        list. References made before we kept the test-taker id try the candidature's own GET
        first (one request; not documented); its 404 or 405 proves nothing, so the list decides."""
        test_taker = ref.test_taker or self._test_takers.get(ref.candidature)
        if test_taker is not None:
            found = await self._candidate_detail(ref, test_taker, action, poll=poll)
        else:
            found = await self._undocumented_candidature(ref, action, poll=poll)
        if found is None:
            found = await self._listed_candidature(ref, action, poll=poll)
        if found is not None and found.test_taker is not None:
            self._remember_test_taker(ref.candidature, found.test_taker)
        return found

    async def _candidate_detail(
        self, ref: _Ref, test_taker: int, action: str, *, poll: bool
    ) -> _Reading | None:
        path = f"/assessments/candidates/{test_taker}/"
        response = await self._call(
            "candidate",
            action,
            "GET",
            path,
            params={"candidature": ref.candidature},
            poll=poll,
            allow=frozenset({404, 405}),
        )
        # Only consumer code shows this answer's form: an answer in none we know, or none at all,
        # proves nothing, and the documented list decides (never a rejected order).
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return None
        # The test taker with `assessments_detail` (as consumer code reads it), or the
        # candidature's detail on its own.
        if isinstance(body.get("assessments_detail"), list):
            item = next(
                (
                    i
                    for i in body["assessments_detail"]
                    if isinstance(i, dict) and _int(i.get("id")) == ref.candidature
                ),
                None,
            )
        elif "status" in body and _int(body.get("id")) in (None, ref.candidature):
            item = body
        else:
            item = None
        return _reading(item, test_taker) if item is not None else None

    async def _undocumented_candidature(
        self, ref: _Ref, action: str, *, poll: bool
    ) -> _Reading | None:
        path = f"/assessments/candidature/{ref.candidature}/"
        response = await self._call(
            "candidature", action, "GET", path, poll=poll, allow=frozenset({404, 405})
        )
        if response.status_code != 200:
            return None
        with _shape(action):
            return _reading(dict(response.json()), None)

    async def _listed_candidature(self, ref: _Ref, action: str, *, poll: bool) -> _Reading | None:
        params = {"assessment": ref.assessment}
        async for candidature in self._pages(
            "candidatures", action, "/assessments/candidature/", params, poll=poll
        ):
            if _int(candidature.get("id")) == ref.candidature:
                return _reading(candidature, None)
        return None

    async def _completed(self, ref: _Ref, action: str) -> tuple[_Reading, int]:
        """The completed candidature and its test-taker id."""
        reading = await self._read(ref, action)
        if reading is None:
            raise PeerError(
                PEER, f"{action}: the candidature was deleted", status=404, retryable=False
            )
        if reading.status != VendorStatus.COMPLETED:
            raise PeerError(PEER, f"{action}: the candidate has not completed the assessment yet")
        test_taker = reading.test_taker or ref.test_taker or self._test_takers.get(ref.candidature)
        if test_taker is None:
            raise PeerError(
                PEER,
                f"{action} answer is not in the expected shape (no test-taker id)",
                retryable=False,
            )
        return reading, test_taker

    async def get_status(self, ref: str) -> StatusReading:
        """Never waits for budget: without it, a retryable NoBudget says when to ask again."""
        reading = await self._read(_parse_ref(ref), "status", poll=True)
        if (
            reading is None
        ):  # TestGorilla documents no cancelled state: a missing candidature proves nothing
            raise PeerError(
                PEER,
                "status: the vendor does not know the candidature",
                status=404,
                retryable=False,
            )
        return StatusReading(status=reading.status)

    async def get_result(self, ref: str) -> VendorResult:
        parsed = _parse_ref(ref)
        reading, test_taker = await self._completed(parsed, "result")
        params = {
            "candidature__assessment": parsed.assessment,
            "candidature__test_taker": test_taker,
        }
        body = await self._json("results", "result", "/assessments/results/", params)
        with _shape("result"):
            return _result(reading.avg_score, [_test_result(r) for r in body["results"]])

    async def download_report(self, ref: str) -> Report | None:
        parsed = _parse_ref(ref)
        _, test_taker = await self._completed(parsed, "report download")
        path = f"/assessments/candidates/{test_taker}/render_pdf/"
        response = await self._call(
            "pdf", "report download", "GET", path, params={"candidature": parsed.candidature}
        )
        content_type = response.headers.get("content-type", "application/pdf").split(";")[0].strip()
        return Report(
            filename=f"testgorilla-candidature-{parsed.candidature}.pdf",
            content=response.content,
            content_type=content_type,
        )

    async def abandon_invitation(self, order_reference: str) -> None:
        """Nothing to tidy: every try of the invitation came to the same one, and withdrawing
        it needs the id the vendor never gave us."""

    async def cancel_invitation(self, ref: str) -> None:
        """Delete the candidature; a completed one is left alone
        (its result stays at TestGorilla)."""
        parsed = _parse_ref(ref)
        reading = await self._read(parsed, "cancellation")
        if reading is None or reading.status == VendorStatus.COMPLETED:
            return
        path = f"/assessments/candidature/{parsed.candidature}/"
        await self._call("delete", "cancellation", "DELETE", path, allow=frozenset({404}))

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        parsed = _parse_ref(ref)
        reading = await self._read(parsed, "invitation resend")
        if reading is None:
            raise PeerError(
                PEER,
                "invitation resend refused: the candidature was deleted",
                status=404,
                retryable=False,
            )
        if reading.status != VendorStatus.INVITED:
            raise PeerError(
                PEER,
                "invitation resend refused: the invitation is no longer open (it reads "
                f"{reading.status.value})",
                status=409,
                retryable=False,
            )
        await self._call(
            "reinvite",
            "invitation resend",
            "POST",
            f"/assessments/candidature/{parsed.candidature}/send-invitation/",
        )

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> list[ParsedWebhook]:
        raise WebhookUnreadable("TestGorilla sends no webhooks; its orders are polled")


# Reading answers


@contextlib.contextmanager
def _shape(action: str) -> Iterator[None]:
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PeerError(
            PEER, f"{action} answer is not in the expected shape", retryable=False
        ) from err


def _status_of(candidature: dict) -> VendorStatus:
    return _STATUSES.get(str(candidature.get("status")), VendorStatus.UNKNOWN)


def _assessment_id(package_id: str) -> int:
    if not package_id.isascii() or not package_id.isdigit():
        raise PeerError(PEER, "the package is not a TestGorilla assessment id", retryable=False)
    return int(package_id)


@dataclass(frozen=True)
class _Ref:
    """Our vendor_ref: `<assessment id>:<candidature id>[:<test-taker id>]` (earlier invitations
    have no test-taker id)."""

    assessment: int
    candidature: int
    test_taker: int | None = None

    @property
    def text(self) -> str:
        return self.candidature_key + (f":{self.test_taker}" if self.test_taker is not None else "")

    @property
    def candidature_key(self) -> str:
        """The reference as earlier invitations have it: the candidature alone."""
        return f"{self.assessment}:{self.candidature}"


def _parse_ref(ref: str) -> _Ref:
    parts = ref.split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts):
        raise PeerError(PEER, "not a TestGorilla invitation reference", retryable=False)
    return _Ref(*(int(p) for p in parts))


@dataclass(frozen=True)
class _Reading:
    status: VendorStatus
    test_taker: int | None
    avg_score: Any


def _reading(candidature: dict, test_taker: int | None) -> _Reading:
    # The list says `avg_score` (docs' example); the candidate detail `average` (consumer code).
    average = candidature.get("avg_score", candidature.get("average"))
    return _Reading(
        _status_of(candidature),
        test_taker if test_taker is not None else _test_taker_of(candidature),
        average,
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _test_taker_of(candidature: dict) -> int | None:
    """The test-taker id: `testtaker_id` (the docs' and consumers' name) or `test_taker`."""
    return _int(candidature.get("testtaker_id")) or _int(candidature.get("test_taker"))


def _json_object(response: httpx.Response) -> dict:
    """An answer's JSON object; anything else (no body, a list) reads as an empty one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal_reason(response: httpx.Response) -> str | None:
    """The error keys of a refusal (`errors[].error_key`, as consumer code reads them); codes
    only, never the messages, which may quote the candidate's email."""
    errors = _json_object(response).get("errors")
    keys = (
        [str(e.get("error_key")) for e in errors if isinstance(e, dict)]
        if isinstance(errors, list)
        else []
    )
    keys = [k for k in keys if k.isascii() and k.replace("_", "").isalnum() and k.isupper()]
    return ", ".join(keys) or None


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _reset_seconds(response: httpx.Response) -> float | None:
    """TestGorilla's X-RateLimit-Reset: seconds until the window resets (not a timestamp)."""
    reset = _int_header(response, "X-RateLimit-Reset")
    return float(reset) if reset is not None else None


def _wait_hint(response: httpx.Response) -> float | None:
    if response.status_code == 429:
        return _reset_seconds(response) or retry_after_header(response)
    return retry_after_header(response)


def _tests_in(detail: dict) -> list[dict]:
    """An assessment detail's tests: `tests_detail[].test` (as consumer code reads them), else
    `tests` items with their names (the docs name `tests`; ids alone give no names)."""
    if isinstance(detail.get("tests_detail"), list):
        return [d["test"] for d in detail["tests_detail"]]
    return [t for t in detail["tests"] if isinstance(t, dict)]


def _package_description(tests: tuple[PackageTest, ...]) -> str:
    if not tests:
        return "A TestGorilla assessment."
    return (
        f"A TestGorilla assessment of {len(tests)} test{'s' if len(tests) != 1 else ''}: "
        f"{', '.join(t.name for t in tests)}."
    )


def _test_result(result: dict) -> PackageTestResult:
    """A numeric score out of 100; personality tests have none and show `score_display` instead."""
    name, score = str(result["name"]), result.get("score")
    display = str(result.get("score_display") or "").strip()
    percentile = result.get("display_normalized_percentile_score")
    test_id = str(result.get("test_id") or result["id"])
    if score is not None:
        summary = (
            f"{_number(score)} out of 100"
            + (f", {_ordinal(percentile)} percentile" if percentile is not None else "")
            + "."
        )
        return PackageTestResult(
            test_id=test_id, name=name, score=float(score), max_score=MAX_SCORE, summary=summary
        )
    if display:
        kind = _PERSONALITY_NAMES.get(str(result.get("algorithm")), "Result")
        return PackageTestResult(
            test_id=test_id, name=name, outcome=display, summary=f"{kind}: {display}."
        )
    return PackageTestResult(
        test_id=test_id, name=name, summary="Not scored automatically; review it at TestGorilla."
    )


def _result(avg_score: Any, tests: list[PackageTestResult]) -> VendorResult:
    scored = [t for t in tests if t.score is not None]
    if avg_score is None and scored:
        # Our assumption where a read carries no average: TestGorilla's is the scored tests' mean.
        avg_score = round(sum(t.score for t in scored if t.score is not None) / len(scored), 1)
    profiles = [f"{t.name}: {t.outcome}" for t in tests if t.outcome]
    if avg_score is not None:
        summary = (
            f"Average score {_number(avg_score)} out of 100 over {len(scored)} scored "
            f"test{'s' if len(scored) != 1 else ''}."
        )
    else:
        summary = "No test in this assessment gives a score."
    if profiles:
        summary += f" Personality results: {'; '.join(profiles)}."
    return VendorResult(
        score=float(avg_score) if avg_score is not None else None,
        max_score=MAX_SCORE if avg_score is not None else None,
        summary=summary,
        tests=tests,
    )


def _number(value: Any) -> str:
    return f"{float(value):g}"


def _ordinal(value: Any) -> str:
    n = round(float(value))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
