"""Single sign-on to the console through the organisation's OpenID Connect provider (Okta, Entra
ID, Google Workspace, Keycloak, …), beside the passwords.

The authorization code flow of OpenID Connect Core 1.0 §3.1, with PKCE (RFC 7636, S256), `state`
and `nonce`; the provider's endpoints and keys come from its discovery document (OpenID Connect
Discovery 1.0), fetched with timeouts and kept a few minutes. The provider vouches for who someone
is; only an operator of ours whose name is the configured claim's value signs in, with the role
our store gives them (`assessments operators add NAME --no-password`).

Between the redirect to the provider and its return, `state`, `nonce` and the PKCE verifier wait
in a short-lived signed cookie (HttpOnly, this path only): nothing is kept on the server, so any
API replica can take the callback. Tokens are never logged nor shown; every refusal is a page in
plain words (400, 401, 403, or 502 when the provider cannot be used), never a 500.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import time
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, Request
from fastapi.responses import Response
from joserfc import jwt as jose_jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from admin.identity import IdentityError
from api.console.pages import see_other
from api.console.session import secure
from api.console.sign_in import safe_next, set_session_cookie, sign_in_page, sso_name
from peers import peer_client
from settings import Settings

log = logging.getLogger("assessments.console")
router = APIRouter()

COOKIE = "console_oidc"
COOKIE_PATH = "/console/sign-in/oidc"
COOKIE_AUDIENCE = "console-oidc"
# Long enough to sign in at the provider (a password, a second factor); short enough that a
# half-finished sign-in does not linger.
PENDING_SECONDS = 10 * 60
# The discovery document and the keys are kept this long; a kid we do not know fetches the keys
# again (the provider rotated them), at most once a minute.
CACHE_SECONDS = 5 * 60
KEYS_REFETCH_SECONDS = 60
TIMEOUT = httpx.Timeout(10.0)
# Core §3.1.3.7 step 7: the provider's asymmetric signatures; never "none", never HS* (whose key
# would be our client secret).
SIGNATURE_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_NEXT_LENGTH = 1024
# Clocks differ a little between the provider and us.
LEEWAY_SECONDS = 60


class ProviderUnusable(Exception):
    """The provider could not be reached or answered what we cannot use (safe to show)."""


class SignInRefused(Exception):
    """The sign-in is refused: `message` is safe to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Provider:
    """The configured provider's discovery document and signing keys, kept for a few minutes."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is not None and time.monotonic() - self._metadata[0] < CACHE_SECONDS:
            return self._metadata[1]
        # Discovery §4: the issuer with any trailing slash removed, then the well-known path.
        document = await _get_json(
            f"{self.issuer.rstrip('/')}/.well-known/openid-configuration", "discovery document"
        )
        # Discovery §4.3: the issuer it states MUST be identical to the one we asked.
        if document.get("issuer") != self.issuer:
            raise ProviderUnusable(
                "its discovery document names another issuer than ASSESSMENTS_CONSOLE_OIDC_ISSUER"
            )
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not _url_like_issuer(document.get(endpoint), self.issuer):
                raise ProviderUnusable(f"its discovery document has no usable {endpoint}")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise ProviderUnusable("it does not support PKCE with S256")
        self._metadata = (time.monotonic(), document)
        return document

    async def keys(self, *, unknown_kid: bool = False) -> KeySet:
        """The provider's signing keys; `unknown_kid`: a token named a key we did not have."""
        if self._keys is not None:
            age = time.monotonic() - self._keys[0]
            if age < (KEYS_REFETCH_SECONDS if unknown_kid else CACHE_SECONDS):
                return self._keys[1]
        document = await _get_json((await self.metadata())["jwks_uri"], "key set")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise ProviderUnusable("its key set (jwks_uri) is not a JWK Set") from None
        self._keys = (time.monotonic(), keys)
        return keys


def _url_like_issuer(url: object, issuer: str) -> bool:
    # Discovery §3: https URLs; http only where the issuer itself is (a provider on this machine).
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.scheme in {"https", urlsplit(issuer).scheme}


async def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        async with peer_client(timeout=TIMEOUT) as http:
            answer = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as err:
        raise ProviderUnusable(f"its {what} could not be fetched ({type(err).__name__})") from None
    if answer.status_code != 200:
        raise ProviderUnusable(f"its {what} answered HTTP {answer.status_code}")
    try:
        document = answer.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ProviderUnusable(f"its {what} is not a JSON object")
    return document


def _provider(request: Request) -> Provider | None:
    """The configured provider (one per app, so its cache outlives a request), or None: single
    sign-on is off."""
    settings: Settings = request.app.state.settings
    if not settings.console_oidc_issuer:
        return None
    provider: Provider | None = getattr(request.app.state, "oidc_provider", None)
    if provider is None or provider.issuer != settings.console_oidc_issuer:
        provider = request.app.state.oidc_provider = Provider(settings.console_oidc_issuer)
    return provider


