"""Settings that protect production from the embedded defaults."""

import pytest
from cryptography.fernet import Fernet

from codec import new_key_setting
from settings import Settings


def test_published_secrets_are_fine_on_this_machine_only():
    local = Settings(public_url="http://127.0.0.1:8000")
    assert set(local.public_secrets_in_use()) == {
        "ASSESSMENTS_TOKEN_SIGNING_KEY", "ASSESSMENTS_ENCRYPTION_KEYS", "ASSESSMENTS_PARTNER_CLIENT_SECRET", "ASSESSMENTS_PAYLOAD_KEYS",
    }  # fmt: skip
    local.check_secrets()
    with pytest.raises(RuntimeError, match="ASSESSMENTS_TOKEN_SIGNING_KEY"):
        Settings(public_url="https://partner.example.com").check_secrets()


def test_own_secrets_pass_anywhere():
    own = Settings(
        public_url="https://partner.example.com",
        token_signing_key="k" * 48,
        encryption_keys=Fernet.generate_key().decode(),
        partner_client_secret="",  # the any-company credentials turned off
        payload_keys=new_key_setting("k1"),
    )
    assert own.public_secrets_in_use() == []
    own.check_secrets()
