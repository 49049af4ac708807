"""The operator commands of `assessments`, on a temporary SQLite store and the running SR
simulator."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from typer.testing import CliRunner

import settings as settings_module
from cli import app
from store import Store


@pytest.fixture
def cli_settings(stack, monkeypatch, tmp_path):
    """The stack's settings (so partner-config registers the same URLs), with a store of our own."""
    for name, value in stack.env.items():
        if name.startswith("ASSESSMENTS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("ASSESSMENTS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    settings_module.get_settings.cache_clear()
    yield settings_module.get_settings()
    settings_module.get_settings.cache_clear()


def run(*args: str, ok: bool = True, stdin: str | None = None):
    result = CliRunner().invoke(app, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    else:
        assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
        assert "Traceback" not in result.output and result.stderr.startswith("Error:")
    return result


def run_json(*args: str, stdin: str | None = None):
    return json.loads(run(*args, "--json", stdin=stdin).stdout)


def in_store(settings, work):
    async def main():
        store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
        try:
            return await work(store)
        finally:
            await store.dispose()

    return asyncio.run(main())


def test_vendor_account_and_token_lifecycle(cli_settings):
    account = run_json(
        "vendor-account",
        "create",
        "--name",
        "Acme sandbox",
        "--adapter",
        "sandbox",
        "--credentials",
        '{"api_key": "very-secret-key"}',
        "--package-settings",
        '{"skills-fullstack": {"deadline_days": 3}}',
    )
    assert account["name"] == "Acme sandbox" and account["package_settings"] == {
        "skills-fullstack": {"deadline_days": 3}
    }

    duplicate = run(
        "vendor-account",
        "create",
        "--name",
        "Acme sandbox",
        "--adapter",
        "sandbox",
        "--credentials",
        "{}",
        ok=False,
    )
    assert "already exists" in duplicate.stderr

    listed = run("vendor-account", "list", "--json")
    assert json.loads(listed.stdout) == [account] and "very-secret-key" not in listed.output
    table = run("vendor-account", "list")
    assert "Acme sandbox" in table.stdout and "very-secret-key" not in table.output

    issued = run("token", "issue", account["id"], "--expires-in-days", "2", "--json")
    token = json.loads(issued.stdout)
    assert token["token"].startswith("ett_") and token["expires_at"]
    assert "cannot be shown again" in issued.stderr
    redeemed = in_store(cli_settings, lambda store: store.redeem_trigger_token(token["token"]))
    assert redeemed.id == token["id"] and redeemed.vendor_account_id == account["id"]

    shown_once = run("token", "issue", account["id"])
    plaintext = shown_once.stdout.strip().splitlines()[-1]
    assert plaintext.startswith("ett_") and "cannot be shown again" in shown_once.stderr

    tokens = run("token", "list", "--vendor-account", account["id"], "--json")
    assert token["token"] not in tokens.stdout and plaintext not in tokens.stdout
    assert [t["state"] for t in json.loads(tokens.stdout)] == ["active", "active"]
    assert token["token"] not in run("token", "list").stdout

    run("token", "revoke", token["id"])
    assert in_store(cli_settings, lambda store: store.redeem_trigger_token(token["token"])) is None
    states = {t["id"]: t["state"] for t in run_json("token", "list")}
    assert states[token["id"]] == "revoked"


def test_a_token_for_one_company(cli_settings):
    account = run_json(
        "vendor-account",
        "create",
        "--name",
        "One company",
        "--adapter",
        "sandbox",
        "--credentials",
        "{}",
    )
    issued = run_json("token", "issue", account["id"], "--company", "acme")
    assert issued["company_id"] == "acme" and issued["expires_at"]
    assert (
        in_store(cli_settings, lambda store: store.redeem_trigger_token(issued["token"])).company_id
        == "acme"
    )
    shown = run("token", "issue", account["id"], "--company", "acme")
    assert "for company acme" in shown.stdout
    assert "acme" in run("token", "list", "--vendor-account", account["id"]).stdout
    assert "--company" in run("token", "issue", account["id"], "--company", "a b", ok=False).stderr


def test_expected_errors_exit_1_with_a_message(cli_settings):
    unknown = str(uuid.uuid4())
    assert "no vendor account" in run("token", "issue", unknown, ok=False).stderr
    assert "no vendor account" in run("token", "list", "--vendor-account", unknown, ok=False).stderr
    assert "no trigger token" in run("token", "revoke", unknown, ok=False).stderr

    not_json = run(
        "vendor-account",
        "create",
        "--name",
        "x",
        "--adapter",
        "sandbox",
        "--credentials",
        '{"api_key": "leak-me"',
        ok=False,
    )
    assert "--credentials is not valid JSON" in not_json.stderr and "leak-me" not in not_json.output
    invalid = run(
        "vendor-account",
        "create",
        "--name",
        "x",
        "--adapter",
        "acme",
        "--credentials",
        '["leak-me"]',
        "--package-settings",
        '{"skills-fullstack": {"deadline_days": -1}}',
        ok=False,
    )
    for field in ("adapter", "credentials", "package_settings.skills-fullstack.deadline_days"):
        assert field in invalid.stderr
    assert "leak-me" not in invalid.output


def test_credentials_can_come_from_standard_input(cli_settings):
    account = run_json(
        "vendor-account",
        "create",
        "--name",
        "from-stdin",
        "--adapter",
        "sandbox",
        "--credentials",
        "-",
        stdin='{"api_key": "piped"}',
    )
    stored = in_store(cli_settings, lambda store: store.vendor_account(account["id"]))
    assert stored.credentials == {"api_key": "piped"}


def test_connections_are_listed(cli_settings):
    assert run_json("connections") == []
    assert "No company connections yet" in run("connections").stdout

    async def connect(store: Store):
        account = await store.create_vendor_account(
            name="connected", adapter="sandbox", credentials={}
        )
        token = await store.issue_trigger_token(account.id)
        client_id, secret = Store.mint_partner_credentials()
        await store.complete_connection(
            company_id="cli-co",
            vendor_account_id=account.id,
            trigger_token_id=token.token_id,
            consent_email="admin@example.com",
            partner_client_id=client_id,
            partner_client_secret=secret,
            sr_client_id="sr-id",
            sr_client_secret="sr-secret",
        )
        return account

    account = in_store(cli_settings, connect)
    [connection] = run_json("connections")
    assert connection["company_id"] == "cli-co" and connection["vendor_account_id"] == account.id
    assert (
        connection["vendor_account_name"] == "connected"
        and connection["consent_email"] == "admin@example.com"
    )
    assert connection["state"] == "connected" and connection["disconnected_at"] is None
    table = run("connections").stdout
    assert "cli-co" in table and "connected" in table and "sr-secret" not in table


def test_partner_configuration_is_registered_and_shown(cli_settings):
    registered = run_json("partner-config", "register")
    assert registered["consentUrl"] == f"{cli_settings.public_url}/integration"
    assert run_json("partner-config", "show") == registered
    shown = run("partner-config", "show")
    assert registered["consentUrl"] in shown.stdout and "differs" not in shown.stderr


def test_partner_configuration_with_wrong_master_credentials_exits_1(cli_settings, monkeypatch):
    monkeypatch.setenv("ASSESSMENTS_SR_MASTER_CLIENT_SECRET", "wrong-master-secret")
    settings_module.get_settings.cache_clear()
    failed = run("partner-config", "show", ok=False)
    assert "master credentials" in failed.stderr and "wrong-master-secret" not in failed.output


def test_a_rotated_vendor_key_is_set_from_standard_input(cli_settings):
    account = run_json(
        "vendor-account",
        "create",
        "--name",
        "Checkr rotating",
        "--adapter",
        "checkr",
        "--credentials",
        '{"api_key": "old-key"}',
    )
    refused = run(
        "vendor-account", "set-credentials", account["id"], "--credentials", "{}", ok=False
    )
    assert "api_key" in refused.stderr
    replaced = run(
        "vendor-account",
        "set-credentials",
        account["id"],
        "--credentials",
        "-",
        stdin='{"api_key": "rotated-key"}',
    )
    assert "rotated-key" not in replaced.output
    stored = in_store(cli_settings, lambda store: store.vendor_account(account["id"]))
    assert stored.credentials == {"api_key": "rotated-key"}


def test_an_api_vendor_account_its_secret_and_its_keys(cli_settings):
    created = run(
        "vendor-account",
        "create",
        "--name",
        "Vendor on the API",
        "--adapter",
        "api",
        "--credentials",
        '{"webhook_url": "https://vendor.example/hooks"}',
    )
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and "shown only once" in created.stderr
    [account] = [a for a in run_json("vendor-account", "list") if a["name"] == "Vendor on the API"]
    assert account["webhook_secret"] is None

    issued = run("api-key", "issue", account["id"], "--label", "staging")
    key = issued.stdout.strip().splitlines()[-1]
    assert key.startswith("vk_") and "shown only once" in issued.stderr
    listed = run_json("api-key", "list", account["id"])
    assert [(k["label"], k["state"]) for k in listed] == [("staging", "active")]
    assert key not in json.dumps(listed)
    assert (
        in_store(cli_settings, lambda store: store.vendor_api.account_of_key(key)) == account["id"]
    )

    run("api-key", "revoke", listed[0]["id"])
    assert run_json("api-key", "list", account["id"])[0]["state"] == "revoked"
    assert in_store(cli_settings, lambda store: store.vendor_api.account_of_key(key)) is None
    refused = run("api-key", "issue", "no-such-account", ok=False)
    assert "no vendor account" in refused.stderr