def _redirect_uri(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}/console/sign-in/oidc/callback"


def _key(settings: Settings) -> str:
    return settings.token_signing_key.get_secret_value()


@router.get("/sign-in/oidc")
async def start(request: Request, next: str = "/console") -> Response:
    """To the provider, with a fresh state, nonce and PKCE challenge (Core §3.1.2.1)."""
    settings: Settings = request.app.state.settings
    provider = _provider(request)
    if provider is None:
        return sign_in_page(
            request,
            next_page=next,
            error="Single sign-on is not set up on this hub: sign in with your name and password.",
            status_code=404,
        )
    try:
        metadata = await provider.metadata()
    except ProviderUnusable as err:
        return _unusable(request, settings, str(err), next)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = generate_token(64)  # RFC 7636 §4.1: 43 to 128 unreserved characters
    scopes = settings.console_oidc_scopes.split()
    location = add_params_to_uri(
        metadata["authorization_endpoint"],
        [
            ("response_type", "code"),
            ("client_id", settings.console_oidc_client_id),
            ("redirect_uri", _redirect_uri(settings)),
            ("scope", " ".join(["openid", *(s for s in scopes if s != "openid")])),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
    pending = {
        "aud": COOKIE_AUDIENCE,
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        # A cookie holds 4 KB at most: a longer page to come back to is the overview.
        "next": safe_next(next) if len(next) <= MAX_NEXT_LENGTH else "/console",
        "exp": int(time.time()) + PENDING_SECONDS,
    }
    answer = see_other(location)
    answer.set_cookie(
        COOKIE,
        jwt.encode(pending, _key(settings), algorithm="HS256"),
        max_age=PENDING_SECONDS,
        httponly=True,
        secure=secure(settings),
        # Lax: the provider sends the browser back with a top-level GET, which Lax lets through.
        samesite="lax",
        path=COOKIE_PATH,
    )
    return answer


@router.get("/sign-in/oidc/callback")
async def callback(request: Request) -> Response:
    """Back from the provider (Core §3.1.2.5 or §3.1.2.6): checked, then signed in or refused."""
    settings: Settings = request.app.state.settings
    provider = _provider(request)
    if provider is None:
        return sign_in_page(
            request,
            next_page="/console",
            error="Single sign-on is not set up on this hub: sign in with your name and password.",
            status_code=404,
        )
    pending = _pending(request, settings)
    next_page = str(pending.get("next", "/console")) if pending else "/console"
    answer: Response
    name = ""
    try:
        if pending is None:
            raise SignInRefused(
                400,
                "This sign-in did not start in this browser, or took more than "
                f"{PENDING_SECONDS // 60} minutes: start again.",
            )
        name = await _signed_in_name(request, settings, provider, pending)
        signed = await request.app.state.identities.sign_in_as(name, how="sso")
    except IdentityError:
        reason = "not an operator"
        answer = sign_in_page(
            request,
            next_page=next_page,
            error=f"You signed in at {sso_name(settings)} as {name[:100]}, who is not an "
            "operator of this hub. An operator with access to the hub's machine can add you "
            "(assessments operators add NAME --no-password).",
            status_code=403,
        )
    except SignInRefused as err:
        reason = err.message
        answer = sign_in_page(
            request, next_page=next_page, error=err.message, status_code=err.status
        )
    except ProviderUnusable as err:
        reason = str(err)
        answer = _unusable(request, settings, str(err), next_page)
    else:
        reason = ""
        answer = see_other(safe_next(next_page))
        set_session_cookie(answer, settings, signed.token)
    if reason:
        log.info("console single sign-on refused: %s", reason)
    # One use: a replayed callback finds no pending sign-in.
    answer.delete_cookie(COOKIE, path=COOKIE_PATH, secure=secure(settings), httponly=True)
    return answer


def _pending(request: Request, settings: Settings) -> dict[str, Any] | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        claims = jwt.decode(cookie, _key(settings), algorithms=["HS256"], audience=COOKIE_AUDIENCE)
    except jwt.PyJWTError:
        return None
    if not all(isinstance(claims.get(k), str) for k in ("state", "nonce", "verifier", "next")):
        return None
    return claims


async def _signed_in_name(
    request: Request, settings: Settings, provider: Provider, pending: dict[str, Any]
) -> str:
    """The operator's name the provider vouches for, once every check of Core §3.1.2.7 and
    §3.1.3.7 passed."""
    params = request.query_params
    who = sso_name(settings)
    # RFC 6749 §10.12: the answer belongs to the request this browser sent.
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), str(pending["state"]).encode()):
        raise SignInRefused(
            400, "This answer from the identity provider is not for this sign-in: start again."
        )
    if error := params.get("error"):
        # Core §3.1.2.6: the provider's own error code (its description could say anything).
        shown = error[:60] if error.isascii() and error.replace("_", "").isalnum() else "an error"
        raise SignInRefused(401, f"{who} did not sign you in ({shown}).")
    code = params.get("code", "")
    if not code or len(code) > 4096:
        raise SignInRefused(400, f"{who} sent no sign-in code: start again.")
    tokens = await _trade(settings, await provider.metadata(), code, str(pending["verifier"]))
    claims = await _checked_id_token(settings, provider, tokens, str(pending["nonce"]))
    claim = settings.console_oidc_name_claim
    value = claims.get(claim)
    if not isinstance(value, str) or not value:
        raise SignInRefused(401, f"{who} did not say who you are: its ID token has no {claim}.")
    if claim == "email" and claims.get("email_verified") is False:
        raise SignInRefused(401, f"{who} has not verified your email address.")
    return value


