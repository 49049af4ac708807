"""Every setting of the service, read from the environment (prefix ``ASSESSMENTS_``).

The defaults are the embedded mode: everything on this machine, nothing to configure. Each field's
description is its row of docs/settings.md (cli/settings_doc.py writes the document).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from origins import SMARTRECRUITERS_ORIGINS

# Fine on one machine; anywhere else tokens signed with it could be forged (the API warns).
EMBEDDED_TOKEN_SIGNING_KEY = "embedded-token-signing-key-change-me!"
EMBEDDED_ENCRYPTION_KEY = "PRiNG6COQ94pWcMUHqbYMaCsbofI-MQM1etZnkS5m04="
EMBEDDED_PARTNER_SECRET = "embedded-partner-secret"
EMBEDDED_PAYLOAD_KEY = "embedded-1:p6Z26qZZCCsXQLre7V/Q8TkuPE6L3eCclI4e3UrbNRA="
# Anyone who knows it can sign webhooks that stir the default vendor's orders.
EMBEDDED_SANDBOX_WEBHOOK_SECRET = "embedded-sandbox-webhook-secret"
# The SR simulator's credentials (simulators/smartrecruiters/config.py).
EMBEDDED_SR_CLIENT_SECRET = "embedded-sr-secret"
EMBEDDED_SR_MASTER_CLIENT_SECRET = "partner-master-secret"
# Held by the API alone: workers never call SR's partner-level API, so they are not given it.
API_ONLY_SECRETS = frozenset({"ASSESSMENTS_SR_MASTER_CLIENT_SECRET"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# The admin key is checked on every /admin request with no rate limit, so it must resist guessing
# online: 32 characters of `secrets.token_urlsafe` carry 192 bits, and even 32 hex digits 128.
MIN_ADMIN_API_KEY_LENGTH = 32
SHOWN_DEFAULT = "shown_default"


def shown_default(markdown: str) -> JsonDict:
    """A field's `json_schema_extra` for the settings document (cli/settings_doc.py): what its
    default is, where the Python value would mislead (computed elsewhere, or a secret)."""
    return {SHOWN_DEFAULT: markdown}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENTS_", extra="ignore")

    data_dir: Path = Field(
        Path("data"),
        description="embedded mode's files: Temporal's SQLite (WAL), the simulators' state; a "
        "relative folder is taken from the directory the command is run in, once, and handed to "
        "every part as an absolute path",
    )

    @field_validator("data_dir")
    @classmethod
    def _data_dir_absolute(cls, folder: Path) -> Path:
        # Resolved once, against the directory the command was run from: `assessments run`
        # starts its parts elsewhere (in the repository) and hands them this absolute path.
        return folder.expanduser().resolve()

    database_url: str | None = Field(
        None,
        description="our store; PostgreSQL in production: "
        "`postgresql+psycopg://user:password@host:5432/assessments` (migrated at API start)",
        json_schema_extra=shown_default("`sqlite+aiosqlite:///{DATA_DIR}/assessments.db`"),
    )
    encryption_keys: SecretStr = Field(
        SecretStr(EMBEDDED_ENCRYPTION_KEY),
        description="Fernet keys for credentials at rest, comma-separated: the first encrypts, "
        "all decrypt",
    )

    # Temporal
    temporal_address: str = Field("127.0.0.1:7233", description="Temporal frontend")
    temporal_namespace: str = Field("default", description="Temporal namespace")
    temporal_ui_port: int = Field(8233, description="embedded Temporal UI port")
    temporal_ui_url: str | None = Field(
        None,
        description="the Temporal UI as operators open it, e.g. `https://temporal.example.com`: "
        "`assessments orders show` and `GET /admin/orders/{id}` link to "
        "`{it}/namespaces/{namespace}/workflows/{workflow id}`",
        json_schema_extra=shown_default("`http://{host of TEMPORAL_ADDRESS}:{TEMPORAL_UI_PORT}`"),
    )
    task_queue: str = Field("assessment-orders", description="task queue of the order workflows")
    temporal_rpc_timeout_seconds: float = Field(
        10.0,
        description="every call from the API to Temporal gives up after this (the caller gets 503)",
    )
    temporal_tls_cert: Path | None = Field(
        None,
        description="PEM file of a client certificate for mTLS (Temporal Cloud, or a cluster with "
        "TLS)",
    )
    temporal_tls_key: Path | None = Field(
        None, description="PEM file of that client certificate's private key"
    )
    temporal_tls_server_ca: Path | None = Field(
        None, description="PEM file of the server's CA, when it is a private one"
    )
    temporal_api_key: SecretStr | None = Field(
        None,
        description="a Temporal Cloud API key instead of a certificate (turns TLS on)",
    )
    worker_metrics_address: str | None = Field(
        None,
        description="where the worker serves Prometheus metrics, e.g. `0.0.0.0:9464`: Temporal SDK "
        "metrics and ours (`assessment_orders_ended`, `assessment_time_to_invite`, "
        "`assessment_time_to_result`, `assessment_vendor_news` by webhook or poll, "
        "`assessment_peer_errors` by peer and HTTP status, `assessment_vendor_not_found` by peer "
        "(polls of orders held because the vendor answered 404 for their invitation), "
        "`assessment_sr_refusals` by vendor (updates SR refused us for the order's company), and "
        "the gauges `assessment_orders_open` by status (SR's, `RECEIVED`, `SR_REFUSING`), "
        "`assessment_orders_failed`, orders whose workflow failed, was terminated or timed out in "
        "the past 24 hours, and `assessment_orders_undelivered`, orders that gave up telling SR in "
        "the past 24 hours); no candidate data in any label",
    )
    order_census_seconds: float = Field(
        30.0,
        gt=0,
        description="how often the worker counts open orders by status (Temporal visibility "
        "queries) for `assessment_orders_open` and `assessment_orders_failed`; every worker "
        "reports the same counts, so aggregate them with `max`",
    )
    payload_keys: SecretStr = Field(
        SecretStr(EMBEDDED_PAYLOAD_KEY),
        description="AES-256-GCM keys for workflow payloads (candidate data in Temporal), "
        "`id:base64-key` comma-separated: the first encrypts, all decrypt; "
        "`python -m codec key-2026` makes one",
    )
    codec_cors_origins: list[str] = Field(
        default_factory=list,
        description="JSON list of Temporal UI origins allowed to call the codec endpoint from the "
        "browser",
        json_schema_extra=shown_default("the embedded UI's"),
    )

    # Our partner API, as SmartRecruiters reaches it
    api_host: str = Field("127.0.0.1", description="the address the API listens on")
    api_port: int = Field(8000, description="the port the API listens on")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="our API as SR and vendors reach it (webhook URLs)",
    )
    partner_client_id: str = Field(
        "smartrecruiters",
        description="the client id SR presents at `POST /oauth/token` for the settings' company "
        "(embedded mode; per-company credentials come with Connect)",
    )
    partner_client_secret: SecretStr = Field(
        SecretStr(EMBEDDED_PARTNER_SECRET),
        description="…and its secret; empty, these credentials are off",
        json_schema_extra=shown_default(f"`{EMBEDDED_PARTNER_SECRET}`"),
    )
    partner_company_id: str = Field(
        "sim-company-1",
        min_length=1,
        max_length=200,
        description="the one SR company those credentials speak for (the SR simulator's own), as "
        "long as it never connected through Connect",
    )
    # Rate limits are per client address: this decides which address a request has.
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description='JSON list of the reverse proxies\' IPs or CIDRs (`["*"]`: any, when nothing '
        "else can reach the API) whose `X-Forwarded-For` and `X-Forwarded-Proto` name the client; "
        "from anyone else the headers are ignored, so the client is the address it connects from",
    )
    trigger_token_days: float = Field(
        7.0,
        gt=0,
        le=3650,
        description="days until a new External Trigger Token expires when its issuer gives none "
        "(`token issue --expires-in-days`): a token leaked from an email or a ticket stays usable "
        "only that long. `make run`'s printed tokens are issued afresh at each start, valid a day",
    )
    admin_api_key: SecretStr | None = Field(
        None,
        description="bearer key of the operators' admin API under `/admin`; unset, every "
        "`/admin` route answers 503. Beyond loopback (`ASSESSMENTS_PUBLIC_URL`) the API and the "
        f"worker refuse to start with one shorter than {MIN_ADMIN_API_KEY_LENGTH} characters: "
        "the key is checked on every `/admin` request, so it must resist guessing online",
    )
    # The operators' console (/console): people sign in with their own name and password.
    console_session_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 7,
        description="a console sign-in lasts at most this long, however busy its operator",
    )
    console_idle_minutes: float = Field(
        30.0,
        gt=0,
        le=24 * 60,
        description="a console sign-in ends after this long without a page asked for",
    )
    console_overview_seconds: float = Field(
        15.0,
        ge=0,
        le=3600,
        description="the console's overview is counted again at most this often, once for "
        "every operator of an API process (an overview asks Temporal's visibility about 35 "
        "counts); 0 counts at every request",
    )
    console_lockout_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="wrong passwords in a row that lock an operator out of the console",
    )
    console_lockout_minutes: float = Field(
        15.0,
        gt=0,
        le=24 * 60,
        description="how long such a lockout lasts (a new password set by "
        "`assessments operators password` ends it at once)",
    )
    # Single sign-on to the console through the organisation's OpenID Connect provider (Okta,
    # Entra ID, Google Workspace, Keycloak, …), beside the passwords: docs/console.md.
    console_oidc_issuer: str | None = Field(
        None,
        description="the OpenID Connect provider's issuer URL, exactly as its discovery document "
        "(`{ISSUER}/.well-known/openid-configuration`) states it; unset, single sign-on is off. "
        "Register `{PUBLIC_URL}/console/sign-in/oidc/callback` as the redirect URI",
    )
    console_oidc_client_id: str = Field(
        "",
        max_length=400,
        description="the console's client id at that provider",
        json_schema_extra=shown_default("*(unset)*"),
    )
    console_oidc_client_secret: SecretStr | None = Field(
        None,
        description="…and its secret; unset for a public client (PKCE alone)",
    )
    console_oidc_name_claim: str = Field(
        "preferred_username",
        min_length=1,
        max_length=100,
        description="the ID token's claim whose value is the operator's name in "
        "`assessments operators` (e.g. `email`); whoever it names must be an operator already",
    )
    console_oidc_scopes: str = Field(
        "openid profile email",
        description="the scopes asked for (space-separated; `openid` is always among them)",
    )
    console_oidc_provider_name: str = Field(
        "",
        max_length=60,
        description="the provider's name on the sign-in page's button (*Sign in with …*)",
        json_schema_extra=shown_default("the issuer's host"),
    )

    @field_validator("console_oidc_issuer")
    @classmethod
    def _oidc_issuer_url(cls, issuer: str | None) -> str | None:
        if not issuer:
            return None
        # OpenID Connect Discovery 1.0 §2 and §3: an https URL with no query or fragment (http
        # only on this machine, for a provider run beside the hub).
        parts = urlsplit(issuer)
        local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not (parts.scheme == "https" or local) or not parts.netloc:
            raise ValueError("the OIDC issuer is an https URL (http only on 127.0.0.1)")
        if parts.query or parts.fragment:
            raise ValueError("the OIDC issuer URL has no query or fragment")
        return issuer

    @model_validator(mode="after")
    def _oidc_client(self) -> Settings:
        if self.console_oidc_issuer and not self.console_oidc_client_id:
            raise ValueError(
                "ASSESSMENTS_CONSOLE_OIDC_ISSUER needs ASSESSMENTS_CONSOLE_OIDC_CLIENT_ID"
            )
        return self

    # Stateless, so any API replica can check the tokens another issued.
    token_signing_key: SecretStr = Field(
        SecretStr(EMBEDDED_TOKEN_SIGNING_KEY),
        description="signs the bearer tokens we issue; set a long random value in production",
    )
    token_ttl_seconds: int = Field(3600, description="lifetime of those tokens")

    integration_name: str = Field(
        "Temporal Assessments", description="the name SR admins see on the consent page"
    )

    # SmartRecruiters, as we call it
    sr_base_url: str = Field(
        "http://127.0.0.1:8100",
        description="SR API base (`https://api.smartrecruiters.com` in production; the simulator "
        "here)",
    )
    sr_token_url: str | None = Field(
        None,
        description="SR's token endpoint",
        json_schema_extra=shown_default("`{SR_BASE_URL}/identity/oauth/token`"),
    )
    sr_client_id: str = Field(
        "partner-in-sim-company",
        description="SR-issued credentials we use for results and reports: the client id",
    )
    sr_client_secret: SecretStr = Field(
        SecretStr(EMBEDDED_SR_CLIENT_SECRET),
        description="…and its secret",
        json_schema_extra=shown_default("*(simulator's)*"),
    )
    sr_master_client_id: str = Field(
        "partner-master",
        description="our partner-level master credentials from SR (Connect, partner "
        "configuration): the client id",
    )
    sr_master_client_secret: SecretStr = Field(
        SecretStr(EMBEDDED_SR_MASTER_CLIENT_SECRET),
        description="…and its secret",
        json_schema_extra=shown_default("*(simulator's)*"),
    )
    sr_redirect_origins: list[str] = Field(
        default_factory=list,
        description="JSON list of origins the consent page may return the admin to "
        "(`https://host[:port]`, or `https://*.domain` for any host under the domain); replaces "
        "the default when set",
        json_schema_extra=shown_default(
            "`https://smartrecruiters.com`, `https://*.smartrecruiters.com` and the origin of "
            "`SR_BASE_URL`"
        ),
    )
    sr_timeout_seconds: float = Field(10.0, description="timeout of every SR call")
    sr_requests_per_second: float = Field(10.0, description="SR's published limit per credential")
    sr_max_in_flight: int = Field(8, description="SR's published concurrency limit per credential")
    sr_shared_limits: bool = Field(
        True,
        description="keep both limits for every process at once, through the store "
        "(docs/scaling.md); `false`: each process alone, so N processes may send N times as much",
    )
    sr_limit_wait_seconds: float = Field(
        10.0,
        description="how long a call to SR waits for its turn under the shared limits before it "
        "is deferred (retried later)",
    )
    # SR's legacy API used this name.
    sr_attachment_part_name: str = Field(
        "attachment",
        description="multipart part name of the report upload (undocumented by SR)",
    )
    sr_callback_origins: list[str] = Field(
        default_factory=list,
        description="JSON list of origins an order's `resultCallbackURL` may be on "
        "(`scheme://host[:port]`, or `scheme://*.domain` for its subdomains); results (and our SR "
        "token) go to that URL. The origin of `SR_BASE_URL` is always allowed; an order with a "
        "callback elsewhere is refused (400)",
        json_schema_extra=shown_default("SR's API host (`https://api.smartrecruiters.com`)"),
    )
    sr_callback_path_prefix: str = Field(
        "/assessment-api/",
        description="the path an order's `resultCallbackURL` must start with (SR's assessment "
        "API), so no order has us call another SR API with its company's token; another is "
        "refused (400)",
    )
    sr_other_callback_attachment: Literal["append", "none"] = Field(
        "append",
        description="for a `resultCallbackURL` not shaped `…/orders/{id}/results`: upload the "
        "report at its path plus `/attachment` (`append`, our assumption), or not (`none`: the "
        "report's link goes in the result's `attachments`)",
    )
    # SR's spec lists application/json yet cites RFC 7396, whose type is the other.
    sr_patch_media_type: Literal["application/json", "application/merge-patch+json"] = Field(
        "application/json",
        description="media type of our result merge patches (`application/json` as SR's spec "
        "lists, or RFC 7396's `application/merge-patch+json`); on a 415 the other is tried and "
        "kept",
    )
    sr_id_url_form: Literal["template", "base"] = Field(
        "template",
        description="how we register the URLs SR fills an id into: `template` registers "
        "`{PUBLIC_URL}/packages/{assessmentPackageId}` and "
        "`{PUBLIC_URL}/integrations/companies/{companyId}`, as the spec's descriptions name them; "
        "`base` registers `{PUBLIC_URL}/packages` and `{PUBLIC_URL}/integrations/companies`, "
        "should SR refuse braces in a URL. Our routes answer the id substituted or appended under "
        "either ([smartrecruiters-protocol.md](smartrecruiters-protocol.md))",
    )
    disconnect_check_hours: float = Field(
        default=24.0,
        gt=0,
        description="a DELETE on our integrationDisableUrl without the company's bearer token "
        "disconnects the company only once SR refuses the credentials it issued for it; we ask SR "
        "again, with growing pauses, for this long (the DELETE may come before SR revokes them), "
        "then give up and log it",
    )

    # The sandbox vendor (our reference vendor)
    sandbox_vendor_url: str = Field("http://127.0.0.1:8200", description="the sandbox vendor")
    sandbox_vendor_api_key: SecretStr = Field(
        SecretStr("embedded-sandbox-api-key"), description="our key at the sandbox vendor"
    )
    hackerrank_sim_url: str = Field(
        "http://127.0.0.1:8300",
        description="embedded mode's HackerRank simulator (`make run` seeds a vendor account for "
        "it); real vendor accounts carry their own `base_url`",
    )
    checkr_sim_url: str = Field(
        "http://127.0.0.1:8400",
        description="embedded mode's Checkr simulator (`make run` seeds a vendor account for it); "
        "real vendor accounts carry their own `base_url`",
    )
    testgorilla_sim_url: str = Field(
        "http://127.0.0.1:8500",
        description="embedded mode's TestGorilla simulator (`make run` seeds a vendor account for "
        "it); real vendor accounts carry their own `base_url`",
    )
    reference_vendor_url: str = Field(
        "http://127.0.0.1:8600",
        description="embedded mode's reference vendor of the Vendor API "
        "([vendor-api.md](vendor-api.md)); `make run` seeds its API vendor account, key and "
        "webhook secret",
    )
    sandbox_webhook_secret: SecretStr = Field(
        SecretStr(EMBEDDED_SANDBOX_WEBHOOK_SECRET),
        description="HMAC secret of the sandbox vendor's webhooks",
    )
    vendor_timeout_seconds: float = Field(10.0, description="timeout of every vendor call")
    webhook_tolerance_seconds: int = Field(
        300, description="a webhook signed longer ago is a replay and refused"
    )

    # Orders
    default_deadline_days: float = Field(
        7.0,
        description="days a candidate has, from when the order was received, before the order "
        "expires",
    )
    package_deadline_days: dict[str, float] = Field(
        default_factory=dict,
        description='per package, JSON: `{"background-standard": 14}`',
    )
    poll_interval_seconds: float = Field(
        300.0,
        description="how often an order asks its vendor for news: the fallback for lost webhooks, "
        "and the only way for a vendor that pushes none (TestGorilla); `assessments run` uses 10 "
        "unless set, so a result on this machine shows within seconds",
    )
    report_wait_days: float = Field(
        60.0,
        description="once the candidate's part is done (a background check's report is being "
        "prepared), how long the order waits for the vendor, whatever its deadline",
    )
    result_revision_days: float = Field(
        30.0,
        description="how long a result the vendor can revise (a Checkr dispute) is watched after "
        "it was posted; each revision is posted again",
    )
    revision_poll_interval_seconds: float = Field(
        86400.0,
        description="how often such a result is polled meanwhile (pushes bring revisions at once; "
        "the poll catches a lost one)",
    )
    sr_refusal_give_up_days: float = Field(
        7.0,
        gt=0,
        description="how long an order keeps trying an update SR refuses us for (403, or our "
        "company's credentials refused at SR's token endpoint: the company is not connected, or "
        "was disconnected at SR) before it gives up; meanwhile its status is `SR_REFUSING`, then "
        "`UNDELIVERED` with its result kept for `orders repair … repost-result` (or `reset`) once "
        "SR listens again ([reliability.md](reliability.md#an-order-sr-will-not-hear-about))",
    )
    # SR's own timeout for this call is not documented.
    inline_order_timeout_seconds: float = Field(
        20.0,
        description="how long an inline order waits for the vendor's link before answering 503",
    )
    stuck_after_hours: float = Field(
        6.0,
        gt=0,
        description="`orders list --stuck`: an open order is stuck when a call to SR or the "
        "vendor is unfinished (retrying, or no worker takes it; the vendor poll only when it "
        'fails for another reason than "no news yet") and the order has made no progress for '
        "this long (its last step: its start, or a call finishing). Waiting for the candidate is "
        "not stuck",
    )
    # Bounds one request's work and a mistaken filter's reach.
    bulk_repair_limit: int = Field(
        500,
        ge=1,
        le=10000,
        description="`orders repair-all`: a bulk repair examines at most this many matching "
        "orders, newest first; its answer says when more matched (`more_matched`)",
    )

    # Hostile input. An SR order or a vendor webhook is a few KB.
    max_request_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="a request body larger than this (by `Content-Length`, or while a chunked "
        "body is read) is refused with 413 before any route reads it",
    )
    auth_requests_per_minute: int = Field(
        300,
        gt=0,
        description="requests per minute per client address to `POST /oauth/token`, to the "
        "consent page (`GET`/`POST /integration`), to the console's sign-in (`POST "
        "/console/sign-in`) and to `DELETE /integrations/companies/…` "
        "(anyone may send it without a token), a burst of as many allowed; beyond it 429 with "
        "`Retry-After`. Behind a reverse proxy, set `ASSESSMENTS_TRUSTED_PROXIES`",
    )
    vendor_api_requests_per_second: float = Field(
        20.0,
        gt=0,
        description="the Vendor API ([vendor-api.md](vendor-api.md)): requests a second per API "
        "vendor account and API process; beyond it and its burst 429 with `Retry-After`",
    )
    vendor_api_burst: int = Field(
        40,
        gt=0,
        description="the burst of Vendor API requests allowed above "
        "`ASSESSMENTS_VENDOR_API_REQUESTS_PER_SECOND`, per API vendor account and API process",
    )
    request_read_timeout_seconds: float = Field(
        15.0,
        gt=0,
        description="a request's head (request line and headers) must arrive within this of the "
        "connection opening or of the previous answer, else the connection is closed; its body "
        "within as long again, else 408 and the connection closed. Neither h11 nor httptools "
        "bounds this, so half a request could hold a connection open for ever",
    )

    # Logs and traces (telemetry.py)
    log_format: Literal["json", "text"] = Field(
        "json",
        description='`json`: one JSON object per line ([operations.md](operations.md), "Logs and '
        'traces"); `text`: for a person at a terminal',
        json_schema_extra=shown_default("`json` (`text` under `assessments run`)"),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        description="`DEBUG`, `INFO`, `WARNING` or `ERROR`; httpx, httpcore, aiosqlite and "
        "alembic never log below `WARNING` (their lines carry URLs and rows)",
    )
    otlp_endpoint: str | None = Field(
        None,
        description="an OpenTelemetry collector's OTLP/HTTP base URL, e.g. "
        "`http://collector:4318`: the API and the worker send their spans to `{it}/v1/traces`. "
        "Unset, the standard `OTEL_EXPORTER_OTLP_ENDPOINT` is honoured; neither set, nothing is "
        "traced",
    )

    @property
    def temporal_rpc_timeout(self) -> timedelta:
        return timedelta(seconds=self.temporal_rpc_timeout_seconds)

    def public_secrets_in_use(self, *, api: bool = True) -> list[str]:
        """Settings still holding the secrets published in this repository; a worker's (`api`
        False) without those only the API holds."""
        published = {
            "ASSESSMENTS_TOKEN_SIGNING_KEY": (self.token_signing_key, EMBEDDED_TOKEN_SIGNING_KEY),
            "ASSESSMENTS_ENCRYPTION_KEYS": (self.encryption_keys, EMBEDDED_ENCRYPTION_KEY),
            "ASSESSMENTS_PARTNER_CLIENT_SECRET": (
                self.partner_client_secret,
                EMBEDDED_PARTNER_SECRET,
            ),
            "ASSESSMENTS_PAYLOAD_KEYS": (self.payload_keys, EMBEDDED_PAYLOAD_KEY),
            "ASSESSMENTS_SANDBOX_WEBHOOK_SECRET": (
                self.sandbox_webhook_secret,
                EMBEDDED_SANDBOX_WEBHOOK_SECRET,
            ),
            "ASSESSMENTS_SR_CLIENT_SECRET": (self.sr_client_secret, EMBEDDED_SR_CLIENT_SECRET),
            "ASSESSMENTS_SR_MASTER_CLIENT_SECRET": (
                self.sr_master_client_secret,
                EMBEDDED_SR_MASTER_CLIENT_SECRET,
            ),
        }
        return [
            name
            for name, (value, public) in published.items()
            if (api or name not in API_ONLY_SECRETS)
            and public in value.get_secret_value().split(",")
        ]

    def check_secrets(self, *, api: bool = True) -> None:
        """Refuse to serve beyond this machine with secrets anyone can read in the repository, or
        an admin key short enough to guess; `api` False: as a worker, which holds fewer."""
        if urlsplit(self.public_url).hostname in LOOPBACK_HOSTS:
            return
        if in_use := self.public_secrets_in_use(api=api):
            raise RuntimeError(
                f"refusing to start: {', '.join(in_use)} still hold the published embedded "
                "values; set your own"
            )
        if (
            self.admin_api_key
            and len(admin_key := self.admin_api_key.get_secret_value()) < MIN_ADMIN_API_KEY_LENGTH
        ):
            raise RuntimeError(
                f"refusing to start: ASSESSMENTS_ADMIN_API_KEY has {len(admin_key)} "
                "characters; set one of at least "
                f"{MIN_ADMIN_API_KEY_LENGTH} (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )

    @property
    def temporal_ui_base_url(self) -> str:
        if self.temporal_ui_url:
            return self.temporal_ui_url.rstrip("/")
        host = urlsplit(f"//{self.temporal_address}").hostname or "127.0.0.1"
        return f"http://{f'[{host}]' if ':' in host else host}:{self.temporal_ui_port}"

    @property
    def ui_codec_capability(self) -> str:
        """The secret part of the Temporal UI's codec URL (the UI cannot send our bearer key),
        derived from the signing key, so whoever may open the UI may read orders."""
        return hmac.new(
            self.token_signing_key.get_secret_value().encode(), b"temporal-ui-codec", hashlib.sha256
        ).hexdigest()[:40]

    @property
    def ui_codec_endpoint(self) -> str:
        return f"{self.public_url.rstrip('/')}/codec/ui/{self.ui_codec_capability}"

    @property
    def codec_cors_origins_or_default(self) -> list[str]:
        port = self.temporal_ui_port
        return self.codec_cors_origins or [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'assessments.db'}"

    @property
    def sr_redirect_origins_or_default(self) -> list[str]:
        # SR's admin pages live on its web origins (www, a region's), not on its API's: an admin
        # coming back from a real SR must pass by default. SR_BASE_URL's origin keeps the simulator
        # working out of the box.
        parts = urlsplit(self.sr_base_url)
        return self.sr_redirect_origins or [
            *SMARTRECRUITERS_ORIGINS,
            f"{parts.scheme}://{parts.netloc}",
        ]

    @property
    def sr_token_endpoint(self) -> str:
        return self.sr_token_url or f"{self.sr_base_url.rstrip('/')}/identity/oauth/token"

    def deadline_days(self, package_id: str) -> float:
        return self.package_deadline_days.get(package_id, self.default_deadline_days)


@lru_cache
def get_settings() -> Settings:
    return Settings()
