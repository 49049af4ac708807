"""Which URLs lead to SmartRecruiters: the consent page's return address and the result callback.

An allowed origin is written `scheme://host[:port]` (that host only) or `scheme://*.domain[:port]`
(any host under the domain, not the domain itself). The host is compared as parsed, so
`https://www.smartrecruiters.com.evil.com` and `https://www.smartrecruiters.com@evil.com` are
not SmartRecruiters.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

# SR's own web and API hosts (www, api, a region's or a customer's subdomain), over https only.
SMARTRECRUITERS_ORIGINS = ("https://smartrecruiters.com", "https://*.smartrecruiters.com")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parts(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL without user info; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL (default port left out); None if not one."""
    parts = _parts(url)
    if parts is None:
        return None
    scheme, host, port = parts
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def origin_allowed(url: str, allowed: Iterable[str]) -> bool:
    """Whether `url` is on one of the `allowed` origins (patterns as the module says)."""
    parts = _parts(url)
    if parts is None:
        return False
    scheme, host, port = parts
    for pattern in allowed:
        wildcard = "://*." in pattern
        expected = _parts(pattern.replace("://*.", "://", 1))
        if expected is None or (expected[0], expected[2]) != (scheme, port):
            continue
        if host == expected[1] if not wildcard else host.endswith("." + expected[1]):
            return True
    return False
