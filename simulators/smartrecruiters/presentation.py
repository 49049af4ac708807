"""How SmartRecruiters shows an order (as a card on the candidate profile, and in its API) and a
company's connection with the partner's app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# SR does not document its UI labels (Gap 5); these mirror what its candidate profile shows.
STATUS_LABELS = {
    "PENDING": "Pending",
    "IN_PROGRESS": "In progress",
    "COMPLETED": "Completed",
    "REJECTED": "Rejected",
    "EXPIRED": "Expired",
}


def status_label(order: dict[str, Any]) -> str:
    status = order["result"].get("status")
    if status:
        return STATUS_LABELS[status]
    return "Not sent" if delivery_problem(order) else "Sent"


# What a recruiter reads when an order did not reach the partner: what happened and what to do,
# in plain words (SR documents none of its wording: our assumption); the technical detail apart.
_UNREACHABLE = (
    "The assessment partner could not be reached or gave an answer SmartRecruiters could not "
    "read, so the order was not sent. Try again later; if it keeps failing, tell your admin."
)
_REFUSALS = {
    401: "The assessment partner did not accept this company's connection. Ask your "
    "SmartRecruiters admin to connect the integration again.",
    404: "The assessment partner does not offer this package. Order another one, or ask your "
    "admin to choose another package for the hiring step.",
    429: "The assessment partner is busy, so the order was not sent. Try again in a few minutes.",
}
_REFUSALS[403] = _REFUSALS[401]
_INVALID = (
    "The assessment partner refused the order as incomplete or invalid. Check the candidate's "
    "email and the job, then order again, or tell your admin."
)
_PARTNER_DOWN = (
    "The assessment partner had a problem, so the order was not sent. Try again in a few minutes."
)


def delivery_problem(order: dict[str, Any]) -> str | None:
    status = order["partner_status"]
    if status is None:
        return _UNREACHABLE if order["partner_error"] else None
    if status < 400:
        return None
    if status in _REFUSALS:
        return _REFUSALS[status]
    return _PARTNER_DOWN if status >= 500 else _INVALID


def delivery_detail(order: dict[str, Any]) -> str | None:
    """The technical reason beside the plain words, for whoever the recruiter asks for help."""
    if order["partner_error"]:
        return order["partner_error"]
    status = order["partner_status"]
    return f"The partner answered HTTP {status}" if status is not None and status >= 400 else None


def score_text(score: dict[str, int] | None) -> str | None:
    """SR shows a score as "raw/max"; the lower bound only affects the percentage."""
    return f"{score['raw']}/{score['max']}" if score else None


def score_percent(score: dict[str, int] | None) -> int | None:
    """The share a score is of its range, where it says more than the score: not for a score
    out of 100 (0–100), whose raw value is its percentage already."""
    if not score or score["max"] == score["min"] or (score["min"], score["max"]) == (0, 100):
        return None
    return round(100 * (score["raw"] - score["min"]) / (score["max"] - score["min"]))


def report_links(order: dict[str, Any]) -> list[dict[str, str]]:
    """Uploaded files, then any result attachment that carries its own URL, each URL once."""
    links = {a["url"]: a["filename"] for a in order["attachments"]}
    for attachment in order["result"].get("attachments", []):
        url = attachment.get("url")
        if _is_web_url(url) and url not in links:
            links[url] = attachment.get("name") or attachment.get("fileName") or url
    return [{"url": url, "name": name} for url, name in links.items()]


# How a result's label reads at a glance (its badge's colour): an outcome that lets the candidate
# on, one that asks the recruiter to look, or neither (a personality type, say).
_GOOD_LABELS = frozenset({"passed", "pass", "clear", "eligible", "hire", "recommended"})
_ATTENTION_LABELS = frozenset(
    {"failed", "fail", "consider", "not eligible", "rejected", "suspended", "dispute"}
)


def label_tone(label: str | None) -> str:
    words = (label or "").strip().lower()
    if words in _GOOD_LABELS:
        return "good"
    return "attention" if words in _ATTENTION_LABELS else "neutral"


def package_name(order: dict[str, Any], catalog_names: dict[str, str]) -> str:
    package_id = order["package_id"]
    return order["result"].get("name") or catalog_names.get(package_id) or package_id


def order_card(order: dict[str, Any], catalog_names: dict[str, str]) -> dict[str, Any]:
    """What the candidate profile shows for one order."""
    result = order["result"]
    score = result.get("score")
    return {
        "order_id": order["order_id"],
        "package_id": order["package_id"],
        "package_name": package_name(order, catalog_names),
        "trigger": order["trigger"],
        "kind": order["kind"],
        "created_at": order["created_at"],
        "status": status_label(order),
        "delivery_problem": delivery_problem(order),
        "delivery_detail": delivery_detail(order),
        "score": score_text(score),
        "percent": score_percent(score),
        "score_label": result.get("scoreLabel"),
        "label_tone": label_tone(result.get("scoreLabel")),
        "summary": result.get("summary"),
        "tests": [
            {
                "name": test.get("name") or test.get("assessmentName") or test["assessmentId"],
                "score": score_text(test.get("score")),
                "status": STATUS_LABELS.get(test.get("status"), ""),
            }
            for test in result.get("assessmentResults", [])
        ],
        "reports": report_links(order),
        # An inline order's answer is the link that takes the candidate into the assessment (as
        # SR read it when the partner answered).
        "candidate_url": order.get("candidate_url"),
    }


def assessment_order(order: dict[str, Any]) -> dict[str, Any]:
    """The order in the shape of SR's Customer API `AssessmentOrder`."""
    result = order["result"]
    return {
        "orderId": order["order_id"],
        "applicationId": order["application_id"],
        "summary": result.get("summary"),
        "assessmentPackageDate": result.get("assessmentPackageDate"),
        "submissionDate": result.get("submissionDate"),
        "assessmentPackageName": package_name(order, {}),
        "status": result.get("status"),
        "score": score_text(result.get("score")),
        "scoreLabel": result.get("scoreLabel"),
        "attachments": report_links(order),
        "assessments": result.get("assessmentResults", []),
    }


def integration_state(company: dict[str, Any]) -> str:
    """How "Apps & Integrations" describes a company's connection with the partner's app."""
    if company["integrated"]:
        return "Connected"
    if company["consented"]:
        return "Consent given, waiting for the partner"
    disconnect = company["last_disconnect"]
    if disconnect is not None:
        if disconnect["partner_status"] is not None:
            return f"Disconnected (the partner answered {disconnect['partner_status']})"
        return f"Disconnected (the partner was not told: {disconnect['partner_error']})"
    if company["embedded"]:
        return "Not connected (uses the embedded credentials)"
    return "Not connected"


def _is_web_url(url: Any) -> bool:
    # Partner-supplied links end up in an href; anything but http(s) (e.g. javascript:) is dropped.
    return isinstance(url, str) and urlsplit(url).scheme in ("http", "https")
