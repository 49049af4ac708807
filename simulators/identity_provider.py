"""A simulated OpenID Connect provider, for the console's single sign-on in tests and on a
developer's machine: what Okta, Entra ID, Google Workspace or Keycloak do for the authorization
code flow, and nothing more.

Its behaviour follows the specifications, each named where it applies:
- OpenID Connect Discovery 1.0 (§3, §4): the provider's metadata at
  `/.well-known/openid-configuration`, its signing keys (a JWK Set, RFC 7517) at `/jwks`;
- OpenID Connect Core 1.0 (§3.1.2, §3.1.3): `/authorize` (a page with a *Sign in as* form, which a
  browser or a test submits) and `/token`, which trades a code for an ID token (RS256, RFC 7515
  and RFC 7519) and an access token;
- RFC 6749 (OAuth 2.0) for the clients' authentication and the errors, and RFC 7636 (PKCE): a
  code is only issued with an S256 challenge and only traded for its verifier.

`Misbehaviour` makes it issue ID tokens a client MUST reject (Core §3.1.3.7), so tests can prove
that the client does. It imports nothing of ours: it stands in for somebody else's server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import unquote_plus, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

# RFC 6749 §4.1.2 recommends at most ten minutes; a test needs seconds.
CODE_LIFETIME_SECONDS = 60
ID_TOKEN_LIFETIME_SECONDS = 300
_CLAIMS = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "name",
    "preferred_username",
    "email",
    "email_verified",
]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class Misbehaviour(StrEnum):
    """What the next ID tokens get wrong, each a check of Core §3.1.3.7 the client must make."""

    NONE = "none"
    # §3.1.3.7 step 2: the issuer must be the one the client discovered.
    WRONG_ISSUER = "wrong-issuer"
    # Step 3: the audience must contain the client's own client_id.
    WRONG_AUDIENCE = "wrong-audience"
    # Step 6: signed with a key whose kid is not in the JWK Set at jwks_uri.
    UNKNOWN_KEY = "unknown-key"
    # Step 6: under the published kid, but signed by another key (a bad signature).
    FORGED_SIGNATURE = "forged-signature"
    # Step 9: the current time must be before exp.
    EXPIRED = "expired"
    # Step 11: the nonce must be the one sent in the authentication request.
    WRONG_NONCE = "wrong-nonce"


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def new(cls) -> _Key:
        return cls(
            uuid.uuid4().hex[:16], rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    def public_jwk(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass(frozen=True)
class _Request:
    """An authentication request the provider accepted (Core §3.1.2.1), awaiting its user."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str


@dataclass(frozen=True)
class _Grant:
    """A code issued (Core §3.1.2.5): who signed in, for which request, until when."""

    request: _Request
    user: str
    auth_time: int
    expires: float


class IdentityProvider:
    """One provider with one registered client (`client_secret` None: a public client, PKCE
    alone). Set `misbehaviour` to make its next ID tokens wrong."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        redirect_uris: list[str],
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.misbehaviour = Misbehaviour.NONE
        self._key = _Key.new()
        self._requests: dict[str, _Request] = {}
        self._grants: dict[str, _Grant] = {}

    # Discovery 1.0 §3: the provider's metadata.
    def metadata(self) -> dict[str, Any]:
        auth_methods = ["client_secret_basic", "client_secret_post"]
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": [*_CLAIMS],
            "token_endpoint_auth_methods_supported": (
                auth_methods if self.client_secret is not None else ["none"]
            ),
            "code_challenge_methods_supported": ["S256"],  # RFC 8414 §2
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.public_jwk()]}

    # Core §3.1.2.1 and §3.1.2.2: the request checked before anybody is asked to sign in.
    def accept(self, params: dict[str, str]) -> tuple[str | None, str | None]:
        """(the accepted request's id, None), or (None, an error for the client)."""
        problem = self._problem(params)
        if problem is not None:
            return None, problem
        request_id = secrets.token_urlsafe(16)
        self._requests[request_id] = _Request(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=params["scope"],
            state=params.get("state"),
            nonce=params.get("nonce"),
            code_challenge=params["code_challenge"],
        )
        return request_id, None

    def _problem(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if "openid" not in params.get("scope", "").split():
            return "invalid_scope"  # Core §3.1.2.1: an OpenID request has the openid scope
        # RFC 7636 §4.4.1: this provider requires PKCE, and only its S256 method.
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "invalid_request"
        return None

    def known_client(self, client_id: str, redirect_uri: str) -> bool:
        # RFC 6749 §3.1.2.3: the redirect URI compared with the registered one, exactly.
        return client_id == self.client_id and redirect_uri in self.redirect_uris

    def answered(self, request_id: str) -> _Request | None:
        """The request the person answered (once), or None for an unknown one."""
        return self._requests.pop(request_id, None)

    def grant(self, request: _Request, user: str) -> str:
        """A fresh code: `user` signed in for `request`."""
        code = secrets.token_urlsafe(32)
        now = time.time()
        self._grants[code] = _Grant(request, user, int(now), now + CODE_LIFETIME_SECONDS)
        return code

    # Core §3.1.3.2 and RFC 6749 §4.1.3: the code traded, once, by its own client.
    def trade(
        self, form: dict[str, str], basic: tuple[str, str] | None
    ) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret"))
        if client_id != self.client_id:
            return 401, {"error": "invalid_client"}
        if self.client_secret is not None and not (
            secret is not None and secrets.compare_digest(secret, self.client_secret)
        ):
            return 401, {"error": "invalid_client"}
        grant = self._grants.pop(form.get("code", ""), None)  # single use (RFC 6749 §4.1.2)
        if grant is None or grant.expires < time.time() or grant.request.client_id != client_id:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.request.redirect_uri:
            return 400, {"error": "invalid_grant"}
        # RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or not secrets.compare_digest(
            _s256(verifier), grant.request.code_challenge
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(32)
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ID_TOKEN_LIFETIME_SECONDS,
            "scope": grant.request.scope,
            "id_token": self._id_token(grant, access_token),
        }

    # Core §2 (the ID token) and §3.1.3.6 (its claims in the code flow).
    def _id_token(self, grant: _Grant, access_token: str) -> str:
        now = int(time.time())
        wrong = self.misbehaviour
        claims: dict[str, Any] = {
            "iss": "https://elsewhere.example"
            if wrong == Misbehaviour.WRONG_ISSUER
            else self.issuer,
            "sub": "user-" + hashlib.sha256(grant.user.encode()).hexdigest()[:20],
            "aud": "another-client" if wrong == Misbehaviour.WRONG_AUDIENCE else self.client_id,
            "exp": now - 600 if wrong == Misbehaviour.EXPIRED else now + ID_TOKEN_LIFETIME_SECONDS,
            "iat": now - 900 if wrong == Misbehaviour.EXPIRED else now,
            "auth_time": grant.auth_time,
            # Core §3.1.3.6: the access token's hash, the left half of its SHA-256.
            "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16]),
            "name": grant.user,
            "preferred_username": grant.user,
            "email": grant.user if "@" in grant.user else f"{grant.user}@idp.example",
            "email_verified": True,
        }
        if grant.request.nonce is not None:
            claims["nonce"] = (
                "a-nonce-of-another-request"
                if wrong == Misbehaviour.WRONG_NONCE
                else grant.request.nonce
            )
        if wrong == Misbehaviour.UNKNOWN_KEY:
            return _Key.new().sign(claims)
        if wrong == Misbehaviour.FORGED_SIGNATURE:
            return _Key.new().sign(claims, kid=self._key.kid)
        return self._key.sign(claims)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def _redirect(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=303)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title} · "
        f"Simulated identity provider</title></head><body><main><h1>{title}</h1>{body}</main>"
        "</body></html>",
        status_code=status_code,
        headers=NO_STORE,
    )


