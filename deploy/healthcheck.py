"""The container's health check, for both roles of the one image (Dockerfile HEALTHCHECK, compose).

    python /opt/assessments/healthcheck.py [api|worker]

- api: `GET /healthz` on the API's own port answers 200 (liveness only: readiness is `/readyz`,
  for a load balancer; an orchestrator that restarts unhealthy containers must not restart every
  API replica because Temporal is briefly down).
- worker: Temporal's frontend (ASSESSMENTS_TEMPORAL_ADDRESS) accepts a connection.
Without an argument the role is read from the running `assessments …` command; any other command
(an operator's one-off `assessments token issue`, a simulator) has nothing to check here.
Exit 0 when healthy, 1 when not, with one line saying why.
"""

from __future__ import annotations

import socket
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from settings import Settings

TIMEOUT_SECONDS = 3.0
ROLES = ("api", "worker")


def running_role(proc: Path = Path("/proc")) -> str | None:
    """The role of the `assessments` process in this container, if one runs."""
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            args = [
                arg.decode("utf-8", "replace") for arg in cmdline.read_bytes().split(b"\0") if arg
            ]
        except OSError:  # the process ended while we looked
            continue
        for position, arg in enumerate(args[:-1]):
            if Path(arg).name == "assessments" and args[position + 1] in ROLES:
                return args[position + 1]
    return None


def check_api(settings: Settings) -> str | None:
    host = settings.api_host
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.api_port}/healthz"
    try:
        with urllib.request.urlopen(
            url, timeout=TIMEOUT_SECONDS
        ) as response:  # our own URL: no file:// or other scheme
            status = response.status
    except OSError as err:  # URLError and HTTPError are OSErrors
        return f"{url}: {getattr(err, 'code', None) or type(err).__name__}"
    return None if status == 200 else f"{url}: HTTP {status}"


def check_worker(settings: Settings) -> str | None:
    address = urlsplit(f"//{settings.temporal_address}")
    try:
        with socket.create_connection(
            (address.hostname, address.port or 7233), timeout=TIMEOUT_SECONDS
        ):
            return None
    except OSError as err:
        return f"Temporal at {settings.temporal_address}: {type(err).__name__}"


def main(argv: list[str]) -> int:
    role = argv[0] if argv else running_role()
    if role not in ROLES:
        print(f"nothing to check for {role or 'this command'}")
        return 0
    problem = (check_api if role == "api" else check_worker)(Settings())
    print(f"{role}: {problem or 'healthy'}")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
