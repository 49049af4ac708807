"""SR's `resultCallbackURL`: where an order's results go, and the order id we derive from it.

SR's order request carries no order id. The spec's result operation is
`PATCH /orders/{orderId}/results`, so the id is read from a callback of that shape (a trailing
slash or a query changes nothing). A callback of another shape still names one order: we derive
a stable id from it, so SR's repeat of the order joins the same workflow, and results go to the
callback itself, whatever its shape.

An order id is a path segment of SR's URL, part of our order reference (`{orderId}:{companyId}`,
orders/visibility.py, split at the first ':'), of workflow ids, vendor references and a store
key of 128 characters: so it is 1 to 128 of `A-Za-z0-9_-`, never a ':'.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from origins import SMARTRECRUITERS_API_ORIGINS, origin_of

ORDER_ID_PATTERN = r"[A-Za-z0-9_-]{1,128}"
_DOCUMENTED = re.compile(rf"/orders/({ORDER_ID_PATTERN})/results(/?)$")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
# The id of a callback that names no order id we can read: its digest, marked as ours.
DIGEST_PREFIX = "cb-"

# Where the report of an order with a callback of another shape is uploaded: at the callback's
# path plus /attachment, as the documented shape has it (our assumption), or nowhere (the report
# link then goes in the result's attachments).
OtherCallbackAttachment = Literal["append", "none"]


@dataclass(frozen=True)
class ResultCallback:
    url: str
    order_id: str
    # How the callback is shaped, as the first-seen log names it (fixed names, never the URL).
    shape: str

    @property
    def documented(self) -> bool:
        return self.shape.startswith("…/orders/{id}/results")


def read_callback(url: str) -> ResultCallback | None:
    """The callback and its order id; None when `url` is not an absolute http(s) URL, or has a
    `.` or `..` path segment: HTTP clients resolve those before sending, so the order id read
    here would not be the one in the URL SR sees (…/orders/{ours}/results/{another's}/..)."""
    if origin_of(url) is None:
        return None
    parts = urlsplit(url)
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        return None
    if match := _DOCUMENTED.search(parts.path):
        shape = (
            "…/orders/{id}/results"
            + (" (trailing slash)" if match.group(2) else "")
            + (" (with query)" if parts.query else "")
        )
        return ResultCallback(url, match.group(1), shape)
    # Another shape: the digest of the URL without its fragment names the order, so two orders
    # never share an id (a UUID in the path may be the candidate's or the job's, not the order's).
    # The query is part of it, since it may be what tells orders apart (…/results?order=…); its
    # parameters are sorted, so their order in SR's repeat does not matter. The path's last UUID,
    # if any, leads the id, so operators find the order by it (ids are searched by prefix).
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    canonical = f"{origin_of(url)}{parts.path or '/'}?{query}"
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    uuids = [segment for segment in parts.path.split("/") if _UUID.match(segment)]
    if uuids:
        return ResultCallback(
            url,
            f"{uuids[-1]}_{DIGEST_PREFIX}{digest[:24]}",
            "other path (order id is its last UUID segment and a digest of the URL)",
        )
    return ResultCallback(
        url, f"{DIGEST_PREFIX}{digest[:40]}", "other path (order id is a digest of the URL)"
    )


def attachment_url(
    callback_url: str, other_shapes: OtherCallbackAttachment = "append"
) -> str | None:
    """Where the order's report file is uploaded; None: nowhere (its link goes in the result).

    The documented shape has it at `{callback path}/attachment` (the spec's
    `/orders/{orderId}/results/attachment`); the callback's query is kept there too.
    """
    callback = read_callback(callback_url)
    if callback is None or (not callback.documented and other_shapes == "none"):
        return None
    parts = urlsplit(callback_url)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path.rstrip("/") + "/attachment", parts.query, "")
    )


def callback_origins(configured: list[str], sr_base_url: str) -> list[str]:
    """The origins a callback may be on: those configured, else SR's API host; and always
    SR_BASE_URL's, where our token goes anyway. Not SR's every subdomain: our token and the
    candidate's result must not go to SR's web, help or marketing hosts."""
    base = origin_of(sr_base_url)
    return [*(configured or SMARTRECRUITERS_API_ORIGINS), *([base] if base else [])]
