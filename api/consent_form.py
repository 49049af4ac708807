"""CSRF protection for the consent form: a signed form token bound to a cookie (double submit).

Stateless, so any API replica can check a form another one served.
"""

from __future__ import annotations

import hmac
import secrets
import time

import jwt

AUDIENCE = "consent-form"
COOKIE = "consent_form"
# Long enough to find the token in an email and type it in.
FORM_LIFETIME_SECONDS = 30 * 60


class FormGuard:
    def __init__(self, signing_key: str) -> None:
        self._key = signing_key

    def issue(self, company_id: str) -> tuple[str, str]:
        """(form token for the hidden field, nonce for the cookie)."""
        nonce = secrets.token_urlsafe(16)
        claims = {
            "aud": AUDIENCE,
            "company": company_id,
            "nonce": nonce,
            "exp": int(time.time()) + FORM_LIFETIME_SECONDS,
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), nonce

    def check(self, form_token: str, cookie_nonce: str | None, company_id: str) -> bool:
        try:
            claims = jwt.decode(form_token, self._key, algorithms=["HS256"], audience=AUDIENCE)
        except jwt.PyJWTError:
            return False
        same_browser = hmac.compare_digest(
            str(claims.get("nonce", "")).encode(), (cookie_nonce or "").encode()
        )
        return same_browser and claims.get("company") == company_id
