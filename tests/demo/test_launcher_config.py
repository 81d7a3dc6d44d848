"""The demo's Prometheus configuration is valid and loads the shipped rules."""

from __future__ import annotations

import subprocess

from demo.launcher import RULES_DIR, prometheus_config
from harness.prometheus import PROMTOOL
from tests.conftest import require_binary


def test_demo_config_passes_promtool_and_loads_every_rule_file(tmp_path):
    require_binary(PROMTOOL)
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(9101, 8000, 5))
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rule_files = sorted(RULES_DIR.glob("*.yml"))
    assert rule_files
    assert f"{len(rule_files)} rule files found" in result.stdout + result.stderr
