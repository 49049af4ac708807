"""The payload codec alone: sealing, opening, key rotation, tampering, and what errors reveal."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from codec import ENCODING, KEY_ID, EncryptionCodec, PayloadKeyError, new_key_setting, parse_keys

CANDIDATE = Payload(
    metadata={"encoding": b"json/plain"}, data=b'{"email": "ada@example.com", "first_name": "Ada"}'
)


async def test_a_sealed_payload_hides_its_content_and_opens_again():
    codec = EncryptionCodec(parse_keys(new_key_setting("k1")))
    [sealed] = await codec.encode([CANDIDATE])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert (
        b"ada@example.com" not in sealed.SerializeToString()
        and b"json/plain" not in sealed.SerializeToString()
    )
    assert await codec.decode([sealed]) == [CANDIDATE]
    [again] = await codec.encode([CANDIDATE])
    assert again.data != sealed.data  # a fresh nonce each time


async def test_keys_rotate_old_payloads_stay_readable_and_new_ones_use_the_first_key():
    old, new = new_key_setting("2025"), new_key_setting("2026")
    [written_before] = await EncryptionCodec(parse_keys(old)).encode([CANDIDATE])
    rotated = EncryptionCodec(parse_keys(f"{new},{old}"))
    assert await rotated.decode([written_before]) == [CANDIDATE]
    [written_after] = await rotated.encode([CANDIDATE])
    assert written_after.metadata[KEY_ID] == b"2026"
    with pytest.raises(PayloadKeyError, match="2026"):  # the old key alone cannot read it
        await EncryptionCodec(parse_keys(old)).decode([written_after])


async def test_tampered_or_relabelled_payloads_are_refused_and_plain_ones_pass():
    codec = EncryptionCodec(parse_keys(f"{new_key_setting('a')},{new_key_setting('b')}"))
    [sealed] = await codec.encode([CANDIDATE])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"b"}, data=sealed.data)
    for bad in (flipped, relabelled):
        with pytest.raises(PayloadKeyError, match="integrity"):
            await codec.decode([bad])
    assert await codec.decode([CANDIDATE]) == [CANDIDATE]  # written before encryption was on


@pytest.mark.parametrize(
    "setting",
    ["", "k1", "k1:not-base64!", "k1:c2hvcnQ=", ":" + new_key_setting("x").split(":", 1)[1]],
    # Named, not shown: the last key is new at each collection, and xdist's workers must agree.
    ids=["empty", "no key", "not base64", "too short", "no key id"],
)
def test_unusable_key_settings_are_refused_without_echoing_the_key(setting):
    with pytest.raises(PayloadKeyError) as refused:
        parse_keys(setting)
    secret = setting.partition(":")[2]
    assert not secret or secret not in str(refused.value)