async def _trade(
    settings: Settings, metadata: dict[str, Any], code: str, verifier: str
) -> dict[str, Any]:
    """The code for tokens at the token endpoint (Core §3.1.3.1, RFC 7636 §4.5)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _redirect_uri(settings),
        "code_verifier": verifier,
    }
    headers = {"Accept": "application/json"}
    client_id = settings.console_oidc_client_id
    secret = settings.console_oidc_client_secret
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if secret is None:
        form["client_id"] = client_id  # a public client: PKCE is its proof
    elif "client_secret_basic" in methods or "client_secret_post" not in methods:
        # RFC 6749 §2.3.1: each form-encoded, then Basic.
        pair = f"{quote_plus(client_id)}:{quote_plus(secret.get_secret_value())}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form |= {"client_id": client_id, "client_secret": secret.get_secret_value()}
    who = sso_name(settings)
    try:
        async with peer_client(timeout=TIMEOUT) as http:
            answer = await http.post(metadata["token_endpoint"], data=form, headers=headers)
    except httpx.HTTPError as err:
        raise ProviderUnusable(
            f"its token endpoint could not be reached ({type(err).__name__})"
        ) from None
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        said = f" ({error[:60]})" if isinstance(error, str) and error.isascii() else ""
        # An expired or replayed code, a wrong secret or verifier: the provider's word, no more.
        raise SignInRefused(
            401,
            f"{who} refused this sign-in's code{said}: start again, or ask whoever runs "
            "the hub to check its single sign-on settings.",
        )
    return body


async def _checked_id_token(
    settings: Settings, provider: Provider, tokens: dict[str, Any], nonce: str
) -> dict[str, Any]:
    """The ID token's claims, once its signature (the provider's keys), issuer, audience, expiry
    and nonce are right (Core §3.1.3.7)."""
    who = sso_name(settings)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused(401, f"{who} sent no ID token: is the scope openid asked for?")
    metadata = await provider.metadata()
    offered = metadata.get("id_token_signing_alg_values_supported")
    algorithms = (
        [a for a in offered if a in SIGNATURE_ALGORITHMS] if isinstance(offered, list) else []
    )
    registry = JWSRegistry(algorithms=algorithms or ["RS256"], strict_check_header=False)
    try:
        try:
            token = jose_jwt.decode(id_token, await provider.keys(), registry=registry)
        except InvalidKeyIdError:
            token = jose_jwt.decode(
                id_token, await provider.keys(unknown_kid=True), registry=registry
            )
        access_token = tokens.get("access_token")
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": settings.console_oidc_client_id},
                "nonce": {"essential": True, "value": nonce},
            },
            {
                "nonce": nonce,
                "client_id": settings.console_oidc_client_id,
                **({"access_token": access_token} if isinstance(access_token, str) else {}),
            },
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except JoseError as err:
        raise SignInRefused(
            401,
            f"{who}'s ID token was refused: {_why(err)}. Sign in again; if it keeps "
            "happening, ask whoever runs the hub.",
        ) from None
    return dict(claims)


def _why(err: JoseError) -> str:
    """A refused ID token's fault, in plain words."""
    if isinstance(err, InvalidKeyIdError):
        return "it is signed with a key the provider does not publish"
    if isinstance(err, BadSignatureError):
        return "its signature does not match the provider's keys"
    if isinstance(err, ExpiredTokenError):
        return "it has expired (or this server's clock is wrong)"
    if isinstance(err, ClaimError):
        return {
            "iss": "another provider issued it",
            "aud": "it was issued for another client",
            "azp": "it was issued for another client",
            "nonce": "it was issued for another sign-in (its nonce differs)",
            "iat": "it was issued in the future (is this server's clock right?)",
            "at_hash": "it does not match its access token",
        }.get(err.claim, f"its claim {err.claim[:40]} is wrong or missing")
    return "it is not a valid signed token"


def _unusable(request: Request, settings: Settings, why: str, next_page: str) -> Response:
    return sign_in_page(
        request,
        next_page=next_page,
        error=f"Single sign-on through {sso_name(settings)} is not working now: {why}. Sign in "
        "with your name and password, or try again later.",
        status_code=502,
    )
