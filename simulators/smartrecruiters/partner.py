"""SmartRecruiters as a client of the partner service: token exchange, package catalog, orders,
disconnection.

Paths and bodies follow SR's partner-app registry (`assessment-partner-app.json`): SR exchanges
the partner-issued credentials of a company at the partner's token URL, then calls the package
and order URLs with a bearer token. A company connected through Connect is reached at the URLs of
the stored partner configuration with its own credentials; every other company at the configured
`partner_api_url` with the configured partner credentials (a `PartnerLink` says which).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .config import SmartRecruitersSimConfig
from .validation import schema_errors
from .variants import Variants

# The recruiter on whose behalf every simulated order is placed.
REQUESTER = {"userId": "5f0c2a52-6a0e-4d1c-9a4b-2b7f3c1e8d10", "email": "recruiter@example.com"}

ORDER_PATHS = {"manual": "/packages/orders", "inline": "/packages/inline/orders"}
# The partner configuration's setting that holds the URL of each kind of order.
ORDER_URL_SETTINGS = {"manual": "packageOrderUrl", "inline": "inlineAssessmentPackageOrderUrl"}
# How SR fills an id into `singleAssessmentPackageUrl` and `integrationDisableUrl` is
# undocumented (the spec's descriptions name the paths `/packages/{assessmentPackageId}` and
# `/integrations/companies/{companyId}`): the `url_expansion` variant picks one way.
PLACEHOLDER = re.compile(r"\{[^{}/]*\}")

# Renew a cached token this long before the partner says it expires, so it never lapses in flight.
TOKEN_RENEWAL_MARGIN_SECONDS = 30


class PartnerError(Exception):
    """The partner could not be reached, or it refused SR's credentials."""


@dataclass(frozen=True)
class PartnerAnswer:
    status: int
    body: Any


@dataclass(frozen=True)
class PartnerLink:
    """Where SR reaches the partner on behalf of one company, and with which credentials."""

    token_url: str
    client_id: str
    client_secret: str
    package_list_url: str
    manual_order_url: str | None
    inline_order_url: str | None
    integration_disable_url: str | None = None
    single_package_url: str | None = None

    @classmethod
    def embedded(cls, config: SmartRecruitersSimConfig) -> PartnerLink:
        """The partner at `partner_api_url`, with the configured partner credentials."""
        base = config.partner_api_url
        return cls(
            token_url=f"{base}/oauth/token",
            client_id=config.partner_client_id,
            client_secret=config.partner_client_secret,
            package_list_url=f"{base}/packages",
            # The path the spec names for the operation (our assumption: the partner's own base).
            single_package_url=f"{base}/packages/{{assessmentPackageId}}",
            manual_order_url=f"{base}{ORDER_PATHS['manual']}",
            inline_order_url=f"{base}{ORDER_PATHS['inline']}",
        )

    @classmethod
    def configured(cls, configuration: dict[str, Any], credentials: dict[str, str]) -> PartnerLink:
        """The partner at the URLs of its stored `PartnerConfiguration`, with the
        `ClientCredentials` it issued for one company."""
        return cls(
            token_url=configuration["oauthTokenUrl"],
            client_id=credentials["clientId"],
            client_secret=credentials["clientSecret"],
            package_list_url=configuration["assessmentPackageListUrl"],
            manual_order_url=configuration.get(ORDER_URL_SETTINGS["manual"]),
            inline_order_url=configuration.get(ORDER_URL_SETTINGS["inline"]),
            integration_disable_url=configuration.get("integrationDisableUrl"),
            single_package_url=configuration.get("singleAssessmentPackageUrl"),
        )

    def order_url(self, kind: str) -> str:
        url = {"manual": self.manual_order_url, "inline": self.inline_order_url}[kind]
        if url is None:
            raise PartnerError(f"the partner configuration has no {ORDER_URL_SETTINGS[kind]}")
        return url

    def disable_url(self, company_id: str, expansion: str = "placeholder") -> str | None:
        """Where to tell the partner that a company disconnected; None if it has no such URL."""
        if self.integration_disable_url is None:
            return None
        return expand(self.integration_disable_url, company_id, expansion)

    def package_url(self, package_id: str, expansion: str = "placeholder") -> str | None:
        """Where to read one package; None if the partner registered no such URL."""
        if self.single_package_url is None:
            return None
        return expand(self.single_package_url, package_id, expansion)


def expand(url: str, value: str, expansion: str) -> str:
    """A registered URL with an id filled in, as the `url_expansion` variant says."""
    segment = quote(value, safe="")
    if expansion == "placeholder" and PLACEHOLDER.search(url):
        return PLACEHOLDER.sub(lambda _: segment, url, count=1)
    return f"{url.rstrip('/')}/{segment}"


def order_request(
    config: SmartRecruitersSimConfig,
    kind: str,
    callback_url: str,
    candidate: dict[str, Any],
    package_id: str,
    company_id: str,
) -> dict[str, Any]:
    """The body SR posts to the partner for a manual (`AssessmentPackageOrderRequest`) or
    inline (`InlineAssessmentPackageOrderRequest`) order."""
    job = candidate["job"]
    common = {
        # The order request has no orderId field; results go to this URL (Gap 2).
        "resultCallbackURL": callback_url,
        "assessmentPackageId": package_id,
        "jobId": job["id"],
        "companyId": company_id,
    }
    name = {
        "email": candidate["email"],
        "firstName": candidate["first_name"],
        "lastName": candidate["last_name"],
    }
    if kind == "inline":
        return {
            **common,
            "candidate": {**name, "applicationLanguage": "en"},
            "job": {"id": job["id"]},
            "completedAssessmentCallbackUrl": f"{config.public_url}/candidates/{candidate['id']}",
        }
    return {
        **common,
        "candidate": {"id": candidate["id"], **name},
        "job": {"id": job["id"], "title": job["title"]},
        "requester": REQUESTER,
    }


