"""SR's resultCallbackURL: the order id we derive from any shape, and where the report goes."""

import re

import pytest

from orders.visibility import company_of, order_id_in, order_reference
from origins import origin_allowed
from smartrecruiters.callbacks import attachment_url, callback_origins, read_callback

ORDER = "6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11"
API = "https://api.smartrecruiters.com/assessment-api/v202010"


@pytest.mark.parametrize(
    ("callback", "shape"),
    [
        (f"{API}/orders/{ORDER}/results", "…/orders/{id}/results"),
        (f"{API}/orders/{ORDER}/results/", "…/orders/{id}/results (trailing slash)"),
        (f"{API}/orders/{ORDER}/results?sig=abc", "…/orders/{id}/results (with query)"),
    ],
)
def test_the_order_id_is_read_where_the_callback_names_it(callback, shape):
    read = read_callback(callback)
    assert (read.order_id, read.shape) == (ORDER, shape)


def test_a_uuid_in_a_path_of_another_shape_leads_the_id_but_never_joins_two_orders():
    """The UUID may be the candidate's or the job's: two orders of one candidate stay two."""
    first = read_callback(f"{API}/candidates/{ORDER}/assessment-orders/1/result")
    second = read_callback(f"{API}/candidates/{ORDER}/assessment-orders/2/result")
    assert first.shape == "other path (order id is its last UUID segment and a digest of the URL)"
    assert first.order_id.startswith(f"{ORDER}_cb-") and second.order_id.startswith(f"{ORDER}_cb-")
    assert first.order_id != second.order_id
    assert (
        first.order_id
        == read_callback(f"{API}/candidates/{ORDER}/assessment-orders/1/result").order_id
    )
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", first.order_id)


@pytest.mark.parametrize(
    "callback",
    [
        # HTTP clients resolve dot segments:
        # the PATCH would go to another order's URL than the id read.
        f"{API}/orders/{ORDER}/results/6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11/..",
        f"{API}/orders/{ORDER}/results/x/%2e%2e",
        f"{API}/orders/./{ORDER}/results",
    ],
)
def test_a_callback_with_dot_segments_names_no_order(callback):
    assert read_callback(callback) is None


def test_a_callback_without_a_readable_id_gets_a_stable_digest_that_tells_orders_apart():
    one = read_callback(f"{API}/results?order=1&company=acme").order_id
    assert (
        one == read_callback(f"{API}/results?company=acme&order=1").order_id
    )  # the same order, repeated
    assert (
        one
        == read_callback(
            "HTTPS://API.SmartRecruiters.com/assessment-api/v202010/results?order=1&company=acme"
        ).order_id
    )
    assert one != read_callback(f"{API}/results?order=2&company=acme").order_id
    assert (
        one
        != read_callback(
            "https://eu.smartrecruiters.com/assessment-api/v202010/results?order=1&company=acme"
        ).order_id
    )
    opaque = read_callback(f"{API}/assessment-results/Zm9vYmFyYmF6:x").order_id
    assert (
        read_callback(f"{API}/assessment-results/Zm9vYmFyYmF6:x").shape
        == "other path (order id is a digest of the URL)"
    )
    for order_id in (one, opaque):
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", order_id)
        # Our reference splits at the first ':': the derived id never holds one.
        reference = order_reference(order_id, "company:with:colons")
        assert (order_id_in(reference), company_of(reference)) == (order_id, "company:with:colons")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://sr.example/orders/a/results",
        "orders/a/results",
        "https://user:pw@sr.example/orders/a/results",
        "https://[::1/x",
    ],
)
def test_only_absolute_web_urls_are_callbacks(url):
    assert read_callback(url) is None


