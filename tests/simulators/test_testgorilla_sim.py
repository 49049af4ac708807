"""The TestGorilla simulator over real HTTP: login and idle expiry, per-endpoint limits, the
once-per-assessment rule, a candidate's journey, result shapes, the PDF, faults and request counts.

Nothing sleeps to synchronise: waits for a window or a token to pass use `eventually`.
"""

from __future__ import annotations

import time

from simulators.testgorilla.app import api_description
from tests.support.waiting import eventually
from tests.vendors.test_testgorilla_support import USERNAME, new_email, running_sim


async def test_login_token_is_refused_once_idle_and_a_new_login_works() -> None:
    async with running_sim(token_idle_seconds=1.0) as sim:
        refused = await sim.http.post(
            "/api/profiles/login/", json={"username": USERNAME, "password": "wrong"}
        )
        assert refused.status_code == 400 and "non_field_errors" in refused.json()
        assert (await sim.api("GET", "/assessments/", None)).status_code == 401

        token = await sim.login()
        assert await sim.login() == token  # one live token per user, as Django REST framework's
        assert (await sim.api("GET", "/assessments/", token)).status_code == 200

        async def idle_out():
            return all(t["expired"] for t in await sim.control("GET", "/tokens"))

        await eventually(idle_out, timeout=5, what="the token to idle out", interval=0.1)
        expired = await sim.api("GET", "/assessments/", token)
        assert expired.status_code == 401
        assert expired.json() == {"detail": "Invalid token."}
        assert expired.headers["WWW-Authenticate"] == "Token"
        assert expired.headers["X-Request-Id"]

        fresh = await sim.login()
        assert fresh != token
        assert (await sim.api("GET", "/assessments/", fresh)).status_code == 200


async def test_forced_expiry_refuses_login_tokens_but_not_the_api_key() -> None:
    async with running_sim(api_token="long-lived-key") as sim:
        token = await sim.login()
        assert (await sim.control("POST", "/tokens/expire")) == {"expired": 1}
        assert (await sim.api("GET", "/assessments/", token)).status_code == 401
        assert (await sim.api("GET", "/assessments/", "long-lived-key")).status_code == 200


