"""Settings that protect production from the embedded defaults."""

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from codec import new_key_setting
from settings import Settings


def test_published_secrets_are_fine_on_this_machine_only():
    local = Settings(public_url="http://127.0.0.1:8000")
    assert set(local.public_secrets_in_use()) == {
        "ASSESSMENTS_TOKEN_SIGNING_KEY",
        "ASSESSMENTS_ENCRYPTION_KEYS",
        "ASSESSMENTS_PARTNER_CLIENT_SECRET",
        "ASSESSMENTS_PAYLOAD_KEYS",
        "ASSESSMENTS_SANDBOX_WEBHOOK_SECRET",
        "ASSESSMENTS_SR_CLIENT_SECRET",
        "ASSESSMENTS_SR_MASTER_CLIENT_SECRET",
    }
    local.check_secrets()
    with pytest.raises(RuntimeError, match="ASSESSMENTS_TOKEN_SIGNING_KEY"):
        Settings(public_url="https://partner.example.com").check_secrets()


def test_own_secrets_pass_anywhere():
    own = own_secrets()
    assert own.public_secrets_in_use() == []
    own.check_secrets()


def own_secrets(**changes) -> Settings:
    """A deployment beyond this machine with secrets of its own, and `changes`."""
    return Settings(
        public_url="https://partner.example.com",
        token_signing_key=SecretStr("k" * 48),
        encryption_keys=SecretStr(Fernet.generate_key().decode()),
        partner_client_secret=SecretStr(""),  # the any-company credentials turned off
        payload_keys=SecretStr(new_key_setting("k1")),
        sandbox_webhook_secret=SecretStr("w" * 48),
        sr_client_secret=SecretStr(
            ""
        ),  # only connected companies: no default company's credentials
        sr_master_client_secret=SecretStr("m" * 48),
    ).model_copy(update=changes)


@pytest.mark.parametrize(
    ("setting", "published"),
    [
        (
            "sandbox_webhook_secret",
            Settings().sandbox_webhook_secret,
        ),  # anyone could sign the vendor's webhooks
        ("sr_client_secret", Settings().sr_client_secret),
        ("sr_master_client_secret", Settings().sr_master_client_secret),
    ],
)
def test_published_webhook_and_smartrecruiters_secrets_are_refused_beyond_this_machine(
    setting, published
):
    name = f"ASSESSMENTS_{setting.upper()}"
    with pytest.raises(RuntimeError) as refused:
        own_secrets(**{setting: published}).check_secrets()
    assert (
        str(refused.value)
        == f"refusing to start: {name} still hold the published embedded values; set your own"
    )
    assert published.get_secret_value() not in str(refused.value)
    # Rotation: a published value among several is refused too.
    with pytest.raises(RuntimeError, match=name):
        own_secrets(
            **{setting: SecretStr(f"{'n' * 48},{published.get_secret_value()}")}
        ).check_secrets()


def test_a_worker_is_not_refused_for_the_master_secret_it_never_holds():
    # Workers never call SR's partner-level API: their environment lacks the master secret.
    worker = own_secrets(sr_master_client_secret=Settings().sr_master_client_secret)
    assert worker.public_secrets_in_use(api=False) == []
    worker.check_secrets(api=False)
    with pytest.raises(RuntimeError, match="ASSESSMENTS_SANDBOX_WEBHOOK_SECRET"):
        own_secrets(sandbox_webhook_secret=Settings().sandbox_webhook_secret).check_secrets(
            api=False
        )


def test_a_short_admin_key_is_refused_beyond_this_machine():
    short = "a-guessable-admin-key-31-chars!"
    with pytest.raises(RuntimeError) as refused:
        own_secrets(admin_api_key=SecretStr(short)).check_secrets()
    assert str(refused.value) == (
        "refusing to start: ASSESSMENTS_ADMIN_API_KEY has 31 characters; set one of at "
        "least 32 (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    )
    assert short not in str(refused.value)
    own_secrets(admin_api_key=SecretStr(short + "x")).check_secrets()
    own_secrets(admin_api_key=None).check_secrets()  # no admin API at all
    Settings(public_url="http://127.0.0.1:8000", admin_api_key=SecretStr("short")).check_secrets()
