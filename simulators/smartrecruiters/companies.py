"""The companies using the simulated SR, and their Connect state with the partner.

Connect (docs/smartrecruiters-protocol.md): the partner registers its `PartnerConfiguration` with
master credentials. A company's admin clicks Connect and consents; SR opens the partner's
`consentUrl`, and the partner posts the credentials it issued for that company to
`POST /integration/company/{companyId}`, getting SR-issued customer credentials back. From then on
SR reaches the partner for that company at the configured URLs with those partner-issued
credentials, until the company disconnects.

The embedded default company (`config.company_id`) works without Connect: its SR-issued
credentials are the configured `client_id`/`client_secret`, and SR reaches the partner at the
configured `partner_api_url`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..docstore import DocumentStore
from .config import SmartRecruitersSimConfig
from .partner import PartnerLink
from .validation import schema_properties

PARTNER_CONFIGURATION_KIND, PARTNER_CONFIGURATION_ID = "partner_configuration", "partner"
SMARTRECRUITERS_WEB_ORIGIN = "https://www.smartrecruiters.com"
COMPANY_KIND = "company"


class ConnectError(Exception):
    """A Connect step that the partner's or the company's state does not allow."""


class NoPartnerConfiguration(ConnectError):
    pass


class ConsentRequired(ConnectError):
    pass


class AlreadyIntegrated(ConnectError):
    pass


class NotIntegrated(ConnectError):
    pass


def credentials_match(
    client_id: str, client_secret: str, expected_id: str, expected_secret: str
) -> bool:
    # Compare both in constant time, and as bytes: compare_digest rejects non-ASCII str.
    id_ok = hmac.compare_digest(client_id.encode(), expected_id.encode())
    secret_ok = hmac.compare_digest(client_secret.encode(), expected_secret.encode())
    return id_ok and secret_ok


def consent_url(configuration: dict[str, Any], company_id: str, redirect: str) -> str:
    """The partner's `consentUrl` with the query parameters SR adds: `companyId`, and `redirect`
    only when the partner asked to be opened as a redirect rather than a popup."""
    added = [("companyId", company_id)]
    if configuration["consentDisplayMode"] == "REDIRECT":
        added.append(("redirect", redirect))
    parts = urlsplit(configuration["consentUrl"])
    query = parse_qsl(parts.query, keep_blank_values=True) + added
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def _secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Companies:
    """The partner configuration and each company's consent and integration, in the store.

    Each method reads and writes without an `await` in between (see `simulator`).
    """

    def __init__(self, config: SmartRecruitersSimConfig, store: DocumentStore) -> None:
        self._config = config
        self._store = store

    # --- the partner's configuration ------------------------------------------------------

    def partner_configuration(self) -> dict[str, Any] | None:
        return self._store.get(PARTNER_CONFIGURATION_KIND, PARTNER_CONFIGURATION_ID)

    def save_partner_configuration(self, request: dict[str, Any]) -> dict[str, Any]:
        """Store a valid `PartnerConfigurationRequest`; returns it as a `PartnerConfiguration`."""
        known = schema_properties("PartnerConfiguration")
        configuration = {name: value for name, value in request.items() if name in known}
        self._store.put(PARTNER_CONFIGURATION_KIND, PARTNER_CONFIGURATION_ID, configuration)
        return configuration

    def _require_partner_configuration(self) -> dict[str, Any]:
        configuration = self.partner_configuration()
        if configuration is None:
            raise NoPartnerConfiguration("Partner configuration does not exist")
        return configuration

    # --- Connect ------------------------------------------------------------------------------

    def give_consent(self, company_id: str, redirect_origin: str = "simulator") -> str:
        """The admin clicked Connect and "Allow and Continue"; returns the URL SR opens.

        `redirect_origin` is the `consent_redirect` variant: "web" sends the admin back to SR's
        web app, "simulator" to this simulator's own page."""
        configuration = self._require_partner_configuration()
        record = self._record(company_id)
        record["consented"] = True
        self._save(record)
        return consent_url(
            configuration, company_id, self._connected_page(company_id, redirect_origin)
        )

    def _connected_page(self, company_id: str, redirect_origin: str) -> str:
        """Where the partner sends the admin back after connecting (in REDIRECT mode)."""
        company = quote(company_id, safe="")
        if redirect_origin == "web":
            # SR's admin pages live on its web origin, not on its API's; the path is our
            # assumption (SR does not publish it).
            return (
                f"{SMARTRECRUITERS_WEB_ORIGIN}/settings/apps-and-integrations/{company}/connected"
            )
        return f"{self._config.public_url}/__sim/companies/{company}/connected"

    def integrate(self, company_id: str, partner_credentials: dict[str, str]) -> dict[str, str]:
        """Keep the credentials the partner issued for a company; returns the new
        `ClientCredentials` SR issues to the partner for it."""
        self._require_partner_configuration()
        record = self._record(company_id)
        if record["integrated"]:
            raise AlreadyIntegrated("Partner already integrated for company")
        if not record["consented"]:
            raise ConsentRequired("Company did not give consent for integration")
        issued = {"clientId": secrets.token_hex(16), "clientSecret": secrets.token_urlsafe(32)}
        record.update(
            integrated=True,
            partner_credentials={
                "clientId": partner_credentials["clientId"],
                "clientSecret": partner_credentials["clientSecret"],
            },
            sr_client_id=issued["clientId"],
            sr_secret_sha256=_secret_digest(issued["clientSecret"]),
        )
        self._save(record)
        return issued

    def end_integration(
        self, company_id: str, partner_status: int | None, partner_error: str | None
    ) -> str | None:
        """Forget a company's integration and its consent, noting what the partner answered to
        the disconnection; returns the SR-issued client id that no longer works, if any."""
        record = self._record(company_id)
        revoked = record["sr_client_id"]
        record.update(
            consented=False,
            integrated=False,
            partner_credentials=None,
            sr_client_id=None,
            sr_secret_sha256=None,
            last_disconnect={"partner_status": partner_status, "partner_error": partner_error},
        )
        self._save(record)
        return revoked

    def partner_link(self, company_id: str) -> PartnerLink | None:
        """How SR reaches the partner for a company integrated through Connect; None otherwise."""
        configuration = self.partner_configuration()
        record = self._record(company_id)
        if configuration is None or not record["integrated"]:
            return None
        return PartnerLink.configured(configuration, record["partner_credentials"])

    def company_of_credentials(self, client_id: str, client_secret: str) -> str | None:
        """The company whose SR-issued customer credentials these are, if any."""
        config = self._config
        if credentials_match(client_id, client_secret, config.client_id, config.client_secret):
            return config.company_id
        digest = _secret_digest(client_secret)
        for record in self._store.find(COMPANY_KIND, sr_client_id=client_id, integrated=True):
            if hmac.compare_digest(digest, record["sr_secret_sha256"]):
                return record["company_id"]
        return None

    # --- what SR shows about them -----------------------------------------------------------

    def overview(self, also: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Every known company's state, without secrets: the default company, those that took a
        Connect step, and `also`."""
        stored = [record["company_id"] for record in self._store.all(COMPANY_KIND)]
        company_ids = dict.fromkeys([self._config.company_id, *stored, *also])
        return [self.view(company_id) for company_id in company_ids]

    def view(self, company_id: str) -> dict[str, Any]:
        """A company's Connect state, without secrets."""
        record = self._record(company_id)
        partner_credentials = record["partner_credentials"] or {}
        return {
            "company_id": record["company_id"],
            # The configured customer credentials belong to it, so it needs no Connect.
            "embedded": record["company_id"] == self._config.company_id,
            "consented": record["consented"],
            "integrated": record["integrated"],
            "partner_client_id": partner_credentials.get("clientId"),
            "sr_client_id": record["sr_client_id"],
            "last_disconnect": record["last_disconnect"],
        }

    def _record(self, company_id: str) -> dict[str, Any]:
        return self._store.get(COMPANY_KIND, company_id) or {
            "company_id": company_id,
            "consented": False,
            "integrated": False,
            "partner_credentials": None,
            "sr_client_id": None,
            "sr_secret_sha256": None,
            "last_disconnect": None,
        }

    def _save(self, record: dict[str, Any]) -> None:
        self._store.put(COMPANY_KIND, record["company_id"], record)
