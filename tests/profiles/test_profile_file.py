"""MODEL_PROFILES_FILE and MODEL_PROFILE on the real start-up path (uvicorn app.main:app):
a file with mistakes is refused, every mistake named, before anything listens; a good
file's profiles answer like the built-in ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.processes import ROOT, free_port, uvicorn_app
from tests.profiles.conftest import close, engine
from tests.support.profile_dataset import END

BAD = """\
profiles:
  my-gateway:
    model_label: "bad label"
    signals:
      latency: {metric: my_llm_latency_seconds, kind: counter}
      tokens_per_second: {metric: my_llm_tokens_total, kind: counter}
      ttft: {metric: "1ttft", kind: histogram}
      success_ratio: {metric: my_llm_requests_total, kind: ratio}
  Gateway_2:
    signals: {}
"""

GOOD = """\
profiles:
  my-gateway:
    model_label: model
    signals:
      latency: {metric: request_duration_seconds, kind: histogram}
      requests_per_second: {metric: request_duration_seconds, kind: histogram}
  vllm:
    model_label: model_name
    signals:
      ttft: {metric: "vllm:time_to_first_token_seconds", kind: histogram}
"""


def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``uvicorn app.main:app`` as scripts/serve.sh runs it, until it exits (or 60 s)."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MODEL_", "PROMETHEUS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)],
        cwd=ROOT,
        env={**clean, "PROMETHEUS_URL": "http://127.0.0.1:9", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result


def test_a_profile_file_with_mistakes_is_refused_before_listening_every_mistake_named(
    tmp_path: Path,
):
    path = tmp_path / "profiles.yaml"
    path.write_text(BAD)
    result = serve({"MODEL_PROFILES_FILE": str(path)})
    assert result.returncode != 0
    lines = [line.strip() for line in result.stderr.splitlines()]
    where = f"MODEL_PROFILES_FILE {path}: profiles"
    assert "Invalid model profiles, the service did not start:" in lines
    expected = [
        f"{where}.my-gateway.model_label: 'bad label' is not a Prometheus label name",
        f"{where}.my-gateway.signals.latency: kind counter does not fit this signal",
        f"{where}.my-gateway.signals.ttft.metric: '1ttft' is not a Prometheus metric name",
        f"{where}.my-gateway.signals.success_ratio: a ratio needs `success`",
        f"{where}.my-gateway.signals.tokens_per_second: not a known field here",
        f"{where}.Gateway_2: a profile name is lower-case letters",
    ]
    for start in expected:
        assert sum(line.startswith(start) for line in lines) == 1, (start, result.stderr)
    assert "Traceback" not in result.stderr
    # uvicorn imports the app before it says it started, and before it binds the port.
    assert "Started server process" not in result.stderr
    assert "Uvicorn running" not in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODEL_PROFILE": "vllm,nope"}, "MODEL_PROFILE: unknown profile 'nope'"),
        ({"MODEL_PROFILES_FILE": "/nonexistent/profiles.yaml"}, "cannot be read"),
        ({"MODEL_PROFILES_FILE": "__yaml__"}, "not valid YAML"),
    ],
)
def test_other_profile_mistakes_stop_start_up_too(tmp_path: Path, env, message):
    if env.get("MODEL_PROFILES_FILE") == "__yaml__":
        broken = tmp_path / "broken.yaml"
        broken.write_text("profiles: {a: [\n")
        env = {"MODEL_PROFILES_FILE": str(broken)}
    result = serve(env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.prometheus
def test_a_good_profile_file_adds_and_replaces_profiles(tmp_path: Path, profiles_prometheus):
    path = tmp_path / "profiles.yaml"
    path.write_text(GOOD)
    env = {
        "PROMETHEUS_URL": profiles_prometheus.url,
        "MODEL_PROFILES_FILE": str(path),
        "MODEL_PROFILE": "my-gateway,vllm",
        "CACHE_TTL_SECONDS": "0",
    }
    with uvicorn_app(tmp_path / "service.log", env) as service:
        body = httpx.get(f"{service.url}/api/models/", params={"time": END}, timeout=30).json()
    rows = {(row["model"], row["source"]): row for row in body["data"]}
    url = profiles_prometheus.url
    p95 = engine(
        url,
        "1000 * histogram_quantile(0.95, sum by (model, le) "
        "(rate(request_duration_seconds_bucket[5m])))",
        "model",
    )
    assert close(rows[("gpt-4", "my-gateway")]["latency_ms"]["p95"], p95["gpt-4"])
    ttft = engine(
        url,
        "1000 * histogram_quantile(0.95, sum by (model_name, le) "
        "(rate(vllm:time_to_first_token_seconds_bucket[5m])))",
        "model_name",
    )
    replaced = rows[("llama-3-8b", "vllm")]
    assert close(replaced["ttft_ms"]["p95"], ttft["llama-3-8b"])
    assert replaced["latency_ms"] is None  # the file's vllm has no latency signal
    assert {source for _, source in rows} == {"my-gateway", "vllm"}
