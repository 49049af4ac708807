"""What operators send and get back: requests validated by pydantic, views without secrets.

The views are what both the admin API answers and the CLI prints (`--json` prints them as they
are). No view carries a vendor account's credentials; a trigger token's plaintext appears only in
`IssuedTriggerTokenView`, once, when it is issued. Candidate data (name, email) appears only in
`OrderDetail`, for the operator who asked (`orders show`); order listings carry none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from admin.vendor_check import VendorCheck
from connections.connect import COMPANY_ID_PATTERN
from orders.models import OPERATOR_PATTERN, REASON_PATTERN
from smartrecruiters.models import AssessmentPackage
from store import CompanyConnection, IssuedToken, TriggerToken, VendorAccount
from store.vendor_api import ApiKey, IssuedApiKey
from vendors.registry import ADAPTERS as ADAPTER_KINDS

# The vendor adapters this service has.
ADAPTERS = tuple(ADAPTER_KINDS)
# Longer than anyone means; keeps an order of magnitude typo (3650 → 36500) from passing.
MAX_TOKEN_DAYS = 3650
ONCE_NOTICE = "Copy this token now: it is shown only once and cannot be shown again."


class PackageSettings(BaseModel):
    """A vendor account's settings for one of its packages."""

    model_config = ConfigDict(extra="forbid")

    deadline_days: float = Field(
        gt=0, le=365, description="Days a candidate has before the order expires"
    )


class NewCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, Any] = Field(
        description=(
            "Replace the account's credentials (a rotated key); stored encrypted, never shown again"
        )
    )


class NewVendorAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    adapter: str = Field(description=f"The vendor adapter: one of {', '.join(ADAPTERS)}")
    credentials: dict[str, Any] = Field(
        description=(
            'What the adapter needs to call the vendor, e.g. {"api_key": "…"}; stored '
            "encrypted, never shown again"
        )
    )
    package_settings: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=200)], PackageSettings
    ] = Field(
        default_factory=dict,
        description='Per package, e.g. {"skills-fullstack": {"deadline_days": 3}}',
    )

    @field_validator("name")
    @classmethod
    def _shown_name(cls, name: str) -> str:
        # Operators pick the account by its name on the console and in listings: a name of
        # control or invisible characters alone (a direction override, a byte-order mark) would
        # show as nothing, or turn the text around it.
        return _printable(name)

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, adapter: str) -> str:
        if adapter not in ADAPTERS:
            raise ValueError(f"unknown adapter; known: {', '.join(ADAPTERS)}")
        return adapter


class NewTriggerToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in_days: float | None = Field(
        None,
        gt=0,
        le=MAX_TOKEN_DAYS,
        description="Days until the token expires; ASSESSMENTS_TRIGGER_TOKEN_DAYS if omitted",
    )
    company_id: str | None = Field(
        None,
        pattern=COMPANY_ID_PATTERN,
        description="The one SmartRecruiters company it may connect; any if omitted",
    )


class VendorAccountView(BaseModel):
    id: str
    name: str
    adapter: str
    package_settings: dict[str, dict[str, Any]]
    created_at: datetime
    webhook_secret: str | None = Field(
        None,
        description=(
            "An API vendor account's webhook secret, when the hub made it: shown only in this "
            "answer, for the vendor to verify our webhooks with"
        ),
    )

    @classmethod
    def of(cls, account: VendorAccount, webhook_secret: str | None = None) -> VendorAccountView:
        return cls(
            id=account.id,
            name=account.name,
            adapter=account.adapter,
            package_settings=account.package_settings,
            created_at=account.created_at,
            webhook_secret=webhook_secret,
        )


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = Field("default", description="What the key is for, e.g. the vendor's deployment")