async def test_each_endpoint_has_its_own_limit_with_headers_and_a_429_until_the_window_passes() -> (
    None
):
    async with running_sim() as sim:
        await sim.set_limits(30, assessments=3)
        token = await sim.login()
        answers = [await sim.api("GET", "/assessments/", token) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
        assert all(0 < int(a.headers["X-RateLimit-Reset"]) <= 30 for a in answers)
        assert "Retry-After" not in answers[3].headers
        assert answers[3].json() == {"detail": "Request was throttled."}
        # Another endpoint counts on its own.
        other = await sim.api("GET", "/assessments/candidature/", token, params={"assessment": 101})
        assert other.status_code == 200 and other.headers["X-RateLimit-Limit"] == "100"

        stats = await sim.endpoint_stats("assessments")
        assert (stats["allowed"], stats["throttled"], stats["max_in_window"]) == (3, 1, 3)

        await sim.set_limits(0.5, assessments=1)
        assert (await sim.api("GET", "/assessments/", token)).status_code == 200
        assert (await sim.api("GET", "/assessments/", token)).status_code == 429

        async def admitted_again():
            return (await sim.api("GET", "/assessments/", token)).status_code == 200

        await eventually(admitted_again, timeout=5, what="the next window", interval=0.1)
        stats = await sim.endpoint_stats("assessments")
        assert stats["max_in_window"] == 1 and len(stats["windows"]) == 2


async def test_a_candidate_can_take_each_assessment_once() -> None:
    async with running_sim() as sim:
        token = await sim.login()
        email = new_email()
        first = await sim.api(
            "POST",
            "/assessments/102/invite_candidate/",
            token,
            json={"email": email, "first_name": "Ada"},
        )
        assert first.status_code == 201
        again = await sim.api(
            "POST", "/assessments/102/invite_candidate/", token, json={"email": email.upper()}
        )
        assert again.status_code == 400
        # What public consumer code sees; the detail form is a variant.
        assert again.json() == {
            "errors": [
                {
                    "field": "email",
                    "error_key": "REPEATING_INVITATION",
                    "message": "This candidate has already been invited to this assessment.",
                }
            ]
        }
        await sim.set_variants(duplicate_invite="detail")
        assert (
            await sim.api(
                "POST", "/assessments/102/invite_candidate/", token, json={"email": email}
            )
        ).json() == {"detail": "This candidate has already been invited to this assessment."}
        elsewhere = await sim.api(
            "POST", "/assessments/101/invite_candidate/", token, json={"email": email}
        )
        assert elsewhere.status_code == 201
        assert elsewhere.json()["testtaker_id"] == first.json()["testtaker_id"]  # the same person
        assert (
            await sim.emails_to(email) == 2
        )  # one per assessment, none for the refused invitation

        # The first invitation makes a new assessment active.
        detail = (await sim.api("GET", "/assessments/102/", token)).json()
        assert detail["status"] == "active" and detail["invited"] == 1
        archived = await sim.api(
            "POST", "/assessments/104/invite_candidate/", token, json={"email": email}
        )
        assert archived.status_code == 400
        malformed = await sim.api(
            "POST", "/assessments/101/invite_candidate/", token, json={"mail": email}
        )
        assert malformed.status_code == 400 and "non_field_errors" in malformed.json()


async def test_a_re_invite_emails_the_same_link_until_the_candidate_starts() -> None:
    async with running_sim() as sim:
        token = await sim.login()
        email = new_email()
        invited = (
            await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": email}
            )
        ).json()
        path = f"/assessments/candidature/{invited['id']}/send-invitation/"

        resent = await sim.api("POST", path, token)
        assert resent.status_code == 200 and resent.json() == invited
        assert resent.headers["X-RateLimit-Limit"] == "60"
        emails = (await sim.control("GET", "/outbox", params={"email": email}))["emails"]
        assert [e["link"] for e in emails] == [invited["invitation_link"]] * 2

        await sim.control("POST", f"/candidatures/{invited['id']}/start")
        refused = await sim.api("POST", path, token)
        assert refused.status_code == 400 and refused.json() == {
            "detail": "The candidate has already started this assessment."
        }
        assert (
            await sim.api("POST", "/assessments/candidature/999999/send-invitation/", token)
        ).status_code == 404
        assert await sim.emails_to(email) == 2


async def test_journey_from_invitation_to_deletion() -> None:
    async with running_sim(candidature_get="exists") as sim:
        token = await sim.login()
        email = new_email()
        invited = (
            await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": email}
            )
        ).json()
        path = f"/assessments/candidature/{invited['id']}/"
        assert invited["status"] == "invited" and invited["avg_score"] is None

        # Opening the candidate's link starts the assessment.
        link = invited["invitation_link"]
        assert link.startswith(sim.url)
        assert (await sim.http.get(link)).status_code == 200
        assert (await sim.api("GET", path, token)).json()["status"] == "started"

        listed = await sim.api(
            "GET",
            "/assessments/candidature/",
            token,
            params={"assessment": 101, "status": "started", "search": email},
        )
        assert [c["id"] for c in listed.json()["results"]] == [invited["id"]]

        completed = await sim.complete(invited["id"], {"7244": 90, "311": 70})
        assert completed["status"] == "completed" and completed["avg_score"] == 80
        assert completed["personality_algorithm"] == "big_5"

        assert (await sim.api("DELETE", path, token)).status_code == 204
        gone = await sim.api("GET", path, token)
        assert gone.status_code == 404 and gone.json() == {"detail": "Not found."}
        await sim.set_variants(candidature_get="405")  # the GET TestGorilla does not document
        refused = await sim.api("GET", path, token)
        assert refused.status_code == 405 and refused.headers["Allow"] == "DELETE, OPTIONS"


