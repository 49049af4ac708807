"""The one-shot jobs' scripts (deploy/temporal), run by `sh` against stand-ins for the admin-tools
image's commands (`temporal`, `temporal-sql-tool`, `nc`, `getent`), which log what they are
asked."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deployment import checks
from tests.deployment.checks import ROOT

SCRIPTS = ROOT / "deploy" / "temporal"

# Each stand-in appends its arguments to $CALLS. `temporal` fails `cluster health` while
# $UNHEALTHY_FILE has lines left (one is used up per call), fails `search-attribute list` the same
# way with $UNKNOWN_NAMESPACE_FILE, lists $EXISTING,
# and fails `namespace describe` unless $NAMESPACE_EXISTS.
STAND_INS = {
    "temporal": """#!/bin/sh
echo "temporal $*" >> "$CALLS"
use_up() { [ -s "$1" ] || return 1; sed -i 1d "$1"; }
case "$*" in
  "operator cluster health"*) ! use_up "$UNHEALTHY_FILE" ;;
  "operator namespace describe"*) [ -n "${NAMESPACE_EXISTS:-}" ] ;;
  "operator search-attribute list"*)
    ! use_up "$UNKNOWN_NAMESPACE_FILE" && printf 'Name Type\\n%s\\n' "$EXISTING" ;;
  *) true ;;
esac
""",
    "temporal-sql-tool": '#!/bin/sh\necho "temporal-sql-tool $*" >> "$CALLS"\n',
    "nc": '#!/bin/sh\necho "nc $*" >> "$CALLS"\n',
    "getent": '#!/bin/sh\necho "10.0.0.5       STREAM $2"\n',
    "sleep": "#!/bin/sh\ntrue\n",
}


@pytest.fixture
def run(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STAND_INS.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(stat.S_IRWXU)
    calls = tmp_path / "calls"

    def run(
        script: str, env: dict[str, str], unhealthy: int = 0, unknown_namespace: int = 0
    ) -> tuple[int, list[str]]:
        (tmp_path / "unhealthy").write_text("x\n" * unhealthy)
        (tmp_path / "unknown").write_text("x\n" * unknown_namespace)
        calls.write_text("")
        result = subprocess.run(
            ["sh", str(SCRIPTS / script)],
            env={
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "CALLS": str(calls),
                "UNHEALTHY_FILE": str(tmp_path / "unhealthy"),
                "UNKNOWN_NAMESPACE_FILE": str(tmp_path / "unknown"),
                "EXISTING": "",
                **env,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.returncode, calls.read_text().splitlines()

    return run


def compose_job_environment(job: str) -> dict[str, str]:
    """The job's environment from docker-compose.yml, with deploy/.env.example's values."""
    compose = checks.load_yaml(checks.COMPOSE.read_text())
    values = checks.parse_env_file(checks.ENV_EXAMPLE.read_text()) | {
        "TEMPORAL_POSTGRES_PASSWORD": "generated"
    }
    return checks.service_environment(compose, job, values)


def test_the_schema_job_sets_up_both_databases(run):
    env = compose_job_environment("temporal-admin-tools")
    assert env["SQL_PASSWORD"] == "generated"
    code, calls = run("setup-postgres.sh", env)
    assert code == 0
    tool = "temporal-sql-tool --plugin postgres12 --ep temporal-postgresql -u temporal -p 5432 --db"
    assert calls == [
        "nc -z -w 5 temporal-postgresql 5432",
        f"{tool} temporal create",
        f"{tool} temporal setup-schema -v 0.0",
        f"{tool} temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned",
        f"{tool} temporal_visibility create",
        f"{tool} temporal_visibility setup-schema -v 0.0",
        f"{tool} temporal_visibility update-schema -d "
        "/etc/temporal/schema/postgresql/v12/visibility/versioned",
    ]


def test_the_schema_job_needs_its_password(run):
    env = compose_job_environment("temporal-admin-tools") | {"SQL_PASSWORD": ""}
    code, calls = run("setup-postgres.sh", env)
    assert code != 0 and calls == []


def test_the_namespace_is_created_once_temporal_answers(run):
    env = compose_job_environment("temporal-create-namespace")
    code, calls = run("create-namespace.sh", env, unhealthy=3)
    assert code == 0
    address = "--address 10.0.0.5:7233"
    assert calls.count(f"temporal operator cluster health {address}") == 4
    assert (
        calls[-1]
        == f"temporal operator namespace create --namespace assessments --retention 720h {address}"
    )

    code, calls = run("create-namespace.sh", env | {"NAMESPACE_EXISTS": "1"})
    assert code == 0 and not any("namespace create" in call for call in calls)


def test_the_namespace_job_gives_up_on_a_temporal_that_never_answers(run):
    code, calls = run(
        "create-namespace.sh", compose_job_environment("temporal-create-namespace"), unhealthy=100
    )
    assert code == 1
    assert len(calls) == 30


def test_only_missing_search_attributes_are_registered(run):
    env = compose_job_environment("temporal-search-attributes") | {
        "EXISTING": "AssessmentVendor Keyword"
    }
    code, calls = run("register-search-attributes.sh", env, unknown_namespace=2)
    assert code == 0
    assert (
        calls.count(
            "temporal operator search-attribute list --namespace assessments --address "
            "10.0.0.5:7233"
        )
        == 3
    )
    created = [call for call in calls if "search-attribute create" in call]
    expected = sorted(checks.expected_search_attributes() - {("AssessmentVendor", "Keyword")})
    assert sorted(created) == sorted(
        (
            f"temporal operator search-attribute create --namespace assessments --name {name} "
            f"--type {kind} --address 10.0.0.5:7233"
        )
        for name, kind in expected
    )
