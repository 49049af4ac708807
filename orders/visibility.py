"""What operators can filter orders by in the Temporal UI. Keyword only, and never PII."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("AssessmentOrderStatus")
VENDOR = SearchAttributeKey.for_keyword("AssessmentVendor")
PACKAGE = SearchAttributeKey.for_keyword("AssessmentPackage")
COMPANY = SearchAttributeKey.for_keyword("SmartRecruitersCompany")

ALL = (ORDER_STATUS, VENDOR, PACKAGE, COMPANY)

WORKFLOW_ID_PREFIX = "assessment-order:"
# The visibility query condition every listing of orders starts from.
ORDER_WORKFLOWS = 'WorkflowType = "AssessmentOrderWorkflow"'


def workflow_id(order_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{order_id}"


def order_id_of(workflow_id: str) -> str | None:
    """The order an order's workflow id names; None for any other workflow's id."""
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX) if workflow_id.startswith(WORKFLOW_ID_PREFIX) else None
