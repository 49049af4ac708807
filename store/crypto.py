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
import unicodedata
from base64 import urlsafe_b64decode
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.errors import UnreadableSecret

# Domain separation: the pepper must not equal any key Fernet itself uses.
_PEPPER_INFO = b"smartrecruiters-assessments/store/secret-digest/v1"
# …nor the key of the candidate email index, so one hash never stands for the other.
_EMAIL_INDEX_INFO = b"smartrecruiters-assessments/store/candidate-email-index/v1"


class Vault:
    def __init__(self, keys: str) -> None:
        listed = [key.strip() for key in keys.split(",") if key.strip()]
        if not listed:
            raise ValueError("no encryption key configured: give at least one Fernet key")
        self._fernet = MultiFernet([Fernet(key) for key in listed])
        self._peppers = [_derive_pepper(key) for key in listed]
        self._email_keys = [_derive_pepper(key, _EMAIL_INDEX_INFO) for key in listed]

    def encrypt(self, plaintext: str) -> str:
        return self.encrypt_bytes(plaintext.encode())

    def decrypt(self, ciphertext: str) -> str:
        return self.decrypt_bytes(ciphertext).decode()

    def encrypt_bytes(self, data: bytes) -> str:
        return self._fernet.encrypt(data).decode("ascii")

    def decrypt_bytes(self, ciphertext: str) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii"))
        except InvalidToken as error:
            raise UnreadableSecret(
                "a stored secret is encrypted with a key that is not configured"
            ) from error

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
        return _keyed_hash(self._peppers[0], secret)

    def digests(self, secret: str) -> list[str]:
        """The secret's hash under every configured key, for looking it up by hash."""
        return [_keyed_hash(pepper, secret) for pepper in self._peppers]

    def verify(self, secret: str, stored_digest: str) -> bool:
        return any(
            hmac.compare_digest(candidate, stored_digest) for candidate in self.digests(secret)
        )

    # Candidate emails are looked up, never read back: the index keeps an HMAC-SHA256 of the
    # normalised address under a key derived from the encryption keys, so without those keys the
    # index names no one (and a guessed address cannot be tested against it).

    def email_digest(self, email: str) -> str:
        """The index entry for a new order's candidate email (under the first key)."""
        return _keyed_hash(self._email_keys[0], normalise_email(email))

    def email_digests(self, email: str) -> list[str]:
        """The email's index entry under every configured key, for finding orders by it."""
        normalised = normalise_email(email)
        return [_keyed_hash(key, normalised) for key in self._email_keys]


def normalise_email(email: str) -> str:
    """One spelling per address: Unicode NFC, no surrounding blanks, case folded (SR and vendors
    may each change the case of an address; nobody has two mailboxes that differ by case)."""
    return unicodedata.normalize("NFC", email).strip().casefold()


def _keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA256 of the text under the key, in hex: what digests and the email index store."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _derive_pepper(fernet_key: str, info: bytes = _PEPPER_INFO) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
    return hkdf.derive(urlsafe_b64decode(fernet_key))
