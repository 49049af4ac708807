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

