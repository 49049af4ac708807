"""Encryption of every workflow payload before it reaches Temporal: candidate names, emails,
results.

Each payload is sealed with AES-256-GCM under a fresh 96-bit nonce; its metadata says
`encoding: binary/encrypted` and names the key (`encryption-key-id`), so keys can rotate: the first
key of ASSESSMENTS_PAYLOAD_KEYS encrypts, every listed key decrypts, and histories written under an
old key stay readable while it is listed. Search attributes are never payloads, so they never hold
candidate data. Operators read payloads in the Temporal UI through the API's codec endpoint.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16  # AES-GCM's authentication tag, at the end of every sealed payload


class PayloadKeyError(ValueError):
    """A payload key setting that cannot be used, or a payload no listed key opens."""


def parse_keys(setting: str) -> dict[str, bytes]:
    """`id:base64-of-32-bytes[,id:…]` → {id: key}, in order (the first one encrypts)."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in setting.split(","))):
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not key_id or len(key) != 32:
            # Names the key id only: the value is a secret.
            raise PayloadKeyError(f"payload key {key_id!r} is not `id:<base64 of 32 random bytes>`")
        keys[key_id] = key
    if not keys:
        raise PayloadKeyError("no payload key is set")
    return keys


def new_key_setting(key_id: str) -> str:
    """A fresh `id:key` entry, for operators rotating keys."""
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes]) -> None:
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = next(iter(keys))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self._current.encode()
        # The key id is authenticated too, so a payload cannot be relabelled to another key.
        sealed = self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on: left as it is
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"payload encrypted with key {key_id!r}, which is not in ASSESSMENTS_PAYLOAD_KEYS"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            # Too short to hold a nonce and a tag: AESGCM refuses a short nonce with a ValueError.
            if len(sealed) < TAG_BYTES:
                raise InvalidTag
            return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))
        except InvalidTag:
            raise PayloadKeyError(
                f"payload under key {key_id!r} failed its integrity check"
            ) from None


def data_converter(payload_keys: str) -> DataConverter:
    """Pydantic models as JSON (a field added to a model never breaks a history in flight),
    encrypted: for every client and worker."""
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=EncryptionCodec(parse_keys(payload_keys))
    )


if __name__ == "__main__":
    # `python -m codec [key-id]`: a new entry to put first in ASSESSMENTS_PAYLOAD_KEYS.
    import sys

    print(new_key_setting(sys.argv[1] if len(sys.argv) > 1 else "key-1"))