async def test_the_candidate_detail_in_either_form() -> None:
    async with running_sim() as sim:
        token = await sim.login()
        email = new_email()
        first = (
            await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": email}
            )
        ).json()
        second = (
            await sim.api(
                "POST", "/assessments/103/invite_candidate/", token, json={"email": email}
            )
        ).json()
        assert first["invitation_link"] == f"{sim.url}/testtaker/welcome/{first['invitation_uuid']}"
        await sim.complete(first["id"], {"7244": 90, "311": 70})
        path = f"/assessments/candidates/{first['testtaker_id']}/"

        nested = await sim.api("GET", path, token, params={"candidature": first["id"]})
        assert nested.headers["X-RateLimit-Limit"] == "100"
        [item] = nested.json()["assessments_detail"]
        assert (
            nested.json()["id"],
            item["id"],
            item["assessment_id"],
            item["status"],
            item["average"],
        ) == (first["testtaker_id"], first["id"], 101, "completed", 80)
        every = (await sim.api("GET", path, token)).json()["assessments_detail"]
        assert [i["id"] for i in every] == [first["id"], second["id"]]

        await sim.set_variants(candidate_detail="flat")
        flat = (await sim.api("GET", path, token, params={"candidature": second["id"]})).json()
        assert (flat["id"], flat["status"]) == (second["id"], "invited")
        assert (await sim.api("GET", path, token, params={"candidature": 1})).status_code == 404
        assert (await sim.api("GET", "/assessments/candidates/1/", token)).status_code == 404


async def test_the_invites_answer_and_the_candidatures_fields_in_every_form() -> None:
    async with running_sim() as sim:
        token = await sim.login()

        async def invite(**variants):
            await sim.set_variants(**variants)
            answer = await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": new_email()}
            )
            assert answer.status_code == 201
            return answer.json()

        full = await invite(invite_answer="candidature")
        assert {"id", "testtaker_id", "invitation_uuid", "invitation_link", "status"} <= set(
            full
        ) and "test_taker" not in full
        assert set(await invite(invite_answer="uuid_only")) == {"invitation_uuid"}
        assert await invite(invite_answer="empty") == {}
        renamed = await invite(
            invite_answer="candidature", test_taker_field="test_taker", invitation_links=False
        )
        assert (
            "test_taker" in renamed
            and "testtaker_id" not in renamed
            and "invitation_link" not in renamed
        )
        listed = (
            await sim.api("GET", "/assessments/candidature/", token, params={"assessment": 101})
        ).json()["results"]
        assert all("test_taker" in c and "invitation_link" not in c for c in listed)
        assert await sim.control("DELETE", "/variants") == {
            "candidature_get": "405",
            "candidate_detail": "nested",
            "invite_answer": "candidature",
            "duplicate_invite": "errors",
            "test_taker_field": "testtaker_id",
            "invitation_links": True,
            "assessment_tests": "tests",
        }  # back to how the simulator started


async def test_results_have_scores_for_skills_and_displays_for_personality() -> None:
    async with running_sim() as sim:
        token = await sim.login()
        invited = (
            await sim.api(
                "POST", "/assessments/103/invite_candidate/", token, json={"email": new_email()}
            )
        ).json()
        await sim.complete(invited["id"], {"233": 64, "520": "ENFP"}, {"233": 71.5})
        answer = await sim.api(
            "GET",
            "/assessments/results/",
            token,
            params={
                "candidature__assessment": 103,
                "candidature__test_taker": invited["testtaker_id"],
            },
        )
        body = answer.json()
        assert api_description().schema_errors("ResultPage", body) == []
        by_algorithm = {r["algorithm"]: r for r in body["results"]}
        assert by_algorithm.keys() == {"basic", "16_types", "culture_fit"}
        assert (
            by_algorithm["basic"]["score"],
            by_algorithm["basic"]["display_normalized_percentile_score"],
        ) == (64, 71.5)
        assert (
            by_algorithm["16_types"]["score"] is None
            and by_algorithm["16_types"]["score_display"] == "ENFP"
        )
        assert (
            by_algorithm["culture_fit"]["score"] is None
            and by_algorithm["culture_fit"]["score_display"]
        )

        missing = await sim.api(
            "GET", "/assessments/results/", token, params={"candidature__assessment": 103}
        )
        assert missing.status_code == 400 and "candidature__test_taker" in missing.json()


async def test_pdf_streams_for_the_candidatures_test_taker_only() -> None:
    async with running_sim() as sim:
        token = await sim.login()
        invited = (
            await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": new_email()}
            )
        ).json()
        await sim.complete(invited["id"])
        path = f"/assessments/candidates/{invited['testtaker_id']}/render_pdf/"
        pdf = await sim.api("GET", path, token, params={"candidature": invited["id"]})
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and pdf.headers["X-RateLimit-Limit"] == "20"
        wrong = await sim.api(
            "GET",
            "/assessments/candidates/1/render_pdf/",
            token,
            params={"candidature": invited["id"]},
        )
        assert wrong.status_code == 404


