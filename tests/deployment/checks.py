"""Static checks of the deployment files, for a machine without Docker.

Each `*_problems` function returns what is wrong, in words ([] when nothing is), so the tests can
show a good file passes and a broken copy of it is caught.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from temporalio.common import SearchAttributeIndexedValueType

from orders import visibility
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# The dependencies' locks (`make lock`): the image installs the runtime one.
RUN_LOCK = "requirements/run.txt"
TEST_LOCK = "requirements/test.txt"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"

SETTING_NAMES = frozenset(f"ASSESSMENTS_{name.upper()}" for name in Settings.model_fields)
# Without these a production API or worker is wrong or refuses to start.
REQUIRED_SETTINGS = frozenset(
    f"ASSESSMENTS_{name}"
    for name in (
        "DATABASE_URL",
        "ENCRYPTION_KEYS",
        "PAYLOAD_KEYS",
        "TOKEN_SIGNING_KEY",
        "PUBLIC_URL",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "PARTNER_CLIENT_SECRET",
        "SR_BASE_URL",
    )
)
REQUIRED_API_SETTINGS = REQUIRED_SETTINGS | {
    f"ASSESSMENTS_{name}"
    for name in (
        "API_HOST",
        "ADMIN_API_KEY",
        "SR_MASTER_CLIENT_ID",
        "SR_MASTER_CLIENT_SECRET",
        "CODEC_CORS_ORIGINS",
    )
}
# Our attributes' types, as the temporal CLI names them.
CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


def expected_search_attributes() -> set[tuple[str, str]]:
    return {(key.name, CLI_TYPE_NAMES[key.indexed_value_type]) for key in visibility.ALL}


def parse_search_attributes(value: str) -> set[tuple[str, str]]:
    """The `Name=Type Name=Type` list the registration script takes."""
    return {tuple(pair.split("=", 1)) for pair in value.split()}  # type: ignore[misc]


# --- YAML --------------------------------------------------------------------------------------


class DuplicateKey(yaml.constructor.ConstructorError):
    pass


class StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; Docker Compose refuses the file."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise DuplicateKey(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader


def load_yaml_documents(text: str) -> list[Any]:
    return [
        document for document in yaml.load_all(text, Loader=StrictLoader) if document is not None
    ]


# --- Compose variables (${VAR}, ${VAR:-default}, ${VAR:?error}, $$) -------------------------------

VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(KeyError):
    """A required ${VAR:?…} that is unset or empty: Compose refuses to start and names it."""


def strings_in(document: Any) -> list[str]:
    """Every string value of a parsed YAML document (Compose interpolates values, not comments)."""
    if isinstance(document, dict):
        return [text for value in document.values() for text in strings_in(value)]
    if isinstance(document, list):
        return [text for value in document for text in strings_in(value)]
    return [document] if isinstance(document, str) else []


def variables_used(document: Any) -> set[str]:
    return {
        m["braced"] or m["bare"]
        for text in strings_in(document)
        for m in VARIABLE.finditer(text)
        if not m["escaped"]
    }


def interpolate(value: str, env: dict[str, str]) -> str:
    def replace(m: re.Match) -> str:
        if m["escaped"]:
            return "$"
        name, operator, argument = m["braced"] or m["bare"], m["operator"], m["argument"] or ""
        present, current = name in env, env.get(name, "")
        if operator == ":-":
            return current or argument
        if operator == "-":
            return current if present else argument
        if (operator == ":?" and not current) or (operator == "?" and not present):
            raise MissingVariable(name)
        return current

    return VARIABLE.sub(replace, value)


def required_variables(document: Any) -> set[str]:
    return {
        m["braced"]
        for text in strings_in(document)
        for m in VARIABLE.finditer(text)
        if m["operator"] in (":?", "?")
    }


def parse_env_file(text: str) -> dict[str, str]:
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        assert separator, f"not NAME=value: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def env_example_commands(text: str) -> dict[str, str]:
    """Variable → the `python …` command its comment block says generates it."""
    commands: dict[str, str] = {}
    command = None
    previous_was_variable = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            command, previous_was_variable = None, False
        elif stripped.startswith("#"):
            if previous_was_variable:
                command = None
            if match := re.match(r"#\s+(python\s.+)$", stripped):
                command = match[1].strip()
            previous_was_variable = False
        else:
            if command:
                commands[stripped.partition("=")[0]] = command
            previous_was_variable = True
    return commands


def service_environment(compose: dict, service: str, env: dict[str, str]) -> dict[str, str]:
    environment = compose["services"][service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {
        name: interpolate("" if value is None else str(value), env)
        for name, value in environment.items()
    }


# --- Compose structure -----------------------------------------------------------------------

EXPECTED_SERVICES = frozenset(
    {
        "temporal-postgresql",
        "temporal-admin-tools",
        "temporal",
        "temporal-create-namespace",
        "temporal-search-attributes",
        "temporal-ui",
        "assessments-postgresql",
        "api",
        "worker",
    }
)
# The service keys of the Compose specification (compose-spec/compose-spec
# schema/compose-spec.json), so that a misspelt key
# (`depend_on`), which Compose would refuse, is caught here.
SERVICE_KEYS = [
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
]
_STRINGS = {"type": "array", "items": {"type": "string"}}
_COMMAND = {"oneOf": [{"type": "string"}, _STRINGS, {"type": "null"}]}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
COMPOSE_SCHEMA = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "version": {"type": "string"},
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "services": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"anyOf": [{"enum": SERVICE_KEYS}, {"pattern": "^x-"}]},
                "properties": {
                    "image": {"type": "string"},
                    "build": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                    "command": _COMMAND,
                    "entrypoint": _COMMAND,
                    "init": {"type": "boolean"},
                    "restart": {
                        "type": "string",
                        "pattern": "^(no|always|unless-stopped|on-failure(:[0-9]+)?)$",
                    },
                    "environment": {
                        "oneOf": [
                            {"type": "object", "additionalProperties": _SCALAR},
                            _STRINGS,
                        ]
                    },
                    "ports": {"type": "array", "items": {"type": ["string", "number", "object"]}},
                    "volumes": {"type": "array", "items": {"type": ["string", "object"]}},
                    "depends_on": {
                        "oneOf": [
                            _STRINGS,
                            {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["condition"],
                                    "properties": {
                                        "condition": {
                                            "enum": [
                                                "service_started",
                                                "service_healthy",
                                                "service_completed_successfully",
                                            ]
                                        },
                                        "restart": {"type": "boolean"},
                                        "required": {"type": "boolean"},
                                    },
                                },
                            },
                        ]
                    },
                    "healthcheck": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "test": {"oneOf": [{"type": "string"}, {**_STRINGS, "minItems": 1}]},
                            **{
                                duration: {"type": "string"}
                                for duration in (
                                    "interval",
                                    "timeout",
                                    "start_period",
                                    "start_interval",
                                )
                            },
                            "retries": {"type": "integer"},
                            "disable": {"type": "boolean"},
                        },
                    },
                    "stop_grace_period": {"type": "string"},
                },
            },
        },
        **{
            top_level: {"type": "object"}
            for top_level in ("volumes", "networks", "secrets", "configs")
        },
        "include": {"type": "array"},
    },
    "patternProperties": {"^x-": {}},
    "additionalProperties": False,
}


def schema_problems(compose: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(COMPOSE_SCHEMA)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(compose)
    ]


PINNED_IMAGE = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(:[0-9]+)?(/[a-z0-9._-]+)*:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(@sha256:[0-9a-f]{64})?$"
)


def image_problem(image: str | None) -> str | None:
    if not image:
        return "no image"
    match = PINNED_IMAGE.match(image)
    if not match:
        return f"image {image!r} has no tag"
    if match["tag"] == "latest":
        return f"image {image!r} is not pinned (latest)"
    return None


def image_problems(compose: dict, env: dict[str, str]) -> list[str]:
    problems = []
    for name, service in compose["services"].items():
        image = service.get("image")
        problem = image_problem(interpolate(image, env) if image else None)
        if problem:
            problems.append(f"{name}: {problem}")
        if image and "auto-setup" in image:
            problems.append(f"{name}: temporalio/auto-setup is deprecated; use admin-tools jobs")
    return problems


def one_shot_services(compose: dict) -> set[str]:
    """Jobs: not restarted once they succeed, and awaited by another service's completion."""
    awaited = {
        target
        for service in compose["services"].values()
        for target, dependency in _depends_on(service).items()
        if dependency.get("condition") == "service_completed_successfully"
    }
    return {
        name
        for name in awaited
        if str(compose["services"].get(name, {}).get("restart", "no")).startswith(
            ("no", "on-failure")
        )
    }


