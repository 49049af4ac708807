"""The SR simulator's result API, as strict as SR's spec: RFC 7396 removals, RFC 3339 date-times,
a size limit on reports, the media types and callback URLs of each variant."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.simulators.test_smartrecruiters_sim import (  # noqa: F401 - fixtures
    Auth,
    auth,
    bearer,
    config,
    partner,
    patch_result,
    place_order,
    results_path,
    running,
    sr,
    stored_order,
    upload,
)


def test_null_removes_a_member_of_the_result(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    scored = {
        "status": "COMPLETED",
        "score": {"raw": 8, "min": 0, "max": 10},
        "scoreLabel": "Passed",
        "submissionDate": "2026-01-02T03:04:05Z",
    }
    assert patch_result(sr, auth, order_id, scored).status_code == 200

    revised = {
        "status": "COMPLETED",
        "score": None,
        "scoreLabel": None,
        "submissionDate": None,
        "summary": "Revised.",
    }
    response = patch_result(sr, auth, order_id, revised)

    assert response.status_code == 200, response.text
    assert stored_order(sr, order_id)["result"] == {"status": "COMPLETED", "summary": "Revised."}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"submissionDate": "2026-01-02T03:04:05"}, "submissionDate"),  # no offset
        ({"assessmentPackageDate": "2026-01-02"}, "assessmentPackageDate"),
        ({"submissionDate": "2026-02-30T03:04:05Z"}, "submissionDate"),
        (
            {"assessmentResults": [{"assessmentId": "a", "submissionDate": "yesterday"}]},
            "assessmentResults[0].submissionDate",
        ),
        (
            {"score": {"raw": None, "min": 0, "max": 10}},
            "score",
        ),  # a removal leaves a score without raw
        (
            {"assessmentResults": [None]},
            "assessmentResults[0]",
        ),  # an array is a value: its nulls are no removals
    ],
)
def test_values_still_follow_the_spec(
    sr: httpx.Client, auth: Auth, patch: dict[str, Any], field: str
) -> None:
    order_id = place_order(sr)
    response = patch_result(sr, auth, order_id, {"status": "COMPLETED", **patch})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(f"{field}: ")
    assert stored_order(sr, order_id)["patches"] == []


@pytest.mark.parametrize(
    "date",
    ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456+00:00", "2026-01-02T05:04:05+02:00"],
)
def test_date_times_with_an_offset_are_taken(sr: httpx.Client, auth: Auth, date: str) -> None:
    assert (
        patch_result(
            sr, auth, place_order(sr), {"status": "COMPLETED", "submissionDate": date}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("variant", "taken", "refused"),
    [
        ("json", "application/json", "application/merge-patch+json"),
        ("merge-patch", "application/merge-patch+json", "application/json"),
    ],
)
def test_each_media_type_variant_takes_its_type_only(
    sr: httpx.Client, auth: Auth, variant: str, taken: str, refused: str
) -> None:
    sr.put("/__sim/variants", json={"patch_media_type": variant}).raise_for_status()
    order_id = place_order(sr)
    body = json.dumps({"status": "PENDING"})
    no = sr.patch(results_path(order_id), content=body, headers={**auth, "Content-Type": refused})
    yes = sr.patch(
        results_path(order_id),
        content=body,
        headers={**auth, "Content-Type": f"{taken}; charset=utf-8"},
    )
    assert (no.status_code, yes.status_code) == (415, 200)
    assert no.json()["errors"][0]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_report_over_the_size_limit_is_refused(config, partner) -> None:
    small = dataclasses.replace(config, max_attachment_bytes=1000)
    with running(small) as sr_small:
        auth_small = bearer(sr_small)
        order_id = place_order(sr_small)
        files = {"attachment": ("report.pdf", b"%PDF" + b"x" * 997, "application/pdf")}
        response = sr_small.post(
            f"{results_path(order_id)}/attachment", files=files, headers=auth_small
        )
        assert response.status_code == 413
        assert response.json()["errors"][0]["code"] == "ATTACHMENT_TOO_LARGE"
        assert stored_order(sr_small, order_id)["attachments"] == []
        assert upload(sr_small, auth_small, order_id).status_code == 201  # a small one is taken


@pytest.mark.parametrize("path", ["trailing-slash", "query", "other"])
def test_results_are_taken_at_the_callback_handed_out_only(
    sr: httpx.Client, auth: Auth, path: str
) -> None:
    sr.put("/__sim/variants", json={"callback_path": path}).raise_for_status()
    order_id = place_order(sr)
    callback = httpx.URL(stored_order(sr, order_id)["result_callback_url"])
    assert sr.get("/__sim/orders/" + order_id).json()["partner_request"]["body"][
        "resultCallbackURL"
    ] == str(callback)

    elsewhere = patch_result(
        sr, auth, order_id, {"status": "PENDING"}
    )  # SR_BASE_URL's /orders/{id}/results
    at_callback = sr.patch(callback.raw_path.decode(), json={"status": "PENDING"}, headers=auth)

    assert (elsewhere.status_code, at_callback.status_code) == (404, 200)
    attachment = callback.copy_with(path=callback.path.rstrip("/") + "/attachment")
    files = {"attachment": ("report.pdf", b"%PDF-1.4", "application/pdf")}
    assert sr.post(attachment.raw_path.decode(), files=files, headers=auth).status_code == 201
    assert len(stored_order(sr, order_id)["attachments"]) == 1
    if path == "other":
        assert f"/orders/{order_id}/" not in str(callback)


def test_another_companys_token_reaches_no_order_at_a_callback_of_another_shape(tmp_path) -> None:
    from tests.simulators.test_smartrecruiters_sim_connect import (
        ACME,
        MASTER_CLIENT_ID,
        MASTER_CLIENT_SECRET,
        ConnectPartner,
        candidate_of,
        connect,
        make_config as connect_config,
        token_for,
    )
    from tests.support.servers import serve

    partner = ConnectPartner()
    with serve(partner.app) as partner_url:
        partner.url = partner_url
        with running(connect_config(tmp_path / "sr.db", partner_url)) as sr_connect:
            master = token_for(sr_connect, MASTER_CLIENT_ID, MASTER_CLIENT_SECRET)
            issued = connect(sr_connect, master, partner, ACME)
            acme = token_for(sr_connect, issued["clientId"], issued["clientSecret"])
            default = bearer(sr_connect)
            sr_connect.put("/__sim/variants", json={"callback_path": "other"}).raise_for_status()
            placed = sr_connect.post(
                "/__sim/orders",
                json={"candidate_id": candidate_of(sr_connect, ACME)["id"], "package_id": "p"},
            ).json()
            callback = httpx.URL(
                stored_order(sr_connect, placed["order_id"])["result_callback_url"]
            ).raw_path.decode()
            files = {"attachment": ("r.pdf", b"%PDF", "application/pdf")}

            assert (
                sr_connect.patch(callback, json={"status": "PENDING"}, headers=default).status_code
                == 403
            )
            assert (
                sr_connect.post(f"{callback}/attachment", files=files, headers=default).status_code
                == 403
            )
            assert stored_order(sr_connect, placed["order_id"])["patches"] == []
            assert (
                sr_connect.patch(callback, json={"status": "PENDING"}, headers=acme).status_code
                == 200
            )
            assert (
                sr_connect.post(f"{callback}/attachment", files=files, headers=acme).status_code
                == 201
            )


def test_report_links_in_a_result_are_refused_under_the_refused_variant(
    sr: httpx.Client, auth: Auth
) -> None:
    order_id = place_order(sr)
    linked = {
        "status": "COMPLETED",
        "attachments": [
            {"name": "Full report", "type": "OTHER_URL", "url": "https://vendor.example/r/1"}
        ],
    }
    assert patch_result(sr, auth, order_id, linked).status_code == 200
    sr.put("/__sim/variants", json={"result_attachments": "refused"}).raise_for_status()
    refused = patch_result(sr, auth, order_id, linked | {"summary": "Again."})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "INVALID_RESULT"
    assert (
        patch_result(sr, auth, order_id, {"status": "COMPLETED", "summary": "Again."}).status_code
        == 200
    )
    assert stored_order(sr, order_id)["result"]["summary"] == "Again."


def test_enforced_limits_refuse_the_eleventh_request_in_a_second(sr: httpx.Client, auth: Auth):
    order_id = place_order(sr)
    sr.put("/__sim/variants", json={"rate_limits": "enforced"}).raise_for_status()
    answers = [patch_result(sr, auth, order_id, {"status": "PENDING"}) for _ in range(20)]

    statuses = [answer.status_code for answer in answers]
    assert statuses[:10] == [200] * 10 and 429 in statuses, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["X-RateLimit-Limit"] == "10"
    assert refused.headers["X-RateLimit-Concurrent-Limit"] == "8"


def test_enforced_limits_refuse_the_ninth_request_in_flight(sr: httpx.Client, auth: Auth):
    order_id = place_order(sr)
    sr.put("/__sim/variants", json={"rate_limits": "enforced"}).raise_for_status()
    # Every result update takes a second: nine sent at once are all in flight together.
    slow = {"status": 200, "count": 9, "latency_ms": 1000, "path_contains": "/results"}
    sr.post("/__sim/faults", json=slow).raise_for_status()
    with ThreadPoolExecutor(9) as pool:
        statuses = sorted(
            pool.map(
                lambda _: patch_result(sr, auth, order_id, {"status": "PENDING"}).status_code,
                range(9),
            )
        )
    assert statuses == [200] * 8 + [429]


def test_limits_are_not_enforced_by_default(sr: httpx.Client, auth: Auth):
    order_id = place_order(sr)
    statuses = {
        patch_result(sr, auth, order_id, {"status": "PENDING"}).status_code for _ in range(20)
    }
    assert statuses == {200}
