"""Which URLs lead to SmartRecruiters: the consent page's return address and the result callback.

An allowed origin is written `scheme://host[:port]` (that host only) or `scheme://*.domain[:port]`
(any host under the domain, not the domain itself). The host is compared as parsed, so
`https://www.smartrecruiters.com.evil.com` and `https://www.smartrecruiters.com@evil.com` are
not SmartRecruiters. A URL that parsers may read differently is no URL at all here: a backslash
(browsers read `https://evil.com\\.smartrecruiters.com` as host evil.com, Python's parser as a
host ending in .smartrecruiters.com), whitespace or control characters (Python's parser drops
them, an HTTP client refuses them), or a host of other characters than a DNS name or an IP's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# SR's own web and API hosts (www, api, a region's or a customer's subdomain), over https only.
SMARTRECRUITERS_ORIGINS = ("https://smartrecruiters.com", "https://*.smartrecruiters.com")
# SR's API host, where its assessment API takes our results.
SMARTRECRUITERS_API_ORIGINS = ("https://api.smartrecruiters.com",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What a parser-independent URL holds nowhere: a backslash, whitespace, control characters.
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")
# A DNS name, an IPv4 address, or (inside brackets) an IPv6 one.
_HOST = re.compile(r"^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])$")


def _parts(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL without user info; None otherwise."""
    if _AMBIGUOUS.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    host_in_netloc = (
        parts.netloc.lower().rpartition(":")[0] if parts.port is not None else parts.netloc.lower()
    )
    if not _HOST.match(host_in_netloc):
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL (default port left out);
    None if not one."""
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
