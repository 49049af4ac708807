"""What operators can filter orders by in the Temporal UI: keywords and the candidate's deadline,
never PII."""

from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)

from orders.models import Order

ORDER_STATUS = SearchAttributeKey.for_keyword("AssessmentOrderStatus")
VENDOR = SearchAttributeKey.for_keyword("AssessmentVendor")
PACKAGE = SearchAttributeKey.for_keyword("AssessmentPackage")
COMPANY = SearchAttributeKey.for_keyword("SmartRecruitersCompany")
# The candidate's deadline while the order waits for them (the order's state's `deadline`, as
# extended): set by the workflow once it has it (not at the start), removed once the order no
# longer waits (its final status is being told to SR, or it is cancelled). Listings of open orders
# "expiring soon" filter on it.
DEADLINE = SearchAttributeKey.for_datetime("AssessmentDeadline")

ALL = (ORDER_STATUS, VENDOR, PACKAGE, COMPANY, DEADLINE)
# Each attribute's type as the temporal CLI names it (`--search-attribute Name=Type`).
CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


def initial_search_attributes(order: Order) -> TypedSearchAttributes:
    """An order's search attributes as its workflow starts, before SR has seen anything."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(ORDER_STATUS, "RECEIVED"),
            SearchAttributePair(VENDOR, order.vendor),
            SearchAttributePair(PACKAGE, order.package_id),
            SearchAttributePair(COMPANY, order.company_id),
        ]
    )


# Order statuses beside SR's own: SR refuses our updates for the order's company (the company is
# not connected, or was disconnected at SR) and the order keeps trying; and, once it gave up
# (ASSESSMENTS_SR_REFUSAL_GIVE_UP_DAYS), the order ended without SR hearing how, result kept.
SR_REFUSING = "SR_REFUSING"
UNDELIVERED = "UNDELIVERED"

WORKFLOW_ID_PREFIX = "assessment-order:"
# The visibility query condition every listing of orders starts from.
ORDER_WORKFLOWS = 'WorkflowType = "AssessmentOrderWorkflow"'
# Orders whose workflow ended without telling SR how: failed (SR refused the final update), or
# ended by Temporal (terminated, by hand or past its history limits; timed out). Each needs an
# operator.
FAILED_ORDERS = 'ExecutionStatus IN ("Failed", "Terminated", "TimedOut")'


# An order's reference is our name for it everywhere SR's order id alone is not enough: its
# workflow id, our reference at the vendor, its webhook URL and our indexes. SR's order ids are
# unique at SR, but any company can send any id, so the reference names the company too, and one
# company's order can never be joined, read or stirred through another company's order. Order id
# first: an operator's lookup by SR's order id alone finds every company's order with that id
# (and an order received before references named the company) by one prefix; order ids hold no
# ':' (smartrecruiters/models.py), company ids may, so the first ':' splits them.
def order_reference(order_id: str, company_id: str) -> str:
    return f"{order_id}:{company_id}"


def workflow_id(reference: str) -> str:
    """The workflow id of the order with this reference (or, before references named the
    company, of the order with this SR order id)."""
    return f"{WORKFLOW_ID_PREFIX}{reference}"


def reference_of(workflow_id: str) -> str | None:
    """The order reference an order's workflow id holds; None for any other workflow's id."""
    return (
        workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
        if workflow_id.startswith(WORKFLOW_ID_PREFIX)
        else None
    )


def order_id_of(workflow_id: str) -> str | None:
    """SR's order id in an order's workflow id; None for any other workflow's id."""
    reference = reference_of(workflow_id)
    return None if reference is None else order_id_in(reference)


def order_id_in(reference: str) -> str:
    return reference.partition(":")[0]


def company_of(reference: str) -> str | None:
    """The company a reference names; None for an order received before references named it."""
    _, colon, company_id = reference.partition(":")
    return company_id if colon else None