def _client_basic(request: Request) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 §2.3.1): the id and secret, form-encoded, in Basic."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except ValueError:
        return None
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def create_app(provider: IdentityProvider) -> FastAPI:
    app = FastAPI(title="Simulated OpenID Connect provider", docs_url=None, redoc_url=None)
    app.state.provider = provider

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> JSONResponse:
        return JSONResponse(provider.metadata())

    @app.get("/jwks")
    async def jwks() -> JSONResponse:
        return JSONResponse(provider.jwks())

    @app.get("/authorize", response_class=HTMLResponse)
    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        # RFC 6749 §4.1.2.1: never redirect to a URI that is not the client's own.
        if not provider.known_client(client_id, redirect_uri):
            return _page(
                "Unknown client",
                "<p role='alert'>The client id or its redirect URI is not registered here.</p>",
                400,
            )
        request_id, error = provider.accept(params)
        if request_id is None:  # Core §3.1.2.6: the error goes back to the client
            return _redirect(redirect_uri, {"error": error, "state": params.get("state")})
        return _page(
            "Sign in",
            f"<p>{html.escape(client_id)} asks who you are.</p>"
            "<form method='post' action='/authorize'>"
            f"<input type='hidden' name='request_id' value='{request_id}'>"
            "<label for='user'>Sign in as</label> "
            "<input id='user' name='user' type='text' required maxlength='200'> "
            "<button type='submit' name='action' value='sign-in'>Sign in</button> "
            "<button type='submit' name='action' value='cancel'>Cancel</button>"
            "</form>",
        )

    @app.post("/authorize")
    async def signed_in(
        request_id: Annotated[str, Form(max_length=100)],
        user: Annotated[str, Form(max_length=200)] = "",
        action: Annotated[str, Form(max_length=20)] = "sign-in",
    ) -> Response:
        request = provider.answered(request_id)
        if request is None:
            return _page("Expired", "<p role='alert'>This sign-in expired: start again.</p>", 400)
        if action == "cancel" or not user:
            # Core §3.1.2.6: the person refused (RFC 6749 §4.1.2.1's access_denied).
            return _redirect(
                request.redirect_uri, {"error": "access_denied", "state": request.state}
            )
        code = provider.grant(request, user)
        return _redirect(request.redirect_uri, {"code": code, "state": request.state})

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        status, body = provider.trade(form, _client_basic(request))
        headers = dict(NO_STORE)
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="token"'
        return JSONResponse(body, status_code=status, headers=headers)

    return app


def main() -> None:
    """`python -m simulators.identity_provider`: a provider for a console on this machine."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--client-id", default="hub-console")
    parser.add_argument("--client-secret", default=None)
    parser.add_argument(
        "--redirect-uri", default="http://127.0.0.1:8000/console/sign-in/oidc/callback"
    )
    args = parser.parse_args()
    provider = IdentityProvider(
        f"http://127.0.0.1:{args.port}", args.client_id, args.client_secret, [args.redirect_uri]
    )
    uvicorn.run(create_app(provider), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
