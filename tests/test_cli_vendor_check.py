"""`assessments vendor check ACCOUNT` (and its admin API twin) against the vendor simulators: what
SmartRecruiters would be offered, and failures an operator can act on, never with a secret."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from typer.testing import CliRunner

import settings as settings_module
from admin.vendor_check import _explain, vendor_url
from cli import app
from embedded import free_port
from peers import PeerError
from simulators.checkr import CheckrSimConfig, create_app as checkr_app
from simulators.hackerrank import HackerRankSimConfig, create_app as hackerrank_app
from store import VendorAccount
from tests.support.servers import serve

HACKERRANK_KEY = "hr-check-secret-key"
CHECKR_KEY = "checkr-check-secret-key"


@pytest.fixture(scope="module")
def hackerrank_url():
    with serve(
        hackerrank_app(
            HackerRankSimConfig(
                api_key=HACKERRANK_KEY, requests_per_second=1000, report_delay_seconds=None
            )
        )
    ) as url:
        yield url


@pytest.fixture(scope="module")
def checkr_url():
    with serve(checkr_app(CheckrSimConfig(api_key=CHECKR_KEY))) as url:
        yield url


@pytest.fixture(scope="module")
def not_a_vendor():
    """A host that answers, but as no vendor:
    404 everywhere but an HTML page at its root API paths."""
    other = FastAPI()
    other.add_api_route(
        "/x/api/v3/tests", lambda: HTMLResponse("<html>Welcome</html>"), methods=["GET"]
    )
    # JSON, but not in HackerRank's shapes (its rows are objects).
    other.add_api_route("/odd/x/api/v3/tests", lambda: {"data": ["x"], "total": 1}, methods=["GET"])
    with serve(other) as url:
        yield url


@pytest.fixture(autouse=True)
def cli_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSESSMENTS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'check.db'}")
    monkeypatch.setenv("ASSESSMENTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSESSMENTS_VENDOR_TIMEOUT_SECONDS", "2")
    settings_module.get_settings.cache_clear()
    yield settings_module.get_settings()
    settings_module.get_settings.cache_clear()


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def account(adapter: str, credentials: dict, name: str = "Acme") -> str:
    created = invoke(
        "vendor-account",
        "create",
        "--name",
        name,
        "--adapter",
        adapter,
        "--credentials",
        json.dumps(credentials),
        "--json",
    )
    assert created.exit_code == 0, created.output
    return json.loads(created.stdout)["id"]


def check(account_id: str, *flags: str):
    result = invoke("vendor", "check", account_id, *flags)
    assert "Traceback" not in result.output, result.output
    return result


def no_secret(result, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.output


def test_a_good_hackerrank_key_shows_what_smartrecruiters_would_be_offered(hackerrank_url):
    checked_id = account("hackerrank", {"api_key": HACKERRANK_KEY, "base_url": hackerrank_url})
    table = check(checked_id)
    assert table.exit_code == 0, table.output
    assert (
        f"Acme (hackerrank at {hackerrank_url}) accepted the credentials; SmartRecruiters "
        "would be offered 2 package(s)"
    ) in table.stdout
    assert (
        "1529353" in table.stdout and "1529354" in table.stdout and "1529355" not in table.stdout
    )  # not the draft

    answer = json.loads(check(checked_id, "--json").stdout)
    assert answer["vendor_account"]["id"] == checked_id and answer["vendor_url"] == hackerrank_url
    assert [
        (p["id"], p["type"], [a["id"] for a in p["assessments"]]) for p in answer["packages"]
    ] == [
        ("1529353", "SKILL_TEST", ["1529353"]),
        ("1529354", "SKILL_TEST", ["1529354"]),
    ]
    assert all(p["deadline_days"] > 0 for p in answer["packages"])
    no_secret(table, HACKERRANK_KEY)


def test_a_wrong_hackerrank_key_says_so_and_how_to_replace_it(hackerrank_url):
    checked_id = account("hackerrank", {"api_key": "wrong-secret-key", "base_url": hackerrank_url})
    result = check(checked_id)
    assert result.exit_code == 2
    assert "refused the account's credentials (HTTP 401)" in result.stderr
    assert f"assessments vendor-account set-credentials {checked_id}" in result.stderr.replace(
        "\n", ""
    )
    no_secret(result, "wrong-secret-key", HACKERRANK_KEY)


def test_nothing_listening_is_a_network_problem():
    checked_id = account(
        "hackerrank", {"api_key": HACKERRANK_KEY, "base_url": f"http://127.0.0.1:{free_port()}"}
    )
    result = check(checked_id)
    assert result.exit_code == 2
    assert "could not reach http://127.0.0.1:" in result.stderr and "ConnectError" in result.stderr
    no_secret(result, HACKERRANK_KEY)


def test_a_host_that_is_not_the_vendor_is_named_as_such(not_a_vendor):
    html = check(
        account("hackerrank", {"api_key": HACKERRANK_KEY, "base_url": not_a_vendor}, name="HTML")
    )
    assert (
        html.exit_code == 2
        and "answered, but not as HackerRank's API does (test list answer is not JSON)"
        in html.stderr
    )
    checkr_id = account("checkr", {"api_key": CHECKR_KEY, "base_url": not_a_vendor}, name="404")
    missing = check(checkr_id)
    assert (
        missing.exit_code == 2
        and "answered HTTP 404 to the catalog request: that is not Checkr's API there"
        in missing.stderr.replace("\n", "")
    )
    no_secret(missing, CHECKR_KEY)


def test_json_in_no_shape_of_the_vendors_is_named_as_such(not_a_vendor):
    odd = check(
        account(
            "hackerrank", {"api_key": HACKERRANK_KEY, "base_url": f"{not_a_vendor}/odd"}, name="Odd"
        )
    )
    assert (
        odd.exit_code == 2
        and "not in a form the hackerrank adapter can read" in odd.stderr.replace("\n", "")
    )
    no_secret(odd, HACKERRANK_KEY)


def test_an_unknown_host_is_named_as_a_dns_problem():
    result = check(
        account(
            "hackerrank", {"api_key": HACKERRANK_KEY, "base_url": "https://no-such-host.invalid"}
        )
    )
    assert result.exit_code == 2
    assert "the host of https://no-such-host.invalid is unknown (DNS" in result.stderr.replace(
        "\n", ""
    )


def test_a_slow_vendor_is_a_timeout(hackerrank_url):
    import httpx

    checked_id = account("hackerrank", {"api_key": HACKERRANK_KEY, "base_url": hackerrank_url})
    httpx.post(f"{hackerrank_url}/_sim/faults", json={"slow_seconds": 3}).raise_for_status()
    try:
        result = check(checked_id)
    finally:
        httpx.delete(f"{hackerrank_url}/_sim/faults").raise_for_status()
    assert result.exit_code == 2 and "did not answer within 2 s" in result.stderr.replace("\n", "")


def test_checkr_good_and_wrong_keys(checkr_url):
    good = check(
        account("checkr", {"api_key": CHECKR_KEY, "base_url": checkr_url}, name="Checkr good"),
        "--json",
    )
    assert good.exit_code == 0, good.output
    answer = json.loads(good.stdout)
    assert answer["packages"] and {p["type"] for p in answer["packages"]} == {"BACKGROUND_CHECK"}
    no_secret(good, CHECKR_KEY)

    wrong = check(
        account(
            "checkr", {"api_key": "not-the-checkr-key", "base_url": checkr_url}, name="Checkr wrong"
        )
    )
    assert wrong.exit_code == 2 and "Checkr at" in wrong.stderr and "(HTTP 401)" in wrong.stderr
    no_secret(wrong, "not-the-checkr-key", CHECKR_KEY)


def test_an_unknown_account_exits_1():
    result = check("va_missing")
    assert result.exit_code == 1 and "no vendor account 'va_missing'" in result.stderr


async def test_missing_permissions_rate_limits_and_outages_read_in_plain_words(cli_settings):
    held = VendorAccount(
        id="va_1",
        name="Acme",
        adapter="hackerrank",
        credentials={"api_key": "k"},
        package_settings={},
        created_at=None,
    )
    url = vendor_url(cli_settings, held)
    assert url == "https://www.hackerrank.com"
    forbidden = await _explain(
        PeerError("HackerRank", "test list answered HTTP 403", status=403, retryable=False),
        cli_settings,
        held,
        url,
    )
    assert (
        "accepted the credentials but refused to list the catalog (HTTP 403): the key "
        "lacks the permission"
    ) in forbidden
    limited = await _explain(
        PeerError("HackerRank", "x", status=429, retry_after=7), cli_settings, held, url
    )
    assert "rate limiting this account (HTTP 429); try again in 7 s" in limited
    down = await _explain(PeerError("HackerRank", "x", status=503), cli_settings, held, url)
    assert "answered HTTP 503: an outage at HackerRank" in down


def test_base_urls_are_shown_without_credentials(cli_settings):
    held = VendorAccount(
        id="va_1",
        name="A",
        adapter="checkr",
        credentials={"api_key": "k", "base_url": "https://user:pw@api.checkr.com/?token=t"},
        package_settings={},
        created_at=None,
    )
    assert vendor_url(cli_settings, held) == "https://api.checkr.com"
