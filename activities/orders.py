"""Activities of the order workflow: thin wrappers over the SmartRecruiters client and vendor
adapters.

Each turns a PeerError into an ApplicationError carrying the retry decision; the workflow's
retry policies do the retrying.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePosixPath

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from connections.smartrecruiters_clients import SmartRecruitersClients
from orders import activity_names
from orders.models import (
    Invitation,
    Order,
    PollRequest,
    ReportLink,
    ReportTransfer,
    SrUpdateRequest,
    StatusReading,
    VendorRef,
    VendorResult,
    VendorStatus,
)
from orders.visibility import reference_of
from peers import (
    CREDENTIALS_REFUSED,
    INVITATION_UNKNOWN,
    PEER_REJECTED,
    PEER_UNAVAILABLE,
    CallDeferred,
    PeerError,
)
from smartrecruiters.client import AccessRefused
from smartrecruiters.models import package_result_patch
from store import ReferenceConflict
from vendors.base import VendorAdapter
from vendors.registry import UnknownAdapter, Vendors

# A vendor poll that found no news fails with this type, benign and retryable: the poll's retry
# policy asks again at the order's poll interval, and the attempts stay out of the history.
STATUS_UNCHANGED = "VendorStatusUnchanged"
# SR refuses us for the order's company (smartrecruiters/client.py AccessRefused): not the
# update's fault, so the workflow tries it again for a while rather than failing the order.
SR_REFUSING = "SmartRecruitersRefusing"


# A vendor refusing our credentials (401, 403) is its account's problem, not the order's: the call
# is retried at this pace until an operator fixes the account, instead of rejecting every order.
# So is a vendor answering 404 for an invitation of ours: it lost its records, or the account's
# key is another account's; the order is held, not ended, and its poll asks again at this pace.
HELD_ORDER_RETRY = timedelta(minutes=5)


def attachment_filename(title: str, day: date, vendor_filename: str) -> str:
    """The name the report goes to SR under: "<title> report <YYYY-MM-DD>.pdf".

    Vendors name their files after their ids and sometimes the candidate; file names end up in
    logs and in the recruiter's downloads, so neither is kept. ASCII only (accents dropped,
    anything else a space), since how SR stores other file names is not documented; the vendor's
    extension stays.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Za-z0-9.()&+-]+", " ", ascii_title).strip(" .")[:80].strip()
    extension = PurePosixPath(vendor_filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", extension):
        extension = ".pdf"
    return f"{words or 'Assessment'} report {day.isoformat()}{extension}"


@contextlib.contextmanager
def peer_errors(
    *,
    credentials_of_vendor_account: bool = False,
    unknown_invitation_held: bool | None = None,
    sr_refusing: bool = False,
) -> Iterator[None]:
    """`unknown_invitation_held` is for status reads: a 404 is INVITATION_UNKNOWN, never a final
    refusal; True holds the order (retried at the pace of refused credentials), False reports it
    to the workflow, which knows whether it withdrew the invitation itself. `sr_refusing`: SR
    refusing us for the company is SR_REFUSING, final for this call; the workflow decides how
    long to try again."""
    try:
        yield
    except PeerError as err:
        if not isinstance(err, CallDeferred):
            activity.metric_meter().create_counter(
                "assessment_peer_errors", "Failed calls to SR and vendors, by peer and HTTP status"
            ).add(1, {"peer": err.peer, "status": str(err.status or "no answer")})
        if sr_refusing and isinstance(err, AccessRefused):
            activity.logger.warning(
                "SmartRecruiters refuses our updates for this order's company (HTTP %s); "
                "the order tries again for a while",
                err.status,
            )
            raise ApplicationError(
                f"{err}: SmartRecruiters refuses us for this company",
                type=SR_REFUSING,
                non_retryable=True,
            ) from None
        if credentials_of_vendor_account and err.status in (401, 403):
            activity.logger.error(
                "%s refused the vendor account's credentials; fix the account (orders wait)",
                err.peer,
            )
            raise ApplicationError(
                str(err), type=CREDENTIALS_REFUSED, next_retry_delay=HELD_ORDER_RETRY
            ) from None
        if unknown_invitation_held is not None and err.status == 404:
            message = f"{err}: the vendor does not know the invitation"
            if unknown_invitation_held:
                message += (
                    "; the order is held, asking again every "
                    f"{HELD_ORDER_RETRY.total_seconds() / 60:g} minutes"
                )
                activity.metric_meter().create_counter(
                    "assessment_vendor_not_found",
                    "Status polls of orders held because the vendor answered 404, by peer",
                ).add(1, {"peer": err.peer})
                activity.logger.error(
                    "%s does not know this order's invitation (404); the order is held "
                    "until it does",
                    err.peer,
                )
            raise ApplicationError(
                message,
                type=INVITATION_UNKNOWN,
                non_retryable=not unknown_invitation_held,
                next_retry_delay=HELD_ORDER_RETRY,
            ) from None
        raise ApplicationError(
            str(err),
            type=PEER_REJECTED if not err.retryable else PEER_UNAVAILABLE,
            non_retryable=not err.retryable,
            next_retry_delay=timedelta(seconds=err.retry_after) if err.retry_after else None,
            # A call our own budget put off is not a failure worth logging or alerting on.
            category=ApplicationErrorCategory.BENIGN
            if isinstance(err, CallDeferred)
            else ApplicationErrorCategory.UNSPECIFIED,
        ) from None


def vendor_errors(
    *, unknown_invitation_held: bool | None = None
) -> contextlib.AbstractContextManager[None]:
    return peer_errors(
        credentials_of_vendor_account=True, unknown_invitation_held=unknown_invitation_held
    )


class OrderActivities:
    def __init__(self, smartrecruiters: SmartRecruitersClients, vendors: Vendors) -> None:
        self._sr = smartrecruiters
        self._vendors = vendors

    @contextlib.asynccontextmanager
    async def _vendor(self, vendor_account_id: str | None) -> AsyncIterator[VendorAdapter]:
        """The order's vendor adapter, held open for the calls made in the block."""
        try:
            async with self._vendors.using(vendor_account_id) as adapter:
                yield adapter
        except UnknownAdapter:
            raise ApplicationError(
                "the order's vendor account has no usable adapter",
                type=PEER_REJECTED,
                non_retryable=True,
            ) from None

    @activity.defn(name=activity_names.CREATE_INVITATION)
    async def create_invitation(self, order: Order) -> Invitation:
        # Operators find orders by the candidate's email through this index (a keyed hash); it is
        # written here, before the vendor hears of the order, rather than while SR waits at intake.
        await self._vendors.remember_candidate(order.candidate.email, order.reference)
        with vendor_errors():
            async with self._vendor(order.vendor_account_id) as vendor:
                invitation = await vendor.create_invitation(
                    order, self._vendors.callback_for(vendor.name, order.reference)
                )
        try:
            await self._vendors.remember_invitation(
                order.vendor_account_id, invitation, order.reference
            )
        except ReferenceConflict:
            raise ApplicationError(
                "the vendor reused a reference of another order",
                type=PEER_REJECTED,
                non_retryable=True,
            ) from None
        return invitation

    @activity.defn(name=activity_names.GET_VENDOR_STATUS)
    async def get_vendor_status(self, ref: VendorRef) -> StatusReading:
        with vendor_errors(unknown_invitation_held=False):
            async with self._vendor(ref.vendor_account_id) as vendor:
                return await vendor.get_status(ref.ref)

    @activity.defn(name=activity_names.POLL)
    async def await_vendor_change(self, request: PollRequest) -> StatusReading:
        """One poll; while nothing changed it fails benignly and the retry policy polls again."""
        with vendor_errors(unknown_invitation_held=True):
            async with self._vendor(request.vendor.vendor_account_id) as vendor:
                reading = await vendor.get_status(request.vendor.ref)
        # A value the adapter does not know changes nothing, so it is no news either.
        if reading.status == VendorStatus.UNKNOWN or reading == request.known:
            raise ApplicationError(
                "vendor status unchanged",
                type=STATUS_UNCHANGED,
                category=ApplicationErrorCategory.BENIGN,
            )
        return reading

    @activity.defn(name=activity_names.READ_RESULT)
    async def get_vendor_result(self, ref: VendorRef) -> VendorResult:
        with vendor_errors():
            async with self._vendor(ref.vendor_account_id) as vendor:
                return await vendor.get_result(ref.ref)

    @activity.defn(name=activity_names.CANCEL_INVITATION)
    async def cancel_invitation(self, ref: VendorRef) -> None:
        with vendor_errors():
            async with self._vendor(ref.vendor_account_id) as vendor:
                await vendor.cancel_invitation(ref.ref)

    @activity.defn(name=activity_names.ABANDON_INVITATION)
    async def abandon_invitation(self, order: Order) -> None:
        with vendor_errors():
            async with self._vendor(order.vendor_account_id) as vendor:
                await vendor.abandon_invitation(order.reference)

    @activity.defn(name=activity_names.RESEND_INVITATION)
    async def resend_invitation(self, ref: VendorRef) -> None:
        """Ask the vendor to email the candidate's invitation again (an operator's repair).

        Only vendors whose capabilities say `resend` can: creating the invitation again would not
        do it, since every adapter's create_invitation is idempotent per order (it returns the
        existing invitation and sends no second email).
        """
        with vendor_errors():
            async with self._vendor(ref.vendor_account_id) as vendor:
                if not vendor.capabilities.resend:
                    raise ApplicationError(
                        f"{vendor.name} offers no resend through this integration",
                        type=PEER_REJECTED,
                        non_retryable=True,
                    )
                # An order's workflow id holds its reference (orders/visibility.py), whose callback
                # the vendor keeps.
                workflow_id = activity.info().workflow_id or ""
                reference = (
                    reference_of(workflow_id) or workflow_id
                )  # only order workflows run this
                await vendor.resend_invitation(
                    ref.ref, self._vendors.callback_for(vendor.name, reference)
                )

    @activity.defn(name=activity_names.TRANSFER_REPORT)
    async def transfer_report(self, transfer: ReportTransfer) -> ReportLink:
        """Download the report from the vendor and upload it to SR in one step.

        The file never enters workflow history, and vendor links that expire are used at once.
        """
        with vendor_errors():
            async with self._vendor(transfer.vendor.vendor_account_id) as vendor:
                report = await vendor.download_report(transfer.vendor.ref)
        if report is None:
            return ReportLink()
        with peer_errors(sr_refusing=True):
            sr = await self._sr.for_company(transfer.company_id)
            # Orders from before the package name was passed on name the vendor instead.
            filename = attachment_filename(
                transfer.package_name or transfer.vendor.vendor.replace("_", " ").title(),
                datetime.now(UTC).date(),
                report.filename,
            )
            url = await sr.upload_attachment(
                transfer.order_id,
                filename,
                report.content,
                report.content_type,
                transfer.result_callback_url,
            )
        return ReportLink(url=url)

    @activity.defn(name=activity_names.POST_TO_SMARTRECRUITERS)
    async def update_smartrecruiters(self, request: SrUpdateRequest) -> None:
        patch = package_result_patch(request.update)
        with peer_errors(sr_refusing=True):
            sr = await self._sr.for_company(request.company_id)
            try:
                await sr.patch_result(request.order_id, patch, request.result_callback_url)
            except PeerError as err:
                if err.status != 400 or "attachments" not in patch:
                    raise
                # SR's spec leaves open whether a result may carry report links: a result SR
                # refuses with one goes again without it, so SR still gets the result.
                activity.logger.warning(
                    "SmartRecruiters refused the result with a report link; posted without it"
                )
                await sr.patch_result(
                    request.order_id,
                    {k: v for k, v in patch.items() if k != "attachments"},
                    request.result_callback_url,
                )
        await self._sr.order_accepted(request.order_id, request.company_id)

    @activity.defn(name=activity_names.POST_ONCE_SMARTRECRUITERS_LISTENS)
    async def update_smartrecruiters_once_it_listens(self, request: SrUpdateRequest) -> None:
        """An update SR refused us for (SR_REFUSING), tried again: the refusal is retried here,
        at the pace of the workflow's retry policy and until its schedule-to-close timeout."""
        try:
            await self.update_smartrecruiters(request)
        except ApplicationError as err:
            if err.type != SR_REFUSING:
                raise
            raise ApplicationError(err.message, type=SR_REFUSING) from None

    def all(self) -> list:
        return [
            self.create_invitation,
            self.get_vendor_status,
            self.await_vendor_change,
            self.get_vendor_result,
            self.cancel_invitation,
            self.abandon_invitation,
            self.resend_invitation,
            self.transfer_report,
            self.update_smartrecruiters,
            self.update_smartrecruiters_once_it_listens,
        ]