def health_problems(compose: dict) -> list[str]:
    jobs = one_shot_services(compose)
    problems = []
    for name, service in compose["services"].items():
        healthcheck = service.get("healthcheck") or {}
        test = healthcheck.get("test")
        if name in jobs:
            continue
        if not test or healthcheck.get("disable"):
            problems.append(f"{name}: neither a healthcheck nor a one-shot job")
        elif isinstance(test, list) and test[0] not in ("CMD", "CMD-SHELL"):
            problems.append(f"{name}: healthcheck test must start with CMD or CMD-SHELL")
    return problems


def _depends_on(service: dict) -> dict[str, dict]:
    depends_on = service.get("depends_on") or {}
    return (
        {target: {"condition": "service_started"} for target in depends_on}
        if isinstance(depends_on, list)
        else depends_on
    )


def dependency_problems(compose: dict) -> list[str]:
    services = compose["services"]
    jobs = one_shot_services(compose)
    problems = []
    for name, service in services.items():
        for target, dependency in _depends_on(service).items():
            condition = dependency.get("condition")
            if target not in services:
                problems.append(f"{name}: depends on {target}, which is no service")
            elif condition == "service_healthy" and not (
                services[target].get("healthcheck") or {}
            ).get("test"):
                problems.append(
                    f"{name}: waits for {target} to be healthy, which has no healthcheck"
                )
            elif condition == "service_completed_successfully" and target not in jobs:
                problems.append(
                    f"{name}: waits for {target} to complete, which restarts when it exits"
                )
            elif condition not in ("service_healthy", "service_completed_successfully"):
                problems.append(
                    f"{name}: depends on {target} without waiting for it (condition {condition})"
                )

    def cycle_from(name: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for target in _depends_on(services.get(name, {})):
            if target in path:
                return (*path, target)
            if found := cycle_from(target, (*path, target)):
                return found
        return None

    for name in services:
        if cycle := cycle_from(name, (name,)):
            problems.append(f"dependency cycle: {' -> '.join(cycle)}")
            break
    return problems


def environment_problems(
    compose: dict, service: str, required: frozenset[str] | set[str]
) -> list[str]:
    environment = compose["services"].get(service, {}).get("environment") or {}
    names = set(
        environment
        if isinstance(environment, dict)
        else (item.split("=", 1)[0] for item in environment)
    )
    problems = [
        f"{service}: {name} is no setting (settings.py)"
        for name in sorted(names)
        if name.startswith("ASSESSMENTS_") and name not in SETTING_NAMES
    ]
    problems += [
        f"{service}: {name} is not one of our settings"
        for name in sorted(names - SETTING_NAMES)
        if not name.startswith("ASSESSMENTS_")
    ]
    problems += [f"{service}: {name} is missing" for name in sorted(required - names)]
    return problems


def variable_problems(compose: dict, env_example_text: str) -> list[str]:
    documented = set(parse_env_file(env_example_text))
    return [
        f"${{{name}}} has no line in deploy/.env.example"
        for name in sorted(variables_used(compose) - documented)
    ]


def search_attribute_problems(compose: dict) -> list[str]:
    job = compose["services"].get("temporal-search-attributes", {})
    registered = parse_search_attributes(
        str((job.get("environment") or {}).get("SEARCH_ATTRIBUTES", ""))
    )
    expected = expected_search_attributes()
    problems = [
        f"search attribute {name} ({kind}) of orders/visibility.py is not registered"
        for name, kind in sorted(expected - registered)
    ]
    problems += [
        f"search attribute {name} ({kind}) is registered but not in orders/visibility.py"
        for name, kind in sorted(registered - expected)
    ]
    return problems


def volume_problems(compose: dict, root: Path = ROOT) -> list[str]:
    declared = set(compose.get("volumes") or {})
    problems = []
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            spec = (
                volume
                if isinstance(volume, str)
                else f"{volume.get('source', '')}:{volume.get('target', '')}"
            )
            parts = spec.split(":")
            if len(parts) == 1:
                problems.append(f"{name}: anonymous volume {spec} (lost on `docker compose down`)")
            elif parts[0].startswith((".", "/")):
                if not (root / parts[0]).exists():
                    problems.append(f"{name}: bind mount source {parts[0]} does not exist")
            elif parts[0] not in declared:
                problems.append(f"{name}: named volume {parts[0]} is not declared under volumes:")
        if str(service.get("image", "")).startswith("postgres:") and not any(
            isinstance(v, str)
            and v.split(":")[0] in declared
            and v.split(":")[1].startswith("/var/lib/postgresql")
            for v in service.get("volumes") or []
        ):
            problems.append(f"{name}: PostgreSQL data is not on a named volume")
    return problems


def compose_problems(compose_text: str, env_example_text: str, root: Path = ROOT) -> list[str]:
    """Everything the tests check of docker-compose.yml, as one list (for broken copies)."""
    try:
        compose = load_yaml(compose_text)
    except yaml.YAMLError as err:
        return [f"not valid YAML: {err}"]
    problems = schema_problems(compose)
    if problems:
        return problems
    env = parse_env_file(env_example_text)
    missing = EXPECTED_SERVICES - set(compose["services"])
    problems += [f"service {name} is missing" for name in sorted(missing)]
    problems += image_problems(compose, env)
    problems += health_problems(compose)
    problems += dependency_problems(compose)
    problems += environment_problems(compose, "api", REQUIRED_API_SETTINGS)
    problems += environment_problems(compose, "worker", REQUIRED_SETTINGS)
    problems += variable_problems(compose, env_example_text)
    problems += search_attribute_problems(compose)
    problems += volume_problems(compose, root)
    return problems


# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if not pending and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        instruction = (pending + line).strip()
        pending = ""
        if instruction and not instruction.startswith("#"):
            keyword, _, arguments = instruction.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _exec_form(arguments: str) -> list[str]:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return shlex.split(arguments)
    return value if isinstance(value, list) else [str(value)]


def dockerfile_problems(text: str, root: Path = ROOT) -> list[str]:
    instructions = dockerfile_instructions(text)
    problems = []
    args = {}
    stages: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions:
        if keyword == "ARG" and not stages:
            name, _, default = arguments.partition("=")
            args[name.strip()] = default.strip()
        elif keyword == "FROM":
            stages.append([])
            image = interpolate(arguments.split()[0], args)
            if problem := image_problem(image):
                problems.append(f"FROM {arguments}: {problem}")
            elif not re.match(r"^python:3\.11(\.[0-9]+)?-slim", image):
                problems.append(f"FROM {image}: not a slim Python 3.11 image")
        elif stages:
            stages[-1].append((keyword, arguments))
    if len(stages) < 2:
        problems.append("not a multi-stage build")
    if not stages:
        return [*problems, "no FROM"]
    final = stages[-1]
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    if not users:
        problems.append("the final stage has no USER: it would run as root")
    elif users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"USER {users[-1]} is root")
    runs = " ".join(
        arguments for stage in stages for keyword, arguments in stage if keyword == "RUN"
    )
    if not re.search(r"pip install (--?[\w-]+ )*\.(\s|$|&&)", runs):
        problems.append("the project is not installed (pip install .)")
    if re.search(r"pip install[^&;]*\.\[", runs) or "[test]" in runs or TEST_LOCK in runs:
        problems.append("test extras are installed")
    if not re.search(rf"pip install --require-hashes -r {re.escape(RUN_LOCK)}(\s|$|&&)", runs):
        problems.append(f"the dependencies are not installed from their lock ({RUN_LOCK}, hashes)")
    entrypoint = next((_exec_form(a) for k, a in reversed(final) if k == "ENTRYPOINT"), [])
    cmd = next((_exec_form(a) for k, a in reversed(final) if k == "CMD"), [])
    command = entrypoint + cmd
    if not command or Path(command[0]).name != "assessments":
        problems.append(f"the container does not run `assessments` (runs {command})")
    elif len(command) < 2 or command[1] not in ("api", "worker"):
        problems.append(
            f"the default command is not `assessments api` or `assessments worker`: {command}"
        )
    healthchecks = [arguments for keyword, arguments in final if keyword == "HEALTHCHECK"]
    if not healthchecks or healthchecks[-1].upper() == "NONE":
        problems.append("no HEALTHCHECK")
    ignored = dockerignore_matcher(
        (root / ".dockerignore").read_text() if (root / ".dockerignore").exists() else ""
    )
    for keyword, arguments in (pair for stage in stages for pair in stage):
        if keyword == "COPY" and "--from=" not in arguments:
            sources = [part for part in _exec_form(arguments) if not part.startswith("--")][:-1]
            for source in sources:
                if source != "." and not (root / source).exists():
                    problems.append(f"COPY {source}: no such file")
                elif source != "." and ignored(source):
                    problems.append(f"COPY {source}: excluded by .dockerignore")
    return problems


