"""Secrets at rest: what we must read back is encrypted, what we only check is hashed.

The key material is a comma-separated list of Fernet keys (`Fernet.generate_key()`). The first
key encrypts and hashes; every key decrypts and verifies, so a new key can be put in front
without breaking what was written before. Data encrypted with an old key stays readable while that
key is listed. Hashes cannot be recomputed without the secret, so removing a key also ends the
trigger tokens and partner credentials hashed with it (their companies reconnect).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from base64 import urlsafe_b64decode
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.errors import UnreadableSecret

# Domain separation: the pepper must not equal any key Fernet itself uses.
_PEPPER_INFO = b"smartrecruiters-assessments/store/secret-digest/v1"


class Vault:
    def __init__(self, keys: str) -> None:
        listed = [key.strip() for key in keys.split(",") if key.strip()]
        if not listed:
            raise ValueError("no encryption key configured: give at least one Fernet key")
        self._fernet = MultiFernet([Fernet(key) for key in listed])
        self._peppers = [_derive_pepper(key) for key in listed]

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken as error:
            raise UnreadableSecret("a stored secret is encrypted with a key that is not configured") from error

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value))

    def decrypt_json(self, ciphertext: str) -> Any:
        return json.loads(self.decrypt(ciphertext))

    # The secrets we hash are ours: 256 bits from `secrets`, never chosen by a person. Nobody can
    # guess such a value, so a slow password hash (bcrypt, argon2) would buy nothing; a keyed hash
    # is enough and cheap enough to check on every request. The pepper means a leaked table alone
    # does not even allow testing candidates offline.

    def digest(self, secret: str) -> str:
        """The hash to store for a new secret (under the first key)."""
        return self.digests(secret)[0]

    def digests(self, secret: str) -> list[str]:
        """The secret's hash under every configured key, for looking it up by hash."""
        return [hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest() for pepper in self._peppers]

    def verify(self, secret: str, stored_digest: str) -> bool:
        return any(hmac.compare_digest(candidate, stored_digest) for candidate in self.digests(secret))


def _derive_pepper(fernet_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PEPPER_INFO)
    return hkdf.derive(urlsafe_b64decode(fernet_key))