class ApiKeyView(BaseModel):
    id: str
    vendor_account_id: str
    label: str
    state: Literal["active", "revoked"]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        return cls(
            id=key.id,
            vendor_account_id=key.vendor_account_id,
            label=key.label,
            state="active" if key.revoked_at is None else "revoked",
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class IssuedApiKeyView(BaseModel):
    id: str
    vendor_account_id: str
    label: str
    key: str = Field(description="The API key (vk_…); shown only in this answer")
    notice: str = ONCE_NOTICE.replace("token", "key")

    @classmethod
    def of(cls, issued: IssuedApiKey) -> IssuedApiKeyView:
        return cls(
            id=issued.id,
            vendor_account_id=issued.vendor_account_id,
            label=issued.label,
            key=issued.key,
        )


class OfferedPackage(AssessmentPackage):
    """A package as SmartRecruiters would be offered it, with the deadline its orders get."""

    deadline_days: float


class VendorCheckView(BaseModel):
    """What a vendor account's catalog offers SmartRecruiters, read just now from the vendor."""

    vendor_account: VendorAccountView
    vendor_url: str = Field(description="Where the account's adapter called (no credentials in it)")
    packages: list[OfferedPackage]

    @classmethod
    def of(cls, check: VendorCheck) -> VendorCheckView:
        return cls(
            vendor_account=VendorAccountView.of(check.account),
            vendor_url=check.vendor_url,
            packages=[
                OfferedPackage(
                    **entry.as_smartrecruiters().model_dump(), deadline_days=entry.deadline_days
                )
                for entry in check.entries
            ],
        )


class TriggerTokenView(BaseModel):
    id: str
    vendor_account_id: str
    company_id: str | None
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: TriggerToken, now: datetime | None = None) -> TriggerTokenView:
        now = now or datetime.now(UTC)
        state: Literal["active", "expired", "revoked"]
        if token.revoked_at is not None:
            state = "revoked"
        elif token.expires_at is not None and token.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        return cls(
            id=token.id,
            vendor_account_id=token.vendor_account_id,
            company_id=token.company_id,
            state=state,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class IssuedTriggerTokenView(BaseModel):
    id: str
    vendor_account_id: str
    company_id: str | None
    token: str = Field(description="The External Trigger Token; shown only in this answer")
    expires_at: datetime | None
    notice: str = ONCE_NOTICE

    @classmethod
    def of(cls, issued: IssuedToken) -> IssuedTriggerTokenView:
        return cls(
            id=issued.token_id,
            vendor_account_id=issued.vendor_account_id,
            company_id=issued.company_id,
            token=issued.token,
            expires_at=issued.expires_at,
        )


class ConnectionView(BaseModel):
    company_id: str
    vendor_account_id: str
    vendor_account_name: str | None
    consent_email: str
    state: str
    connected_at: datetime
    disconnected_at: datetime | None
    trigger_token_id: str

    @classmethod
    def of(cls, connection: CompanyConnection, vendor_account_name: str | None) -> ConnectionView:
        return cls(
            company_id=connection.company_id,
            vendor_account_id=connection.vendor_account_id,
            vendor_account_name=vendor_account_name,
            consent_email=connection.consent_email,
            state=str(connection.state),
            connected_at=connection.connected_at,
            disconnected_at=connection.disconnected_at,
            trigger_token_id=connection.trigger_token_id,
        )


# --- Orders: find and inspect (admin/orders.py) ----------------------------------------------

# What AssessmentOrderStatus holds: SR's statuses, plus RECEIVED (not yet told to SR),
# CANCELLED (cancelled in Temporal, or the company disconnected), SR_REFUSING (SR refuses us for
# the order's company; the order keeps trying) and UNDELIVERED (it gave up; result kept).
OrderStatus = Literal[
    "RECEIVED",
    "PENDING",
    "IN_PROGRESS",
    "COMPLETED",
    "REJECTED",
    "EXPIRED",
    "CANCELLED",
    "SR_REFUSING",
    "UNDELIVERED",
]
# Company, vendor and package names as filters: quoted into a Temporal visibility query, so
# nothing that could end the quotes. SR company ids, our package ids and adapter names fit.
FILTER_VALUE_PATTERN = r"^[A-Za-z0-9_.:@-]{1,200}$"
FilterValue = Annotated[str, StringConstraints(pattern=FILTER_VALUE_PATTERN)]
# An order as operators name it: SR's order id (as intake accepts them, smartrecruiters/models.py),
# or its reference, `order id:company id` (orders/visibility.py), where several companies sent
# the same order id.
ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}(:[^\x00-\x1f\x7f]{1,200})?$"
MAX_PAGE_SIZE = 200


