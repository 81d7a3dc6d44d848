"""deploy/kubernetes/, the kustomize base, checked without a cluster.

Every core manifest passes kubernetes-validate in strict mode (unknown fields fail); the
wiring between them holds (selectors, port names, ConfigMap and Secret keys); the pods
are probed, unprivileged and read-only; and the PrometheusRule carries exactly the rule
files' groups, which pass `promtool check rules` and the shipped promtool unit tests.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from app.settings import Settings
from harness.prometheus import PROMTOOL
from tests.conftest import require_binary
from tests.deploy import kit

K8S = kit.DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
SERVER_SETTINGS = {"HOST", "PORT", "WORKERS"}  # read by scripts/serve.sh


def resources() -> list[dict[str, Any]]:
    kustomization = kit.load_yaml(K8S / "kustomization.yaml")
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs += [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]
    return docs


def find(kind: str, name: str = "model-latency-api") -> dict[str, Any]:
    [doc] = [d for d in resources() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_spec(name: str = "model-latency-api") -> dict[str, Any]:
    spec: dict[str, Any] = find("Deployment", name)["spec"]["template"]["spec"]
    return spec


def api_container() -> dict[str, Any]:
    [container] = pod_spec()["containers"]
    found: dict[str, Any] = container
    return found


def test_kustomization_lists_every_manifest_in_the_directory() -> None:
    listed = set(kit.load_yaml(K8S / "kustomization.yaml")["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.parametrize(
    "doc",
    [d for d in resources() if d["kind"] not in CRD_KINDS],
    ids=lambda d: f"{d['kind']}/{d['metadata']['name']}",
)
def test_core_manifest_is_valid_in_strict_mode(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_at_least_two_replicas_rolled_without_losing_one() -> None:
    spec = find("Deployment")["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    hpa = find("HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] >= 2
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "model-latency-api",
    }
    assert find("PodDisruptionBudget")["spec"]["minAvailable"] >= 1


def test_probes_ask_the_health_routes_on_the_named_port() -> None:
    container = api_container()
    [port] = container["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 8000)
    expected = {
        "startupProbe": "/health/live",
        "livenessProbe": "/health/live",
        "readinessProbe": "/health/ready",
    }
    for probe, path in expected.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    config = find("ConfigMap")["data"]
    assert int(config["PORT"]) == port["containerPort"]


def test_pods_run_unprivileged_with_a_read_only_root_and_tmp_in_memory() -> None:
    spec = pod_spec()
    container = api_container()
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    [mount] = container["volumeMounts"]
    assert mount["mountPath"] == "/tmp"
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["limits"]["memory"]


def test_settings_from_the_configmap_and_the_cache_url_from_the_secret() -> None:
    container = api_container()
    assert container["envFrom"] == [{"configMapRef": {"name": "model-latency-api"}}]
    [shared] = [e for e in container["env"] if e["name"] == "SHARED_CACHE_URL"]
    ref = shared["valueFrom"]["secretKeyRef"]
    secret = find("Secret", ref["name"])
    assert ref["key"] in secret["stringData"]
    redis = find("Service", "model-latency-api-redis")
    assert (
        f"//{redis['metadata']['name']}:{redis['spec']['ports'][0]['port']}/"
        in (secret["stringData"][ref["key"]])
    )
    config = find("ConfigMap")["data"]
    unknown = {key for key in config if key.lower() not in Settings.model_fields}
    assert unknown <= SERVER_SETTINGS, unknown
    Settings(**{key.lower(): value for key, value in config.items() if key not in unknown})
    assert pod_spec()["enableServiceLinks"] is False  # no injected *_PORT variables


@pytest.mark.parametrize("name", ["model-latency-api", "model-latency-api-redis"])
def test_services_select_their_pods_by_named_ports(name: str) -> None:
    service = find("Service", name)["spec"]
    template = find("Deployment", name)["spec"]["template"]
    assert service["selector"].items() <= template["metadata"]["labels"].items()
    names = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
    assert {port["targetPort"] for port in service["ports"]} <= names


def test_the_pdb_and_the_service_monitor_select_the_api_pods_and_service() -> None:
    labels = find("Deployment")["spec"]["template"]["metadata"]["labels"]
    pdb = find("PodDisruptionBudget")["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= labels.items()
    monitor = find("ServiceMonitor")["spec"]
    service = find("Service")
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    [endpoint] = monitor["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    # The Operator names the job after the Service: the job the rules select by.
    assert service["metadata"]["name"] == kit.SERVICE_JOB


def test_prometheus_rule_carries_exactly_the_rule_files_groups() -> None:
    shipped = [g for path in kit.rule_files() for g in kit.load_yaml(path)["groups"]]
    assert find("PrometheusRule")["spec"]["groups"] == shipped


@pytest.fixture
def extracted_rules(tmp_path: Path) -> Path:
    require_binary(PROMTOOL)
    path = tmp_path / "rules" / "prometheusrule.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({"groups": find("PrometheusRule")["spec"]["groups"]}))
    return path


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_prometheus_rule(extracted_rules: Path) -> None:
    result = promtool("check", "rules", str(extracted_rules))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_shipped_rule_unit_tests_pass_against_the_prometheus_rule(
    extracted_rules: Path,
) -> None:
    tests = []
    for source in kit.rule_test_files():
        spec = kit.load_yaml(source)
        spec["rule_files"] = [str(extracted_rules)]
        target = extracted_rules.parent.parent / source.name
        target.write_text(yaml.safe_dump(spec, sort_keys=False))
        tests.append(str(target))
    result = promtool("test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)
