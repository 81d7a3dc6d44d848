from __future__ import annotations

import os
import subprocess
import sys


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"PROMETHEUS_URL", "LABEL_SELECTOR"}}
    return subprocess.run(
        [sys.executable, "-c", "import app.main"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_invalid_configuration_stops_start_up_with_a_clear_message():
    result = start({"CACHE_TTL_SECONDS": "-3", "LABEL_SELECTOR": "job=api"})
    assert result.returncode != 0
    assert "Invalid configuration" in result.stderr
    assert "CACHE_TTL_SECONDS" in result.stderr
    assert "LABEL_SELECTOR" in result.stderr
    assert "Traceback" not in result.stderr


def test_valid_configuration_imports_cleanly():
    result = start({"PROMETHEUS_URL": "http://127.0.0.1:9", "CACHE_TTL_SECONDS": "2"})
    assert result.returncode == 0, result.stderr
