"""`assessments operators`: adding operators, their roles, passwords and keys, on a store of the
test's own; every change in the audit log as the CLI's user."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import settings as settings_module
from admin.identity import Identities, IdentityError
from cli import app
from store.operators import AuditQuery
from tests.test_cli_admin import in_store


@pytest.fixture
def cli_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSESSMENTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSESSMENTS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    settings_module.get_settings.cache_clear()
    yield settings_module.get_settings()
    settings_module.get_settings.cache_clear()


def run(*args: str, stdin: str | None = None, ok: bool = True) -> str:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == (0 if ok else 1), (result.output, result.exception)
    return result.output


def test_an_operator_is_added_changed_given_a_key_and_disabled(cli_settings):
    run(
        "operators",
        "add",
        "ann",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert "ann" in run("operators", "list") and "viewer" in run("operators", "list")
    # Too short a password is refused, clearly, and adds nobody.
    refused = run("operators", "add", "bob", "--password-stdin", stdin="short\n", ok=False)
    assert "12 to 256 characters" in refused
    run("operators", "role", "ann", "operator")
    issued = run("operators", "key", "issue", "ann", "--label", "laptop")
    key = next(word for word in issued.split() if word.startswith("ok_"))

    async def check(store):
        identities = Identities(store, cli_settings)
        assert (await identities.key_actor(key)).name == "ann"
        signed = await identities.sign_in("ann", "correct horse battery")
        assert signed.actor.role == "operator"
        return await store.operators.events(AuditQuery(target="ann"))

    events = in_store(cli_settings, check)
    assert [e.action for e in events] == [
        "sign-in",
        "operator.key",
        "operator.change",
        "operator.change",
    ]
    assert all(e.operator.startswith("cli:") for e in events[1:])
    run("operators", "disable", "ann")

    async def disabled(store):
        identities = Identities(store, cli_settings)
        assert await identities.key_actor(key) is None  # revoked with the operator
        with pytest.raises(IdentityError):
            await identities.sign_in("ann", "correct horse battery")

    in_store(cli_settings, disabled)