@dataclass
class _CachedToken:
    value: str
    renew_at: float  # time.monotonic()


class PartnerClient:
    """SR's HTTP client toward the partner; caches one token per token URL and credentials."""

    def __init__(
        self, http: httpx.AsyncClient, variants: Callable[[], Variants] = Variants
    ) -> None:
        self._http = http
        self._tokens: dict[tuple[str, str, str], _CachedToken] = {}
        self._token_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        # How SR behaves right now (tests switch variants at run time).
        self.variants = variants

    async def post(self, link: PartnerLink, url: str, body: dict[str, Any]) -> PartnerAnswer:
        return await self._send(link, "POST", url, json=body)

    async def delete(self, link: PartnerLink, url: str, *, bearer: bool = True) -> PartnerAnswer:
        """DELETE with a token of the link's credentials, or bare (the spec declares no security
        on the partner's integrationDisableUrl)."""
        if bearer:
            return await self._send(link, "DELETE", url)
        response = await self._request("DELETE", url)
        return PartnerAnswer(response.status_code, _body(response))

    async def get(self, link: PartnerLink, url: str) -> PartnerAnswer:
        return await self._send(link, "GET", url)

    async def packages(self, link: PartnerLink, requester: str = "json") -> list[dict[str, Any]]:
        """The catalog; `requester` is how the recruiter goes in the `requester` header, whose
        encoding the spec leaves open (it gives the header the schema `Requester {email}`): a JSON
        object, the bare email, or no header ("none"). Our assumption: one of these three."""
        headers = {
            "json": {"requester": json.dumps({"email": REQUESTER["email"]})},
            "email": {"requester": REQUESTER["email"]},
            "none": {},
        }[requester]
        answer = await self._send(link, "GET", link.package_list_url, headers=headers)
        if answer.status == httpx.codes.NO_CONTENT:
            return []
        if answer.status != httpx.codes.OK:
            raise PartnerError(f"GET {link.package_list_url} answered {answer.status}")
        return fits_spec("PackagesGetListResponse", answer.body, f"GET {link.package_list_url}")

    def forget_token(self, link: PartnerLink) -> None:
        """Drop the cached token of a link whose credentials the partner no longer honours."""
        self._tokens.pop(_token_key(link), None)

    async def _send(self, link: PartnerLink, method: str, url: str, **kwargs: Any) -> PartnerAnswer:
        response = await self._authorized(link, method, url, renew_token=False, **kwargs)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            # A restarted partner may have forgotten the cached token; retry once with a new one.
            response = await self._authorized(link, method, url, renew_token=True, **kwargs)
        return PartnerAnswer(response.status_code, _body(response))

    async def _authorized(
        self,
        link: PartnerLink,
        method: str,
        url: str,
        *,
        renew_token: bool,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        token = await self._access_token(link, renew_token)
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        return await self._request(method, url, headers=headers, **kwargs)

    async def _access_token(self, link: PartnerLink, renew: bool) -> str:
        key = _token_key(link)
        async with self._token_locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if renew or cached is None or time.monotonic() >= cached.renew_at:
                cached = await self._fetch_token(link)
                self._tokens[key] = cached
            return cached.value

    async def _fetch_token(self, link: PartnerLink) -> _CachedToken:
        # RFC 6749 §2.3.1 allows both; which one SR uses is undocumented (`token_auth` variant).
        form = {"grant_type": "client_credentials"}
        if self.variants().token_auth == "basic":
            # The RFC form-urlencodes both parts before base64.
            auth = httpx.BasicAuth(
                quote(link.client_id, safe=""), quote(link.client_secret, safe="")
            )
            response = await self._request("POST", link.token_url, data=form, auth=auth)
        else:
            form |= {"client_id": link.client_id, "client_secret": link.client_secret}
            response = await self._request("POST", link.token_url, data=form)
        if response.status_code != httpx.codes.OK:
            raise PartnerError(f"partner token endpoint answered {response.status_code}")
        grant = fits_spec("AccessToken", _body(response), "the partner token endpoint")
        token, lifetime = grant["access_token"], grant["expires_in"]
        renew_in = max(0, lifetime - TOKEN_RENEWAL_MARGIN_SECONDS)
        return _CachedToken(token, time.monotonic() + renew_in)

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PartnerError(f"{method} {url} failed: {exc!r}") from exc


def _token_key(link: PartnerLink) -> tuple[str, str, str]:
    """A token is good for the token URL and credentials it was issued for."""
    return link.token_url, link.client_id, link.client_secret


def fits_spec(schema_name: str, body: Any, what: str) -> Any:
    """The partner's answer if it fits the spec's schema; otherwise a PartnerError naming each
    way it does not (SR cannot be assumed to read more than the spec promises)."""
    errors = schema_errors(schema_name, body)
    if errors:
        raise PartnerError(
            f"{what} answered what the spec's {schema_name} forbids: {'; '.join(errors)}"
        )
    return body


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