# --- .dockerignore -----------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignore_matcher(text: str) -> Callable[[str], bool]:
    """Whether Docker leaves a path (relative to the context) out of the build context: the last
    matching pattern decides, `!` re-includes, a matched directory excludes what is under it."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        rules.append((_pattern_regex(pattern), include))

    def ignored(path: str) -> bool:
        parts = Path(path).parts
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for regex, include in rules:
            if any(regex.match(prefix) for prefix in prefixes):
                verdict = not include
        return verdict

    return ignored


def installed_files(root: Path = ROOT) -> list[str]:
    """What `pip install .` reads from the context: pyproject's modules, packages and their data."""
    import tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    files = ["pyproject.toml", project["project"]["readme"]]
    files += [f"{module}.py" for module in setuptools["py-modules"]]
    patterns = setuptools["packages"]["find"]["include"]
    top_level = [
        path
        for path in sorted(root.iterdir())
        if path.is_dir() and (path / "__init__.py").is_file()
    ]
    for init in (
        init for directory in top_level for init in sorted(directory.glob("**/__init__.py"))
    ):
        dotted = ".".join(init.parent.relative_to(root).parts)
        if any(fnmatch.fnmatch(dotted, pattern) for pattern in patterns):
            files += [
                str(path.relative_to(root))
                for path in sorted(init.parent.rglob("*"))
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
            ]
    return files


def dockerignore_problems(text: str, root: Path = ROOT) -> list[str]:
    ignored = dockerignore_matcher(text)
    problems = [
        f"{path} is needed by `pip install .` but excluded"
        for path in installed_files(root)
        if ignored(path)
    ]
    if ignored(RUN_LOCK):
        problems.append(f"{RUN_LOCK} is needed to install the dependencies but excluded")
    problems += [
        f"{path} must never reach an image"
        for path in (
            "deploy/.env",
            ".env",
            ".venv/bin/python",
            "tests/conftest.py",
            "data/assessments.db",
        )
        if not ignored(path)
    ]
    return problems
