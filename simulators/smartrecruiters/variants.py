"""How this simulated SmartRecruiters behaves where SR's public record is silent.

Each field is one open point of the protocol (docs/smartrecruiters-protocol.md lists them with
their evidence); each value is one plausible way the real SR may behave. Tests switch variants at
run time (`PUT /__sim/variants`) so that the service is proven against every one of them, not
only against the guess it was built on. The defaults are the forms we think most likely.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Variants(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The host of the resultCallbackURL SR gives with an order: the simulator's own public URL
    # ("api"), or another of SR's origins that reaches the same simulator ("alias").
    callback_host: Literal["api", "alias"] = "api"
    # The path of resultCallbackURL: "results" is /assessment-api/v202010/orders/{id}/results;
    # "trailing-slash" adds a final slash; "query" adds a query string; "other" is a path of
    # another shape, with no /orders/{id}/results in it.
    callback_path: Literal["results", "trailing-slash", "query", "other"] = "results"
    # How SR encodes the `requester` header of GET /packages: a JSON object, the bare email,
    # or no header at all.
    requester_header: Literal["json", "email", "none"] = "json"
    # Which key of the inline order's answer SR reads the candidate's link from.
    inline_key: Literal["url", "assessmentPackageURL"] = "url"
    # Whether SR's DELETE on integrationDisableUrl carries a bearer token of the company.
    disconnect_auth: Literal["bearer", "none"] = "bearer"
    # Whether SR revokes the company's SR-issued credentials after it calls integrationDisableUrl
    # ("after-delete") or before ("before-delete").
    disconnect_revokes: Literal["after-delete", "before-delete"] = "after-delete"
    # The origin of the `redirect` SR appends to the consent URL: SR's web app ("web", e.g.
    # https://www.smartrecruiters.com) or the simulator's own origin ("simulator").
    consent_redirect: Literal["web", "simulator"] = "simulator"
    # How SR fills an id into a registered URL (singleAssessmentPackageUrl,
    # integrationDisableUrl): replaces a `{…}` placeholder, or appends it as a path segment (after
    # the placeholder, if the URL has one). A URL without a placeholder gets it appended either way.
    url_expansion: Literal["placeholder", "append"] = "placeholder"
    # Which media types SR's result PATCH accepts (415 for others).
    patch_media_type: Literal["json", "merge-patch", "both"] = "both"
    # Whether SR takes `attachments` (a report link) in a result PATCH: its spec lists the field but
    # says adding attachments to inline orders is not supported, and its Attachment schema is a
    # merge of other SR schemas. "refused": a PATCH carrying any is a 400.
    result_attachments: Literal["accepted", "refused"] = "accepted"
    # How SR presents its client credentials at the partner's token endpoint.
    token_auth: Literal["form", "basic"] = "form"
    # Whether SR keeps its published SmartAPI limits (10 requests in any second and 8 in flight per
    # credential, 429 beyond) on the assessment API too: nothing says they apply there.
    rate_limits: Literal["none", "enforced"] = "none"
