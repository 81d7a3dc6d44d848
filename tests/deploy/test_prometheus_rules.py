"""deploy/prometheus.yml and the rule files, checked and unit-tested by the real promtool.

Beyond running the promtool unit tests, each rule is broken on purpose in a copy of the
rule files (a recording rule doubled, an alert's `for` dropped, an alert that never fires)
and the unit tests must then fail: that proves they pin every recorded value, every
`for` window and every alert's firing, rather than passing on rules they never look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.prometheus import PROMTOOL
from tests.conftest import require_binary
from tests.deploy import kit

SEVERITIES = {"critical", "warning"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    require_binary(PROMTOOL)
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_check_config() -> None:
    result = promtool("check", "config", str(kit.PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    # The config must load the rule files this kit ships, not a glob matching nothing.
    assert f"SUCCESS: {len(kit.rule_files())} rule files found" in result.stdout


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", *map(str, kit.rule_files()))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", *map(str, kit.rule_test_files()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(kit.rule_test_files())


def test_config_scrapes_both_replicas_and_the_gateway_on_the_compose_ports() -> None:
    config = kit.load_yaml(kit.PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = jobs[kit.SERVICE_JOB]["static_configs"][0]["targets"]
    assert targets == ["127.0.0.1:8000", "127.0.0.1:8001"]
    assert jobs[kit.SERVICE_JOB]["metrics_path"] == "/metrics"
    assert jobs[kit.GATEWAY_JOB]["static_configs"][0]["targets"] == ["127.0.0.1:9101"]


def test_the_agreed_recording_rules_exist_with_the_agreed_expressions() -> None:
    recorded = {rule["record"]: " ".join(rule["expr"].split()) for rule in kit.recording_rules()}
    for name, quantile in (("p50", "0.50"), ("p95", "0.95"), ("p99", "0.99")):
        assert recorded[f"model:request_duration_seconds:{name}_5m"] == (
            f"histogram_quantile({quantile}, sum by (model, le) "
            "(rate(request_duration_seconds_bucket[5m])))"
        )
    service_side = [name for name in recorded if not name.startswith("model:")]
    assert service_side
    assert all(name.startswith("model_latency_api:") for name in service_side)


@pytest.mark.parametrize("rule", kit.alerting_rules(), ids=lambda r: r["alert"])
def test_every_alert_has_for_severity_and_annotations_with_the_value(rule: dict[str, Any]) -> None:
    assert rule.get("for"), "an alert without `for` pages on a single bad scrape"
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert annotations["summary"].strip()
    assert "$value" in annotations["description"]


def test_the_alerts_the_issue_asks_for_exist() -> None:
    names = {rule["alert"] for rule in kit.alerting_rules()}
    assert {
        "ModelLatencyApiDown",
        "ModelLatencyApiHigh5xxRatio",
        "ModelLatencyApiSlowResponses",
        "ModelLatencyApiUpstreamFailing",
        "ModelLatencyApiUpstreamSlow",
        "ModelLatencyApiCacheHitRatioLow",
        "ModelLatencyP95Danger",
    } <= names


def _alert_tests() -> list[dict[str, Any]]:
    cases = []
    for path in kit.rule_test_files():
        for test in kit.load_yaml(path)["tests"]:
            cases.extend(test.get("alert_rule_test", []))
    return cases


@pytest.mark.parametrize("rule", kit.alerting_rules(), ids=lambda r: r["alert"])
def test_every_alert_is_tested_firing_and_not_firing(rule: dict[str, Any]) -> None:
    cases = [case for case in _alert_tests() if case["alertname"] == rule["alert"]]
    assert any(case.get("exp_alerts") for case in cases), "never tested firing"
    assert any(not case.get("exp_alerts") for case in cases), "never tested quiet"


# --- mutations: each broken copy of the rules must make `promtool test rules` fail ---


def _mutated_run(tmp_path: Path, target: str, mutate: Any) -> subprocess.CompletedProcess[str]:
    """Copy rules and tests to tmp_path, apply ``mutate`` to the rule named ``target``."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(kit.RULE_TESTS_DIR, tmp_path / "tests")
    rules_dir.mkdir()
    for path in kit.rule_files():
        document = kit.load_yaml(path)
        for group in document["groups"]:
            for rule in group["rules"]:
                if target in (rule.get("record"), rule.get("alert")):
                    mutate(rule)
        (rules_dir / path.name).write_text(yaml.safe_dump(document, sort_keys=False))
    return promtool("test", "rules", *map(str, sorted((tmp_path / "tests").glob("*.yml"))))


@pytest.mark.parametrize("rule", kit.recording_rules(), ids=lambda r: r["record"])
def test_a_wrong_recorded_value_fails_the_unit_tests(rule: dict[str, Any], tmp_path: Path) -> None:
    def double(r: dict[str, Any]) -> None:
        r["expr"] = f"2 * ({r['expr']})"

    result = _mutated_run(tmp_path, rule["record"], double)
    assert result.returncode != 0, f"doubling {rule['record']} went unnoticed"


@pytest.mark.parametrize("rule", kit.alerting_rules(), ids=lambda r: r["alert"])
def test_dropping_the_for_window_fails_the_unit_tests(rule: dict[str, Any], tmp_path: Path) -> None:
    def no_wait(r: dict[str, Any]) -> None:
        r.pop("for")

    result = _mutated_run(tmp_path, rule["alert"], no_wait)
    assert result.returncode != 0, f"{rule['alert']} firing without `for` went unnoticed"


@pytest.mark.parametrize("rule", kit.alerting_rules(), ids=lambda r: r["alert"])
def test_an_alert_that_never_fires_fails_the_unit_tests(
    rule: dict[str, Any], tmp_path: Path
) -> None:
    def silence(r: dict[str, Any]) -> None:
        r["expr"] = f"({r['expr']}) and on() vector(0) == 1"

    result = _mutated_run(tmp_path, rule["alert"], silence)
    assert result.returncode != 0, f"{rule['alert']} never firing went unnoticed"