def test_the_report_goes_beside_a_documented_callback_and_as_the_setting_says_beside_another():
    assert (
        attachment_url(f"{API}/orders/{ORDER}/results")
        == f"{API}/orders/{ORDER}/results/attachment"
    )
    assert (
        attachment_url(f"{API}/orders/{ORDER}/results/")
        == f"{API}/orders/{ORDER}/results/attachment"
    )
    assert (
        attachment_url(f"{API}/orders/{ORDER}/results?sig=abc")
        == f"{API}/orders/{ORDER}/results/attachment?sig=abc"
    )
    assert (
        attachment_url(f"{API}/orders/{ORDER}/results", "none")
        == f"{API}/orders/{ORDER}/results/attachment"
    )
    assert (
        attachment_url(f"{API}/assessment-results/opaque", "append")
        == f"{API}/assessment-results/opaque/attachment"
    )
    assert attachment_url(f"{API}/assessment-results/opaque", "none") is None


def test_callbacks_are_allowed_on_srs_origins_and_sr_base_urls_only():
    default = callback_origins([], "http://127.0.0.1:8100")
    assert origin_allowed(f"{API}/orders/{ORDER}/results", default)
    # SR's web, help or marketing hosts get no token, nor a candidate's result.
    assert not origin_allowed(f"https://www.smartrecruiters.com/x/orders/{ORDER}/results", default)
    assert origin_allowed(
        f"http://127.0.0.1:8100/assessment-api/v202010/orders/{ORDER}/results", default
    )
    for foreign in (
        f"https://api.smartrecruiters.com.evil.com/orders/{ORDER}/results",
        f"http://api.smartrecruiters.com/orders/{ORDER}/results",  # not https
        f"http://localhost:8100/orders/{ORDER}/results",
        f"https://evil.example/orders/{ORDER}/results",
    ):
        assert not origin_allowed(foreign, default), foreign
    configured = callback_origins(["http://localhost:8100"], "http://127.0.0.1:8100")
    assert origin_allowed(f"http://localhost:8100/orders/{ORDER}/results", configured)
    assert not origin_allowed(
        f"{API}/orders/{ORDER}/results", configured
    )  # the list replaces SR's own


def test_intake_refuses_a_foreign_callback_by_name_and_logs_only_the_shape_it_saw(
    caplog, monkeypatch
):
    from ordering.intake import FieldUnacceptable, check_callback
    from settings import Settings
    from smartrecruiters.observations import log

    settings = Settings(sr_base_url="http://127.0.0.1:8100")
    with pytest.raises(FieldUnacceptable) as refused:
        check_callback(f"https://smartrecruiters.com.evil.example/orders/{ORDER}/results", settings)
    assert refused.value.field == "resultCallbackURL" and "evil" not in str(refused.value)

    caplog.set_level("INFO", logger=log.name)
    monkeypatch.setattr("smartrecruiters.observations._seen", set())  # first sights in this test
    check_callback(
        f"https://api.smartrecruiters.com/assessment-api/v202010/assessment-results/secret-token-{ORDER}x",
        settings,
    )
    assert "resultCallbackURL's path is other path (order id is a digest of the URL)" in caplog.text
    assert "resultCallbackURL's host is another SR origin" in caplog.text
    assert "secret-token" not in caplog.text and "api.smartrecruiters.com" not in caplog.text


def test_intake_refuses_a_callback_outside_srs_assessment_api():
    """An order must not have us call another SR API (candidates, jobs) with its company's token."""
    from ordering.intake import FieldUnacceptable, check_callback
    from settings import Settings

    settings = Settings(sr_base_url="http://127.0.0.1:8100")
    for path in (
        f"/v1/candidates/{ORDER}/results",
        f"/orders/{ORDER}/results",
        "/assessment-apix/orders/1/results",
    ):
        with pytest.raises(FieldUnacceptable) as refused:
            check_callback(f"https://api.smartrecruiters.com{path}", settings)
        assert (
            refused.value.field == "resultCallbackURL"
            and "assessment API" in refused.value.accepted
        )
    check_callback(
        f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{ORDER}/results", settings
    )
