"""The Dockerfile, its build context (.dockerignore) and the container health check, checked
without Docker: parsed, compared with pyproject.toml, and the health check run for real."""

from __future__ import annotations

import http.server
import importlib.util
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from settings import Settings
from tests.deployment import checks
from tests.deployment.checks import DOCKERFILE, DOCKERIGNORE, ROOT


def test_the_dockerfile_passes_every_check():
    assert checks.dockerfile_problems(DOCKERFILE.read_text()) == []


def test_the_image_runs_the_api_by_default_as_a_non_root_user():
    instructions = checks.dockerfile_instructions(DOCKERFILE.read_text())
    final = instructions[
        max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :
    ]
    assert dict(final[1:]).get("USER") == "10001:10001"  # the uid deploy/kubernetes runs as
    assert [arguments for keyword, arguments in final if keyword in ("ENTRYPOINT", "CMD")] == [
        '["assessments"]',
        '["api"]',
    ]


def test_the_build_context_has_what_pip_install_needs_and_no_secrets():
    assert checks.dockerignore_problems(DOCKERIGNORE.read_text()) == []
    assert "store/migrations/env.py" in checks.installed_files()


BROKEN = {
    "root": ("USER 10001:10001", "USER root", "is root"),
    "no user": ("USER 10001:10001\n", "", "no USER"),
    "latest": (
        "ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm",
        "ARG PYTHON_IMAGE=python:latest",
        "not pinned",
    ),
    "another python": (
        "ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm",
        "ARG PYTHON_IMAGE=python:3.12-slim",
        "not a slim Python 3.11",
    ),
    "test extras": ("pip install --no-deps . ", "pip install --no-deps '.[test]' ", "test extras"),
    "test lock": ("-r requirements/run.txt", "-r requirements/test.txt", "test extras"),
    "not installed": (
        "pip install --no-deps . ",
        "pip install --no-deps smartrecruiters-assessments ",
        "not installed",
    ),
    "not locked": (
        "pip install --require-hashes -r requirements/run.txt",
        "pip install fastapi",
        "not installed from their lock",
    ),
    "another command": (
        'ENTRYPOINT ["assessments"]',
        'ENTRYPOINT ["uvicorn"]',
        "does not run `assessments`",
    ),
    "no healthcheck": ("HEALTHCHECK", "# HEALTHCHECK", "no HEALTHCHECK"),
    "a missing file": ("COPY deploy/healthcheck.py", "COPY deploy/health.py", "no such file"),
}


@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
def test_a_broken_dockerfile_is_caught(broken):
    old, new, expected = BROKEN[broken]
    text = DOCKERFILE.read_text()
    assert old in text
    problems = checks.dockerfile_problems(text.replace(old, new))
    assert any(expected in problem for problem in problems), problems


def test_a_broken_dockerignore_is_caught():
    text = DOCKERIGNORE.read_text()
    assert "README.md is needed by `pip install .` but excluded" in checks.dockerignore_problems(
        text + "*.md\n"
    )
    assert (
        "store/migrations/env.py is needed by `pip install .` but excluded"
        in checks.dockerignore_problems(text + "**/migrations\n")
    )
    assert "deploy/.env must never reach an image" in checks.dockerignore_problems(
        text.replace("**/.env\n", "").replace(".env\n", "")
    )
    assert "requirements/run.txt is needed to install the dependencies but excluded" in (
        checks.dockerignore_problems(text + "requirements\n")
    )
    # `!` takes a path back in.
    assert checks.dockerignore_problems(text + "*.md\n!README.md\n") == []


def test_the_dockerignore_matcher_follows_docker():
    ignored = checks.dockerignore_matcher(
        "tests\n**/__pycache__\n*.egg-info\n!keep.egg-info\n/data/\n"
    )
    assert ignored("tests/api/test_x.py") and ignored("api/__pycache__/app.cpython-311.pyc")
    assert ignored("x.egg-info/PKG-INFO") and not ignored("keep.egg-info/PKG-INFO")
    assert (
        ignored("data/temporal.db") and not ignored("api/data.py") and not ignored("api/tests.py")
    )


# --- The health check script, run for real ----------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck():
    spec = importlib.util.spec_from_file_location(
        "deploy_healthcheck", ROOT / "deploy" / "healthcheck.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def http_server(status: int):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the name http.server calls
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_api_check_asks_healthz(healthcheck):
    with http_server(200) as port:
        assert (
            healthcheck.check_api(Settings(_env_file=None, api_host="0.0.0.0", api_port=port))
            is None
        )
    with http_server(503) as port:
        assert "503" in healthcheck.check_api(
            Settings(_env_file=None, api_host="127.0.0.1", api_port=port)
        )
    assert (
        healthcheck.check_api(Settings(_env_file=None, api_host="127.0.0.1", api_port=free_port()))
        is not None
    )


def test_the_worker_check_reaches_temporal(healthcheck):
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        assert healthcheck.check_worker(Settings(_env_file=None, temporal_address=address)) is None
    assert "Temporal at" in healthcheck.check_worker(
        Settings(_env_file=None, temporal_address=f"127.0.0.1:{free_port()}")
    )


def test_the_role_is_read_from_the_running_command(healthcheck, tmp_path: Path):
    def process(pid: int, *args: str) -> None:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(
            b"\0".join(arg.encode() for arg in args) + b"\0"
        )

    assert healthcheck.running_role(tmp_path) is None
    process(1, "/sbin/docker-init", "--", "assessments", "run")
    process(7, "python", "/opt/assessments/healthcheck.py")
    assert healthcheck.running_role(tmp_path) is None
    process(8, "/opt/venv/bin/python", "/opt/venv/bin/assessments", "worker")
    assert healthcheck.running_role(tmp_path) == "worker"


def test_an_unknown_role_has_nothing_to_check(healthcheck, capsys):
    assert healthcheck.main(["token"]) == 0
    assert "nothing to check" in capsys.readouterr().out


def test_the_api_and_the_worker_never_load_a_simulator():
    # The image keeps the simulators (docs/deployment.md) because running never touches them.
    probe = (
        "import sys, cli, worker; from api.app import create_app; create_app(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'simulators'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
