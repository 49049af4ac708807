"""Every setting of the service, read from the environment (prefix ``ASSESSMENTS_``).

The defaults are the embedded mode: everything on this machine, nothing to configure.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENTS_", extra="ignore")

    # Where this service keeps its files in embedded mode (Temporal's SQLite, simulators' state).
    data_dir: Path = Path("data")

    @field_validator("data_dir")
    @classmethod
    def _data_dir_absolute(cls, folder: Path) -> Path:
        # Resolved once, against the directory the command was run from: `assessments run`
        # starts its parts elsewhere (in the repository) and hands them this absolute path.
        return folder.expanduser().resolve()

    # Our store: SQLite in the data folder by default; PostgreSQL in production
    # (postgresql+psycopg://user:password@host:5432/assessments).
    database_url: str | None = None
    # Fernet keys for credentials at rest, comma-separated:
    # the first encrypts, all decrypt (rotation).
    encryption_keys: SecretStr = SecretStr(EMBEDDED_ENCRYPTION_KEY)

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    # The Temporal UI as operators open it, for links to orders (`assessments orders show`);
    # default: the embedded UI, on the Temporal frontend's host at temporal_ui_port.
    temporal_ui_url: str | None = None
    task_queue: str = "assessment-orders"
    # Every call from the API to Temporal gives up after this long (the caller gets a 503).
    temporal_rpc_timeout_seconds: float = 10.0
    # Temporal Cloud or a TLS-secured cluster: mTLS client certificate and key (PEM file paths),
    # the server's CA when it is not a public one, or an API key (Temporal Cloud).
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_server_ca: Path | None = None
    temporal_api_key: SecretStr | None = None
    # Where the worker serves Prometheus metrics (Temporal SDK's and ours), e.g. 0.0.0.0:9464;
    # unset, none are served.
    worker_metrics_address: str | None = None
    # How often the worker counts open orders by status for those metrics
    # (a few visibility queries).
    order_census_seconds: float = Field(30.0, gt=0)
    # AES-256-GCM keys for workflow payloads (candidate data in Temporal), `id:base64-key`,
    # comma-separated: the first encrypts, all decrypt (rotation). `python -m codec` makes one.
    payload_keys: SecretStr = SecretStr(EMBEDDED_PAYLOAD_KEY)
    # Origins of the Temporal UI allowed to call our codec endpoint from the browser (CORS);
    # empty: the embedded UI's own.
    codec_cors_origins: list[str] = Field(default_factory=list)

    # Our partner API, as SmartRecruiters reaches it
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    # Credentials SR may present at POST /oauth/token for one company, partner_company_id, as long
    # as it never connected through Connect (embedded mode: the SR simulator's own company).
    # Connected companies use the credentials minted at Connect; an empty secret turns these off.
    partner_client_id: str = "smartrecruiters"
    partner_client_secret: SecretStr = SecretStr(EMBEDDED_PARTNER_SECRET)
    partner_company_id: str = Field("sim-company-1", min_length=1, max_length=200)
    # Reverse proxies in front of the API whose X-Forwarded-For (and -Proto) name the client, as
    # JSON: IPs or CIDRs, e.g. ["10.0.0.0/8"]. Empty: the header is ignored, and every client is
    # the address it connects from (rate limits are per client address).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Days until a new External Trigger Token expires, unless its issuer says otherwise: a token
    # handed to a customer stays usable only so long after it leaked from an email or a ticket.
    trigger_token_days: float = Field(7.0, gt=0, le=3650)
    # Bearer key of the operators' admin API (/admin); unset, the admin API answers 503.
    admin_api_key: SecretStr | None = None
    # Signs the bearer tokens we issue to SR; stateless, so any API replica can check them.
    token_signing_key: SecretStr = SecretStr(EMBEDDED_TOKEN_SIGNING_KEY)
    token_ttl_seconds: int = 3600

    # The name SR admins see on the consent page and in "… is connected".
    integration_name: str = "Temporal Assessments"

    # SmartRecruiters, as we call it
    sr_base_url: str = "http://127.0.0.1:8100"
    sr_token_url: str | None = None  # default: {sr_base_url}/identity/oauth/token
    sr_client_id: str = "partner-in-sim-company"
    sr_client_secret: SecretStr = SecretStr(EMBEDDED_SR_CLIENT_SECRET)
    # Our partner-level master credentials from SR Partner Operations
    # (Connect, partner configuration).
    sr_master_client_id: str = "partner-master"
    sr_master_client_secret: SecretStr = SecretStr(EMBEDDED_SR_MASTER_CLIENT_SECRET)
    # Where the consent page may send the admin back to (SR's `redirect`), as origins
    # (`https://host`, or `https://*.domain` for its subdomains); default: SR's own web and API
    # origins and SR_BASE_URL's origin.
    sr_redirect_origins: list[str] = Field(default_factory=list)
    sr_timeout_seconds: float = 10.0
    sr_requests_per_second: float = 10.0  # SR's published limit per credential
    sr_max_in_flight: int = 8  # SR's published concurrency limit per credential
    # Keep both limits for every process at once (workers, API replicas, admin commands), through
    # the store. Off, each process keeps them alone: N processes may send N times as much.
    sr_shared_limits: bool = True
    # How long a call to SR waits for its turn under the shared limits before it is deferred.
    sr_limit_wait_seconds: float = 10.0
    # The multipart part name of SR's attachment upload is not documented; SR's legacy API used
    # this one.
    sr_attachment_part_name: str = "attachment"
    # Origins an order's resultCallbackURL may be on, as JSON (`scheme://host[:port]`, or
    # `scheme://*.domain` for its subdomains): results, and our SR token, go to that URL. Empty:
    # SR's API host, https://api.smartrecruiters.com. SR_BASE_URL's origin is allowed either way.
    sr_callback_origins: list[str] = Field(default_factory=list)
    # The path a resultCallbackURL must start with: SR's assessment API, so that no order can have
    # us call another of SR's APIs with a company's token.
    sr_callback_path_prefix: str = "/assessment-api/"
    # A resultCallbackURL of another shape than …/orders/{id}/results: upload the report at its
    # path plus /attachment ("append", our assumption), or upload nothing ("none": the report's
    # link goes in the result's attachments).
    sr_other_callback_attachment: Literal["append", "none"] = "append"
    # The media type of our result merge patches: SR's spec lists application/json yet cites RFC
    # 7396, whose type is application/merge-patch+json. On a 415 the other is tried, and kept.
    sr_patch_media_type: Literal["application/json", "application/merge-patch+json"] = (
        "application/json"
    )
    # How we register the URLs SR fills an id into (singleAssessmentPackageUrl,
    # integrationDisableUrl): "template" names the id as the spec's descriptions do
    # (`{base}/packages/{assessmentPackageId}`), "base" leaves it out (`{base}/packages`), for an SR
    # that refuses braces in a URL. Our routes answer every expansion of either.
    sr_id_url_form: Literal["template", "base"] = "template"
    # A DELETE on integrationDisableUrl without the company's bearer token disconnects it only once
    # SR refuses the credentials it issued for the company; SR may revoke them after calling, so we
    # ask again, more and more rarely, for this long before giving up.
    disconnect_check_hours: float = Field(default=24.0, gt=0)

    # The sandbox vendor (our reference vendor)
    sandbox_vendor_url: str = "http://127.0.0.1:8200"
    sandbox_vendor_api_key: SecretStr = SecretStr("embedded-sandbox-api-key")
    # Embedded mode's simulators of the real vendors; `make run` seeds an account for each.
    hackerrank_sim_url: str = "http://127.0.0.1:8300"
    checkr_sim_url: str = "http://127.0.0.1:8400"
    testgorilla_sim_url: str = "http://127.0.0.1:8500"
    # The reference vendor of the Vendor API (examples/reference_vendor), a vendor with no adapter.
    reference_vendor_url: str = "http://127.0.0.1:8600"
    sandbox_webhook_secret: SecretStr = SecretStr(EMBEDDED_SANDBOX_WEBHOOK_SECRET)
    vendor_timeout_seconds: float = 10.0
    # A webhook signed longer ago than this is treated as a replay and refused.
    webhook_tolerance_seconds: int = 300

    # Orders
    default_deadline_days: float = 7.0
    # Per-package deadline in days, as JSON: {"skills-fullstack": 3, "background-standard": 14}
    package_deadline_days: dict[str, float] = Field(default_factory=dict)
    # How often an open order asks the vendor, in case a webhook was lost.
    poll_interval_seconds: float = 300.0
    # Once the candidate has done their part (a background check's report is being prepared),
    # the order waits this long for the vendor to finish, however near its deadline was.
    report_wait_days: float = 60.0
    # How long a result the vendor can revise (Checkr dispute) is watched after it was posted.
    result_revision_days: float = 30.0
    # How often such a result is polled meanwhile; pushes bring revisions at once.
    revision_poll_interval_seconds: float = 86400.0
    # How long an order keeps trying an update that SR refuses us for (the company is not
    # connected, or was disconnected at SR) before it gives up as UNDELIVERED, its result kept.
    sr_refusal_give_up_days: float = Field(7.0, gt=0)
    # How long an inline order may wait for the vendor's link before we answer 503 (SR's own
    # timeout for this call is not documented).
    inline_order_timeout_seconds: float = 20.0
    # An open order is stuck when a call to SR or the vendor is still unfinished (retrying, or no
    # worker took it) and the order has made no progress for this many hours (`orders list
    # --stuck`).
    stuck_after_hours: float = Field(6.0, gt=0)
    # A bulk repair (`orders repair-all`) examines at most this many orders, newest first; the
    # answer says when more matched. Bounds one request's work and a mistaken filter's reach.
    bulk_repair_limit: int = Field(500, ge=1, le=10000)

    # Hostile input: request bodies larger than this are refused with 413 before a route reads them
    # (an SR order or a vendor webhook is a few KB).
    max_request_bytes: int = Field(1024 * 1024, gt=0)
    # POST /oauth/token and the consent page (GET/POST /integration): requests per minute per
    # client address (a burst of that many is allowed), then 429 with Retry-After.
    auth_requests_per_minute: int = Field(300, gt=0)
    # The Vendor API (docs/vendor-api.md): per API vendor account and API process, this many
    # requests a second on average with bursts of `vendor_api_burst`, then 429 with Retry-After.
    vendor_api_requests_per_second: float = Field(20.0, gt=0)
    vendor_api_burst: int = Field(40, gt=0)
    # A request's head (request line and headers) must arrive within this many seconds of the
    # connection opening or of the previous answer, else the connection is closed; its body within
    # as many again, else 408. SR's orders and vendors' webhooks are a few KB.
    request_read_timeout_seconds: float = Field(15.0, gt=0)

    # Logs and traces (telemetry.py). One JSON object per line for log collectors, or text for a
    # person at a terminal (`assessments run` logs text unless this is set).
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # An OpenTelemetry collector's OTLP/HTTP base URL, e.g. http://collector:4318 (spans go to
    # {it}/v1/traces). Unset, the standard OTEL_EXPORTER_OTLP_ENDPOINT is honoured; neither set,
    # nothing is traced.
    otlp_endpoint: str | None = None

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
