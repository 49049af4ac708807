"""SR's origins: what passes for SmartRecruiters and what only looks like it."""

from __future__ import annotations

import pytest

from origins import SMARTRECRUITERS_ORIGINS, origin_allowed, origin_of


@pytest.mark.parametrize(
    "url",
    [
        "https://www.smartrecruiters.com/settings/apps?x=1",
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/1/results",
        "https://smartrecruiters.com/",
        "https://eu.api.smartrecruiters.com",
        "HTTPS://WWW.SmartRecruiters.COM:443/x",
    ],
)
def test_smartrecruiters_hosts_pass(url: str) -> None:
    assert origin_allowed(url, SMARTRECRUITERS_ORIGINS)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.smartrecruiters.com/",  # not https
        "https://smartrecruiters.com.evil.com/",
        "https://www.smartrecruiters.com.evil.com/",
        "https://evilsmartrecruiters.com/",
        "https://www.smartrecruiters.com@evil.com/",
        "https://www.smartrecruiters.com:8443/",
        "//www.smartrecruiters.com/",
        "javascript:alert(1)//www.smartrecruiters.com",
        "https://[::1/",
        "",
        # Read as host evil.com by browsers, as a smartrecruiters.com host by Python's parser.
        "https://evil.com\\.smartrecruiters.com/login",
        "https://evil.com%5C.smartrecruiters.com/login",
        # Dropped by Python's parser, refused by HTTP clients.
        "https://api.smartrecruiters.com/orders/1/res\tults",
        "https://api.smartrecruiters.com/orders/1/results\n",
        "https://api.smartrecruiters.com/orders/1\x00/results",
        " https://www.smartrecruiters.com/",
        "https://www.smartrécruiters.com/",
        "https://www.smartrecruiters.com:/",
    ],
)
def test_look_alikes_do_not(url: str) -> None:
    assert not origin_allowed(url, SMARTRECRUITERS_ORIGINS)


def test_an_exact_origin_admits_that_host_and_port_only() -> None:
    allowed = ["http://127.0.0.1:8100"]
    assert origin_allowed("http://127.0.0.1:8100/orders/1/results", allowed)
    assert not origin_allowed("http://127.0.0.1:8101/orders/1/results", allowed)
    assert not origin_allowed("http://localhost:8100/orders/1/results", allowed)


def test_origin_of_leaves_out_default_ports() -> None:
    assert (
        origin_of("https://API.smartrecruiters.com:443/a/b?c") == "https://api.smartrecruiters.com"
    )
    assert origin_of("http://127.0.0.1:8100/x") == "http://127.0.0.1:8100"
    assert origin_of("ftp://example.com/") is None
