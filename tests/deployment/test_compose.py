"""docker-compose.yml and deploy/.env.example, checked without Docker (it cannot run here): the file
loads and follows the Compose schema's shape, the Temporal part follows the official compose, the
API and the worker get real settings, and those settings work outside Docker too."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml
from sqlalchemy.engine import make_url

from codec import parse_keys
from settings import Settings
from store import Store
from store.crypto import Vault
from tests.deployment import checks
from tests.deployment.checks import COMPOSE, ENV_EXAMPLE, ROOT


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text) -> dict:
    return checks.load_yaml(compose_text)


@pytest.fixture(scope="module")
def env_example() -> str:
    return ENV_EXAMPLE.read_text()


@pytest.fixture(scope="module")
def operator_env(env_example) -> dict[str, str]:
    """deploy/.env as an operator writes it: every secret generated with the command its comment
    gives (so those commands are tried too), the rest filled in by hand."""
    values = checks.parse_env_file(env_example)
    for name, command in checks.env_example_commands(env_example).items():
        if not values[name]:
            argv = shlex.split(command)
            result = subprocess.run(
                [sys.executable, *argv[1:]],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            values[name] = result.stdout.strip()
    values |= {
        "ASSESSMENTS_PUBLIC_URL": "https://assessments.example.com",
        "ASSESSMENTS_SR_MASTER_CLIENT_ID": "our-master-client",
        "ASSESSMENTS_SR_MASTER_CLIENT_SECRET": "our-master-secret-from-sr",
    }
    return values


def use_environment(monkeypatch, environment: dict[str, str]) -> None:
    """This process's environment as the container's: our settings from `environment` only."""
    for name in [name for name in os.environ if name.startswith("ASSESSMENTS_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


def test_the_compose_file_passes_every_check(compose_text, env_example):
    assert checks.compose_problems(compose_text, env_example) == []


def test_it_follows_the_official_temporal_compose(compose):
    services = compose["services"]
    assert set(services) >= checks.EXPECTED_SERVICES
    server_tag = services["temporal"]["image"].removeprefix("temporalio/server:")
    assert services["temporal"]["image"].startswith("temporalio/server:")
    # admin-tools runs the schema jobs for the server, so their versions must match.
    for job in ("temporal-admin-tools", "temporal-create-namespace", "temporal-search-attributes"):
        assert services[job]["image"] == f"temporalio/admin-tools:{server_tag}"
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert (
        services["temporal"]["depends_on"]["temporal-admin-tools"]["condition"]
        == "service_completed_successfully"
    )
    assert (
        services["temporal-create-namespace"]["depends_on"]["temporal"]["condition"]
        == "service_healthy"
    )
    assert (
        services["temporal-search-attributes"]["depends_on"]["temporal-create-namespace"][
            "condition"
        ]
        == "service_completed_successfully"
    )
    for role in ("api", "worker"):
        assert (
            services[role]["depends_on"]["temporal-search-attributes"]["condition"]
            == "service_completed_successfully"
        )
        assert (
            services[role]["depends_on"]["assessments-postgresql"]["condition"] == "service_healthy"
        )
    assert {
        "temporal-admin-tools",
        "temporal-create-namespace",
        "temporal-search-attributes",
    } <= checks.one_shot_services(compose)


def test_the_registered_search_attributes_are_the_orders(compose):
    job = compose["services"]["temporal-search-attributes"]
    assert (
        checks.parse_search_attributes(job["environment"]["SEARCH_ATTRIBUTES"])
        == checks.expected_search_attributes()
    )
    assert len(checks.expected_search_attributes()) == 5


def test_the_jobs_scripts_exist_and_parse(compose):
    for name, service in compose["services"].items():
        command = service.get("command")
        if isinstance(command, str) and command.startswith("/scripts/"):
            mount = next(v for v in service["volumes"] if v.split(":")[1] == "/scripts")
            script = ROOT / mount.split(":")[0] / command.removeprefix("/scripts/")
            assert script.is_file(), f"{name}: {script}"
            subprocess.run(["sh", "-n", str(script)], check=True)
    config = compose["services"]["temporal"]["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    mount = next(v for v in compose["services"]["temporal"]["volumes"] if "dynamicconfig" in v)
    assert (
        config.startswith("config/dynamicconfig/")
        and mount.split(":")[1] == "/etc/temporal/config/dynamicconfig"
    )
    assert isinstance(
        checks.load_yaml((ROOT / mount.split(":")[0] / config.rsplit("/", 1)[1]).read_text()), dict
    )


def test_every_variable_has_a_line_in_the_env_example(compose, env_example):
    used = checks.variables_used(compose)
    assert used and used <= set(checks.parse_env_file(env_example))


def test_the_env_example_holds_no_secret(compose, env_example):
    """Compose refuses every required value the example leaves empty, and names it."""
    values = checks.parse_env_file(env_example)
    required = checks.required_variables(compose)
    assert {
        "ASSESSMENTS_TOKEN_SIGNING_KEY",
        "ASSESSMENTS_ENCRYPTION_KEYS",
        "ASSESSMENTS_PAYLOAD_KEYS",
        "ASSESSMENTS_ADMIN_API_KEY",
    } <= required
    assert {name for name in required if values.get(name)} == set()
    with pytest.raises(checks.MissingVariable):
        checks.service_environment(compose, "api", values)


@pytest.mark.parametrize("role", ["api", "worker"])
async def test_the_compose_settings_work_outside_docker(compose, operator_env, role, monkeypatch):
    use_environment(monkeypatch, checks.service_environment(compose, role, operator_env))
    settings = Settings(_env_file=None)
    assert settings.public_secrets_in_use(api=role == "api") == []
    settings.check_secrets(api=role == "api")
    assert settings.public_url == "https://assessments.example.com"
    assert settings.temporal_namespace == operator_env["ASSESSMENTS_TEMPORAL_NAMESPACE"]
    assert (
        settings.partner_client_secret.get_secret_value() == ""
    )  # the any-company credentials are off
    Vault(settings.encryption_keys.get_secret_value())
    assert list(parse_keys(settings.payload_keys.get_secret_value())) == ["key-1"]
    url = make_url(settings.store_url)
    assert (url.drivername, url.host, url.database) == (
        "postgresql+psycopg",
        "assessments-postgresql",
        "assessments",
    )
    assert url.password == operator_env["ASSESSMENTS_POSTGRES_PASSWORD"]
    store = Store(
        settings.store_url, settings.encryption_keys.get_secret_value()
    )  # the driver is installed
    await store.dispose()
    if role == "api":
        assert settings.api_host == "0.0.0.0"
        assert (
            settings.admin_api_key is not None
            and len(settings.admin_api_key.get_secret_value()) >= 32
        )
        assert settings.codec_cors_origins == [operator_env["TEMPORAL_UI_ORIGIN"]]
        assert settings.ui_codec_endpoint.startswith("https://assessments.example.com/codec/ui/")


def test_the_parts_agree(compose, operator_env):
    """One namespace, one Temporal database password, our store's credentials, the UI's origin."""
    env = {
        name: checks.service_environment(compose, name, operator_env)
        for name in compose["services"]
    }
    namespace = env["api"]["ASSESSMENTS_TEMPORAL_NAMESPACE"]
    assert namespace == env["worker"]["ASSESSMENTS_TEMPORAL_NAMESPACE"]
    assert (
        namespace
        == env["temporal-create-namespace"]["NAMESPACE"]
        == env["temporal-search-attributes"]["NAMESPACE"]
    )
    assert namespace == env["temporal-ui"]["TEMPORAL_DEFAULT_NAMESPACE"]
    host, _, port = env["api"]["ASSESSMENTS_TEMPORAL_ADDRESS"].rpartition(":")
    assert host == "temporal" and port == "7233"
    assert (
        env["temporal-create-namespace"]["TEMPORAL_ADDRESS"]
        == env["temporal-ui"]["TEMPORAL_ADDRESS"]
        == "temporal:7233"
    )
    password = env["temporal-postgresql"]["POSTGRES_PASSWORD"]
    assert (
        password
        and password
        == env["temporal-admin-tools"]["SQL_PASSWORD"]
        == env["temporal"]["POSTGRES_PWD"]
    )
    assert (
        env["temporal"]["POSTGRES_SEEDS"]
        == env["temporal-admin-tools"]["POSTGRES_SEEDS"]
        == "temporal-postgresql"
    )
    store = env["assessments-postgresql"]
    url = make_url(env["api"]["ASSESSMENTS_DATABASE_URL"])
    assert (url.username, url.password, url.database) == (
        store["POSTGRES_USER"],
        store["POSTGRES_PASSWORD"],
        store["POSTGRES_DB"],
    )
    assert json.loads(env["api"]["ASSESSMENTS_CODEC_CORS_ORIGINS"]) == [
        env["temporal-ui"]["TEMPORAL_CORS_ORIGINS"]
    ]
    assert (
        env["temporal-ui"]["TEMPORAL_CODEC_ENDPOINT"]
        == operator_env["ASSESSMENTS_UI_CODEC_ENDPOINT"]
    )


def test_only_loopback_ports_are_published(compose, operator_env):
    for name, service in compose["services"].items():
        for port in service.get("ports") or []:
            published = checks.interpolate(str(port), operator_env)
            assert published.startswith("127.0.0.1:"), (
                f"{name} publishes {published} beyond this host"
            )


# --- The checks catch broken copies ----------------------------------------------------------


def _mutated(compose_text: str, change) -> str:
    compose = checks.load_yaml(compose_text)
    change(compose)
    return yaml.safe_dump(compose, sort_keys=False)


def _set(path: list, value):
    def change(compose):
        node = compose
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _delete(path: list):
    def change(compose):
        node = compose
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


BROKEN = {
    "a misspelt setting": (
        _set(["services", "api", "environment", "ASSESSMENTS_DATABSE_URL"], "x"),
        "ASSESSMENTS_DATABSE_URL is no setting",
    ),
    "a missing setting": (
        _delete(["services", "worker", "environment", "ASSESSMENTS_PAYLOAD_KEYS"]),
        "worker: ASSESSMENTS_PAYLOAD_KEYS is missing",
    ),
    "an unknown variable": (
        _set(["services", "api", "environment", "DEBUG"], "1"),
        "api: DEBUG is not one of our settings",
    ),
    "an unpinned image": (
        _set(["services", "temporal-ui", "image"], "temporalio/ui:latest"),
        "is not pinned",
    ),
    "an untagged image": (
        _set(["services", "assessments-postgresql", "image"], "postgres"),
        "has no tag",
    ),
    "the deprecated auto-setup": (
        _set(["services", "temporal", "image"], "temporalio/auto-setup:1.29.1"),
        "auto-setup is deprecated",
    ),
    "a service without healthcheck": (
        _delete(["services", "worker", "healthcheck"]),
        "worker: neither a healthcheck nor a one-shot job",
    ),
    "a dependency on no service": (
        _set(["services", "api", "depends_on", "postgres"], {"condition": "service_healthy"}),
        "depends on postgres, which is no service",
    ),
    "a job that restarts": (
        _set(["services", "temporal-create-namespace", "restart"], "always"),
        "restarts when it exits",
    ),
    "a misspelt key": (_set(["services", "api", "depend_on"], {}), "depend_on"),
    "an undocumented variable": (
        _set(
            ["services", "api", "environment", "ASSESSMENTS_POLL_INTERVAL_SECONDS"],
            "${POLL_SECONDS}",
        ),
        "${POLL_SECONDS} has no line",
    ),
    "a search attribute short": (
        _set(
            ["services", "temporal-search-attributes", "environment", "SEARCH_ATTRIBUTES"],
            "AssessmentOrderStatus=Keyword",
        ),
        "AssessmentVendor (Keyword) of orders/visibility.py is not registered",
    ),
    "an anonymous database volume": (
        _set(["services", "temporal-postgresql", "volumes"], ["/var/lib/postgresql/data"]),
        "anonymous volume",
    ),
    "a dependency cycle": (
        _set(
            ["services", "temporal-postgresql", "depends_on"],
            {"api": {"condition": "service_healthy"}},
        ),
        "dependency cycle",
    ),
}


@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
def test_a_broken_copy_is_caught(compose_text, env_example, broken):
    change, expected = BROKEN[broken]
    problems = checks.compose_problems(_mutated(compose_text, change), env_example)
    assert any(expected in problem for problem in problems), problems


def test_a_duplicate_key_is_caught(compose_text, env_example):
    duplicated = compose_text.replace(
        "      ASSESSMENTS_API_HOST: 0.0.0.0\n",
        "      ASSESSMENTS_API_HOST: 0.0.0.0\n      ASSESSMENTS_API_HOST: 127.0.0.1\n",
        1,
    )
    assert duplicated != compose_text
    assert checks.compose_problems(duplicated, env_example)[0].startswith("not valid YAML")


def test_an_undocumented_variable_in_the_env_example_is_caught(compose, env_example):
    without = "\n".join(
        line for line in env_example.splitlines() if not line.startswith("TEMPORAL_UI_ORIGIN=")
    )
    assert checks.variable_problems(compose, without) == [
        "${TEMPORAL_UI_ORIGIN} has no line in deploy/.env.example"
    ]


async def test_a_worker_without_the_partner_secret_refuses_to_start(
    compose, operator_env, monkeypatch
):
    environment = checks.service_environment(compose, "worker", operator_env)
    del environment["ASSESSMENTS_PARTNER_CLIENT_SECRET"]
    use_environment(monkeypatch, environment)
    with pytest.raises(RuntimeError, match="ASSESSMENTS_PARTNER_CLIENT_SECRET"):
        Settings(_env_file=None).check_secrets()