async def test_faults_and_request_counts() -> None:
    async with running_sim() as sim:
        token = await sim.login()
        await sim.fault("throttle", endpoint="candidature", reset_seconds=42)
        await sim.fault("error", count=2, status=502, endpoint="assessments")
        throttled = await sim.api("GET", "/assessments/candidature/1/", token)
        assert throttled.status_code == 429 and throttled.headers["X-RateLimit-Reset"] == "42"
        assert [(await sim.api("GET", "/assessments/", token)).status_code for _ in range(3)] == [
            502,
            502,
            200,
        ]
        assert await sim.control("GET", "/faults") == []

        await sim.fault("slow", delay_seconds=0.3)
        started = time.monotonic()
        assert (await sim.api("GET", "/assessments/", token)).status_code == 200
        assert time.monotonic() - started >= 0.3

        counts = await sim.control("GET", "/requests")
        assert counts["logins"] == 1
        assert counts["endpoints"]["assessments"] | {"windows": None} == {
            "limit": 20,
            "allowed": 2,
            "throttled": 0,
            "forced": 2,
            "max_in_window": 2,
            "windows": None,
        }
        assert counts["endpoints"]["candidature"]["forced"] == 1
        reset = await sim.control("DELETE", "/requests")
        assert reset["endpoints"]["assessments"]["allowed"] == 0


async def test_lists_are_paged_with_next_links() -> None:
    async with running_sim(max_page_size=2) as sim:
        token = await sim.login()
        seen, url = [], "/api/assessments/?status=new,active&limit=50"
        while url:
            body = (await sim.http.get(url, headers={"Authorization": f"Token {token}"})).json()
            assert body["count"] == 4 and len(body["results"]) <= 2
            seen += [a["id"] for a in body["results"]]
            url = body["next"]
        assert seen == [101, 102, 103, 105]


async def test_candidatures_outlive_a_restart_of_the_simulator(tmp_path) -> None:
    """Its state is on disk: an invitation from before a restart is known after it, over HTTP."""
    email, deleted_email = new_email(), new_email()
    async with running_sim(
        database_path=tmp_path / "testgorilla.db", candidature_get="exists"
    ) as sim:
        token = await sim.login()
        invited = (
            await sim.api(
                "POST",
                "/assessments/102/invite_candidate/",
                token,
                json={"email": email, "first_name": "Ada"},
            )
        ).json()
        deleted = (
            await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": deleted_email}
            )
        ).json()
        assert (
            await sim.api("DELETE", f"/assessments/candidature/{deleted['id']}/", token)
        ).status_code == 204
        await sim.control("POST", f"/candidatures/{invited['id']}/start")
        before = (await sim.api("GET", f"/assessments/candidature/{invited['id']}/", token)).json()

    async with running_sim(
        database_path=tmp_path / "testgorilla.db", candidature_get="exists"
    ) as sim:
        token = await sim.login()
        after = await sim.api("GET", f"/assessments/candidature/{invited['id']}/", token)
        assert after.status_code == 200, after.text
        assert {k: v for k, v in after.json().items() if k != "invitation_link"} == {
            k: v for k, v in before.items() if k != "invitation_link"
        }
        assert after.json()["status"] == "started"
        assert (
            await sim.api("GET", f"/assessments/candidature/{deleted['id']}/", token)
        ).status_code == 404
        assert await sim.emails_to(email) == 1
        assert (await sim.api("GET", "/assessments/102/", token)).json()["status"] == "active"
        completed = await sim.complete(invited["id"], {"7244": 80})
        assert completed["status"] == "completed"
        # The same person keeps their test taker id; ids never repeat.
        again = (
            await sim.api(
                "POST", "/assessments/101/invite_candidate/", token, json={"email": email}
            )
        ).json()
        assert (
            again["testtaker_id"] == invited["testtaker_id"]
            and again["id"] > deleted["id"] > invited["id"]
        )