class OrderFilter(BaseModel):
    """Which orders to list; every condition must hold. Durations are already parsed."""

    model_config = ConfigDict(extra="forbid")

    company: FilterValue | None = None
    vendor: FilterValue | None = None
    package: FilterValue | None = None
    status: OrderStatus | None = None
    older_than: timedelta | None = Field(None, description="Placed longer ago than this")
    expiring_within: timedelta | None = Field(
        None,
        description=(
            "Only open orders waiting for their candidate whose deadline (AssessmentDeadline) "
            "is at most this far ahead"
        ),
    )
    open: bool | None = Field(
        None, description="True: only orders still running; False: only finished ones"
    )
    stuck_for: timedelta | None = Field(
        None, description="Only orders stuck (an unfinished call, no progress) for this long"
    )
    failed: bool = Field(
        False,
        description=(
            "Only orders whose workflow failed (SR refused their final update: a reset repairs "
            "those), was terminated or timed out (past Temporal's history limits, or by hand): "
            "SR never heard how they ended"
        ),
    )
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = Field(None, max_length=4096)


class OrderSearch(BaseModel):
    """One way to find an order: its SR order id, the vendor's reference,
    or the candidate's email."""

    model_config = ConfigDict(extra="forbid")

    order_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    vendor_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)] | None = Field(
        None,
        description=(
            "The candidate's email, in any case; looked up by its keyed hash, never stored or "
            "logged"
        ),
    )

    @field_validator("order_id", "vendor_ref", "email")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        # Ids and addresses are printable text.
        return None if value is None else _printable(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> OrderSearch:
        given = [
            name for name in ("order_id", "vendor_ref", "email") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of order_id, vendor_ref and email")
        return self


class OrderSummary(BaseModel):
    """An order as Temporal's visibility lists it: no candidate data."""

    order_id: str
    reference: str = Field(
        description=(
            "The order's reference, `order id:company id`, which names it where SR's order id "
            "alone may not (the order id alone for orders received before references named the "
            "company)"
        )
    )
    workflow_id: str
    run_id: str | None = Field(
        None, description="The workflow run listed (a reset order has one per reset)"
    )
    status: str | None = Field(
        None, description="AssessmentOrderStatus: what SR was last told (RECEIVED before that)"
    )
    vendor: str | None = None
    package: str | None = None
    company: str | None = None
    workflow_status: str = Field(
        description="The workflow's own status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, …"
    )
    started_at: datetime
    closed_at: datetime | None = None
    deadline: datetime | None = Field(
        None,
        description=(
            "AssessmentDeadline: the candidate's deadline (as extended) while the order waits for "
            "them; none before the invitation, once the order is ending or has ended, and for "
            "orders received before the attribute existed"
        ),
    )
    last_progress_at: datetime | None = Field(
        None, description="Stuck orders: when the order last took a step"
    )
    stuck_on: str | None = Field(
        None, description="Stuck orders: the unfinished call, its attempts and last failure"
    )
    temporal_ui_url: str


class OrderPage(BaseModel):
    orders: list[OrderSummary]
    next_page_token: str | None = Field(
        None, description="Pass as page_token for the next page; none: this was the last"
    )


class OrderCandidate(BaseModel):
    """Candidate data, for the authorised operator's eyes only (never logged)."""

    first_name: str
    last_name: str
    email: str


class VendorDelivery(BaseModel):
    """One attempt at delivering a webhook to an API vendor (the Vendor API)."""

    at: datetime
    event: str
    webhook_id: str
    attempt: int
    outcome: str = Field(description="The vendor's HTTP status, or how the attempt failed")


class TimelineItem(BaseModel):
    """One line of an order's story: a step the order noted, a call to SR or the vendor, a
    webhook, or how the workflow ended."""

    at: datetime
    kind: Literal["step", "call", "webhook", "workflow"]
    what: str
    peer: str | None = Field(
        None, description="Calls: SmartRecruiters, the vendor, or both (the report)"
    )
    outcome: str | None = Field(
        None, description="Calls: completed, failed, timed out, cancelled, retrying or running"
    )
    attempts: int | None = Field(
        None, description="Calls: attempts so far (the vendor poll: polls)"
    )
    failure: str | None = Field(
        None,
        description="Calls: the last failure (of an earlier attempt, if the call then succeeded)",
    )
    finished_at: datetime | None = None


class OrderDetail(OrderSummary):
    """One order in full: its summary, what its state says, and its timeline."""

    run_id: str  # always known here
    state_from: Literal["query", "result", "history"] = Field(
        description=(
            "query: the running worker answered the state query; result: the finished "
            "workflow's result; history: only the history could be read"
        )
    )
    note: str | None = None
    candidate: OrderCandidate | None = None
    package_name: str | None = None
    job_title: str | None = None
    inline: bool | None = None
    vendor_account_id: str | None = None
    vendor_ref: str | None = None
    vendor_status: str | None = None
    sr_status: str | None = None
    deadline: datetime | None = Field(
        None,
        description=(
            "The candidate's deadline, from when the order was received, as extended; from the "
            "order's state, so kept once the order ended (unlike a listing's)"
        ),
    )
    revision_window_ends: datetime | None = Field(
        None,
        description=(
            "A result the vendor may revise: until when the order watches it for revisions (its "
            "workflow runs until then)"
        ),
    )
    score: float | None = None
    max_score: float | None = None
    outcome: str | None = None
    report_url: str | None = None
    revisions_posted: int | None = None
    sr_refusing_until: datetime | None = Field(
        None,
        description=(
            "SR refuses us for the order's company: until when the order tries its final "
            "update again"
        ),
    )
    undelivered: str | None = Field(
        None,
        description=(
            "UNDELIVERED orders: the final update SR never took (the result, if any, is kept "
            "for repost-result)"
        ),
    )
    webhooks_received: int | None = None
    duplicate_webhooks: int | None = None
    vendor_deliveries: list[VendorDelivery] | None = Field(
        None,
        description="API vendors: the latest attempts at delivering our webhooks to the vendor",
    )
    timeline: list[TimelineItem]


def _printable(value: str) -> str:
    """The value, if it is printable text: no control or format characters, which also keeps
    NULs and lone surrogates (unencodable) from the database driver. The message never quotes
    the value (it may be an email)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be printable text") from None
    if not value.isprintable():
        raise ValueError("must be printable text")
    return value


class RepairRequest(BaseModel):
    """An operator's repair of one order (admin/repairs.py): who, why,
    and for extend-deadline how long."""

    model_config = ConfigDict(extra="forbid")

    operator: str | None = Field(
        None,
        pattern=OPERATOR_PATTERN,
        description=(
            "Who repairs. Leave it out with your own operator key (the hub knows who you are); "
            "with the shared admin key, your handle (letters, digits, _ . @ + -; up to 64)"
        ),
    )
    reason: str = Field(
        pattern=REASON_PATTERN,
        description=(
            "Why, in 3 to 200 characters, no line breaks; recorded in the order's history. "
            "Never candidate data."
        ),
    )
    days: float | None = Field(
        None, gt=0, le=365, description="extend-deadline only: days added to the current deadline"
    )


# --- Orders: bulk repairs (admin/bulk_repairs.py) --------------------------------------------

# What became of one order of a bulk repair: a dry run's orders would be repaired or are refused,
# a real run's are repaired or refused; either can fail (Temporal did not answer).
BulkOutcome = Literal["would-repair", "repaired", "refused", "failed"]
BULK_FILTER_FIELDS = (
    "company",
    "vendor",
    "package",
    "status",
    "older_than",
    "expiring_within",
    "open",
    "stuck",
    "stuck_for",
    "failed",
)


class BulkRepairRequest(RepairRequest):
    """A repair of every order matching a filter (the listing's filters, as `GET /admin/orders`
    takes them), by an operator for a reason; a dry run unless `dry_run` is false."""

    company: FilterValue | None = Field(None, description="SmartRecruiters companyId")
    vendor: FilterValue | None = Field(
        None, description="The vendor: sandbox, hackerrank, checkr, testgorilla"
    )
    package: FilterValue | None = Field(None, description="Package id, e.g. skills-fullstack")
    status: OrderStatus | None = Field(
        None, description="AssessmentOrderStatus: what SR was last told"
    )
    older_than: str | None = Field(
        None, max_length=32, description="Placed longer ago than this: 30m, 12h, 3d, 2w, 1d12h"
    )
    expiring_within: str | None = Field(
        None,
        max_length=32,
        description=(
            "Only open orders waiting for their candidate whose deadline is at most this far "
            "ahead, e.g. 2d"
        ),
    )
    open: bool | None = Field(
        None,
        description=(
            "true: only orders still running (every running order, with no other filter); "
            "false: only finished ones"
        ),
    )
    stuck: bool = Field(False, description="Only stuck orders (ASSESSMENTS_STUCK_AFTER_HOURS)")
    stuck_for: str | None = Field(
        None, max_length=32, description="Only orders stuck for this long, e.g. 2h"
    )
    failed: bool = Field(
        False,
        description=(
            "Only orders whose workflow failed (SR refused their final update: a reset repairs "
            "those), was terminated or timed out (past Temporal's history limits, or by hand): "
            "SR never heard how they ended"
        ),
    )
    dry_run: bool = Field(
        True,
        description=(
            "true (the default): say what each order would do, change nothing; false: make the "
            "repairs"
        ),
    )

    def filter_fields(self) -> dict[str, Any]:
        """The filter as the operator gave it, for `admin.orders.order_filter`."""
        return {name: getattr(self, name) for name in BULK_FILTER_FIELDS}


class BulkRepairItem(BaseModel):
    """One order of a bulk repair, and what became of it."""

    order_id: str
    status: str | None = Field(
        None, description="AssessmentOrderStatus as listed, before the repair"
    )
    workflow_status: str = Field(
        description="The workflow's status as listed: RUNNING, COMPLETED, …"
    )
    outcome: BulkOutcome
    detail: str = Field(
        description=(
            "repaired: the order's timeline note; refused: the order's reason; failed: what "
            "went wrong; would-repair: what would be done"
        )
    )
    deadline: datetime | None = Field(
        None, description="repaired: the order's deadline after the repair"
    )
    sr_status: str | None = Field(
        None, description="repaired: what SR was last told after the repair"
    )


class BulkRepairAnswer(BaseModel):
    repair: str
    dry_run: bool
    examined: int = Field(
        description="Matching orders examined (at most ASSESSMENTS_BULK_REPAIR_LIMIT), newest first"
    )
    more_matched: bool = Field(
        description=(
            "More orders matched than were examined: narrow the filter (e.g. older_than) to "
            "reach the rest; the same request again examines the same newest orders"
        )
    )
    counts: dict[BulkOutcome, int] = Field(description="Orders by outcome")
    orders: list[BulkRepairItem]
