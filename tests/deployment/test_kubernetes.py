"""deploy/kubernetes and docs/deployment.md agree with the code and with the compose file: real
settings, pinned images, the probes the API offers, the search attributes, the non-root user."""

from __future__ import annotations

import re

import pytest

from tests.deployment import checks
from tests.deployment.checks import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
DOCS = ROOT / "docs" / "deployment.md"


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], dict]:
    documents = checks.load_yaml_documents((KUBERNETES / "assessments.yaml").read_text())
    return {(document["kind"], document["metadata"]["name"]): document for document in documents}


def containers(deployment: dict) -> list[dict]:
    return deployment["spec"]["template"]["spec"]["containers"]


def kubernetes_problems(manifests: dict) -> list[str]:
    problems = []
    config = manifests.get(("ConfigMap", "assessments-config"), {}).get("data", {})
    problems += [
        f"ConfigMap: {name} is no setting" for name in config if name not in checks.SETTING_NAMES
    ]
    for role in ("api", "worker"):
        deployment = manifests.get(("Deployment", f"assessments-{role}"))
        if deployment is None:
            problems.append(f"no Deployment assessments-{role}")
            continue
        pod = deployment["spec"]["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{role}: may run as root")
        for container in containers(deployment):
            if problem := checks.image_problem(container.get("image")):
                problems.append(f"{role}: {problem}")
            if container.get("args") != [role]:
                problems.append(f"{role}: runs {container.get('args')}")
            names = {entry["name"] for entry in container.get("env", [])}
            problems += [
                f"{role}: {name} is not one of our settings"
                for name in names - checks.SETTING_NAMES
            ]
            if {"name": "assessments-config"} not in [
                ref.get("configMapRef") for ref in container.get("envFrom", [])
            ]:
                problems.append(f"{role}: does not read assessments-config")
    api = manifests.get(("Deployment", "assessments-api"))
    if api:
        probes = {
            kind: containers(api)[0].get(f"{kind}Probe", {}).get("httpGet", {}).get("path")
            for kind in ("liveness", "readiness", "startup")
        }
        if probes != {"liveness": "/healthz", "readiness": "/readyz", "startup": "/healthz"}:
            problems.append(f"api: probes {probes}")
    job = manifests.get(("Job", "temporal-search-attributes"))
    registered = (
        {entry["name"]: entry.get("value") for entry in containers({"spec": job["spec"]})[0]["env"]}
        if job
        else {}
    )
    if (
        checks.parse_search_attributes(registered.get("SEARCH_ATTRIBUTES", ""))
        != checks.expected_search_attributes()
    ):
        problems.append("the Job does not register orders/visibility.py's search attributes")
    if registered.get("NAMESPACE") != config.get("ASSESSMENTS_TEMPORAL_NAMESPACE"):
        problems.append("the Job registers them in another namespace")
    return problems


def test_the_manifests_pass_every_check(manifests):
    assert kubernetes_problems(manifests) == []


def test_the_manifests_match_the_image_and_the_compose_file(manifests):
    compose = checks.load_yaml(checks.COMPOSE.read_text())
    job = manifests[("Job", "temporal-search-attributes")]
    assert (
        containers({"spec": job["spec"]})[0]["image"]
        == compose["services"]["temporal-search-attributes"]["image"]
    )
    assert (
        containers({"spec": job["spec"]})[0]["command"][-1]
        == "/scripts/register-search-attributes.sh"
    )
    assert (ROOT / "deploy" / "temporal" / "register-search-attributes.sh").is_file()
    instructions = checks.dockerfile_instructions(checks.DOCKERFILE.read_text())
    uid = int(
        dict(instructions[[keyword for keyword, _ in instructions].index("USER") :])["USER"].split(
            ":"
        )[0]
    )
    for role in ("api", "worker"):
        assert (
            manifests[("Deployment", f"assessments-{role}")]["spec"]["template"]["spec"][
                "securityContext"
            ]["runAsUser"]
            == uid
        )


def test_the_temporal_chart_values_create_our_namespace(manifests):
    values = checks.load_yaml((KUBERNETES / "temporal-values.yaml").read_text())
    persistence = values["server"]["config"]["persistence"]
    assert persistence["numHistoryShards"] == 512
    assert {
        persistence["datastores"][store]["sql"]["pluginName"] for store in ("default", "visibility")
    } == {"postgres12"}
    namespaces = [
        namespace["name"] for namespace in values["server"]["config"]["namespaces"]["namespace"]
    ]
    assert (
        manifests[("ConfigMap", "assessments-config")]["data"]["ASSESSMENTS_TEMPORAL_NAMESPACE"]
        in namespaces
    )
    assert values["web"]["additionalEnvSecretName"]  # TEMPORAL_CODEC_ENDPOINT, a capability URL


def test_a_broken_manifest_is_caught(manifests):
    import copy

    broken = copy.deepcopy(manifests)
    broken[("ConfigMap", "assessments-config")]["data"]["ASSESSMENTS_TEMPORAL_ADRESS"] = "x"
    containers(broken[("Deployment", "assessments-api")])[0]["readinessProbe"]["httpGet"][
        "path"
    ] = "/healthz"
    containers(broken[("Deployment", "assessments-worker")])[0]["image"] = (
        "registry.example.com/smartrecruiters-assessments"
    )
    job = broken[("Job", "temporal-search-attributes")]
    containers({"spec": job["spec"]})[0]["env"][2]["value"] = "AssessmentStatus=Keyword"
    problems = kubernetes_problems(broken)
    for expected in (
        "ASSESSMENTS_TEMPORAL_ADRESS is no setting",
        "api: probes",
        "has no tag",
        "search attributes",
    ):
        assert any(expected in problem for problem in problems), (expected, problems)


def test_the_documented_secrets_are_real_settings():
    docs = DOCS.read_text()
    literals = set(re.findall(r"--from-literal=([A-Z_]+)=", docs))
    assert {
        f"ASSESSMENTS_{name}"
        for name in (
            "DATABASE_URL",
            "ENCRYPTION_KEYS",
            "PAYLOAD_KEYS",
            "TOKEN_SIGNING_KEY",
            "ADMIN_API_KEY",
        )
    } <= literals
    assert literals <= checks.SETTING_NAMES
    # Together with the ConfigMap, the production settings the compose file requires.
    config = checks.load_yaml_documents((KUBERNETES / "assessments.yaml").read_text())[0]["data"]
    assert literals | set(config) >= checks.REQUIRED_API_SETTINGS
