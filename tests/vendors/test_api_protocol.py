"""The Vendor API's rules (docs/vendor-api.md): status moves forward, a result may be revised, a
closed order takes nothing, the same PATCH twice changes nothing; and how the workflow reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from orders.models import VendorStatus
from store.vendor_api import ApiOrder
from vendors.api_protocol import (
    INVALID_TRANSITION,
    ORDER_CLOSED,
    Catalog,
    OrderPatch,
    Refused,
    apply,
    reading,
    result,
)

NOW = datetime(2026, 12, 7, tzinfo=UTC)
RESULT = {"score": 42, "max_score": 50, "label": "passed", "summary": "Solid work"}


def order(status: str = "PENDING", reported: dict | None = None, closed: str | None = None):
    return ApiOrder(
        id="ord_1",
        vendor_account_id="a",
        reference="o:c",
        details={},
        status=status,
        reported=reported or {},
        revision=3,
        closed_reason=closed,
        closed_at=None if closed is None else NOW,
        has_report=False,
        created_at=NOW,
        updated_at=NOW,
    )


def patched(current: ApiOrder, **fields) -> ApiOrder:
    decided = apply(current, OrderPatch.model_validate(fields))
    assert decided is not None
    status, reported = decided
    return order(status, reported)


@pytest.mark.parametrize(
    ("start", "then"),
    [
        ("PENDING", "IN_PROGRESS"),
        ("PENDING", "REJECTED"),
        ("IN_PROGRESS", "EXPIRED"),
        ("PENDING", "COMPLETED"),
    ],
)
def test_status_moves_forward(start, then):
    fields = {"status": then} | ({"result": RESULT} if then == "COMPLETED" else {})
    assert patched(order(start), **fields).status == then


@pytest.mark.parametrize(
    ("start", "then"),
    [
        ("IN_PROGRESS", "PENDING"),
        ("COMPLETED", "IN_PROGRESS"),
        ("REJECTED", "IN_PROGRESS"),
        ("EXPIRED", "REJECTED"),
    ],
)
def test_status_never_moves_back_or_out_of_an_end(start, then):
    with pytest.raises(Refused) as refused:
        apply(order(start), OrderPatch.model_validate(dict(status=then)))
    assert (refused.value.status, refused.value.code) == (409, INVALID_TRANSITION)
    assert start in refused.value.message and then in refused.value.message


def test_the_same_patch_twice_changes_nothing_even_at_an_end():
    done = patched(order("IN_PROGRESS"), status="COMPLETED", result=RESULT)
    assert apply(done, OrderPatch.model_validate(dict(status="COMPLETED", result=RESULT))) is None
    rejected = patched(order(), status="REJECTED", status_detail="declined")
    assert (
        apply(
            rejected, OrderPatch.model_validate(dict(status="REJECTED", status_detail="declined"))
        )
        is None
    )
    with pytest.raises(Refused):
        apply(rejected, OrderPatch(status_detail="changed my mind"))


def test_a_new_result_is_a_revision_the_workflow_sees():
    first = patched(order("IN_PROGRESS"), status="COMPLETED", result=RESULT)
    assert reading(first).status == VendorStatus.COMPLETED and reading(first).revision == "1"
    revised = patched(first, status="COMPLETED", result=RESULT | {"score": 45})
    assert reading(revised).revision == "2" and result(revised).score == 45


def test_a_closed_order_takes_no_change():
    with pytest.raises(Refused) as refused:
        apply(order(closed="expired"), OrderPatch.model_validate(dict(status="IN_PROGRESS")))
    assert (refused.value.code, "expired" in refused.value.message) == (ORDER_CLOSED, True)


def test_the_candidates_part_done_stops_the_candidates_deadline():
    working = patched(order(), status="IN_PROGRESS", candidate_done=True)
    assert reading(working).status == VendorStatus.PROCESSING
    assert reading(patched(order(), status="IN_PROGRESS")).status == VendorStatus.STARTED


def test_the_result_reads_as_every_vendors_does():
    done = patched(
        order(),
        status="COMPLETED",
        result=RESULT
        | {
            "result_url": "https://vendor.example/r/1",
            "submitted_at": "2026-12-07T10:00:00+01:00",
            "sub_results": [{"id": "t1", "name": "Algorithms", "score": 20, "max_score": 25}],
        },
    )
    read = result(done)
    assert (read.score, read.max_score, read.outcome, read.summary) == (
        42,
        50,
        "passed",
        "Solid work",
    )
    assert read.report_url == "https://vendor.example/r/1"
    assert read.submitted_at == datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert [(t.test_id, t.score, t.max_score) for t in read.tests] == [("t1", 20, 25)]
    assert result(order()) is None


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"status": "COMPLETED"},
        {"status": "IN_PROGRESS", "result": RESULT},
        {"status": "DONE"},
        {"status": "COMPLETED", "result": RESULT | {"score": 60}},
        {"status": "COMPLETED", "result": {"score": 1}},
        {"test_url": "javascript:alert(1)"},
        {"scroe": 5},
        {"status_detail": "x" * 201},
    ],
)
def test_malformed_patches_are_refused_by_shape(fields):
    with pytest.raises(ValidationError):
        OrderPatch.model_validate(fields)


def test_a_catalog_names_each_package_once_and_is_bounded():
    package = {"id": "p1", "name": "Python"}
    assert Catalog.model_validate({"packages": [package]}).packages[0].deadline_days == 7
    with pytest.raises(ValidationError):
        Catalog.model_validate({"packages": [package, package]})
    with pytest.raises(ValidationError):
        Catalog.model_validate({"packages": [{"id": f"p{i}", "name": "x"} for i in range(501)]})
    with pytest.raises(ValidationError):
        Catalog.model_validate({"packages": [{"id": "p 1", "name": "x"}]})
