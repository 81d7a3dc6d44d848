"""Which histograms and labels a request may name, tried as an attacker would.

Against a real Prometheus with the standard dataset: ``model_label=NaN`` (and the other
words PromQL reads as numbers or keywords) was a 502 "bad_data", ``model_label=__name__``
an empty 200, and ``model_label=instance`` listed the scrape targets. Now the words and
reserved names are a 400 naming ``model_label``, and the optional allow-lists
``ALLOWED_METRICS`` / ``ALLOWED_MODEL_LABELS`` refuse everything else with a 400 naming the
parameter.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from app.settings import Settings
from harness.processes import ROOT
from tests.support.dataset import END

WORDS = ["NaN", "nan", "Inf", "inf", "INF", "without", "by", "on", "ignoring", "group_left"]
WORDS += ["group_right", "bool", "offset", "Offset", "sum", "and", "or", "unless"]
RESERVED = ["__name__", "__meta_kubernetes_pod_ip", "__x"]


def settings_for(prometheus, **extra) -> Settings:
    return Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0, **extra)


def assert_refused(response: httpx.Response, parameter: str, value: str) -> dict:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["error"] == f"Invalid parameter: {parameter}"
    [error] = body["details"]["errors"]
    assert error["parameter"] == parameter
    assert error["value"] == value
    assert "such as" in error["message"]
    return error


async def test_prometheus_itself_cannot_group_by_a_number_word(prometheus):
    """Why the words are refused: the query the service would build is not valid PromQL."""
    query = "sum by (NaN, le) (rate(request_duration_seconds_bucket[5m]))"
    async with httpx.AsyncClient(trust_env=False) as http:
        answer = await http.get(f"{prometheus.url}/api/v1/query", params={"query": query})
    assert answer.status_code == 400
    assert answer.json()["errorType"] == "bad_data"


@pytest.mark.parametrize("word", WORDS + RESERVED)
@pytest.mark.parametrize("path", ["/api/metrics/p95/", "/api/metrics/percentiles/"])
async def test_promql_words_and_reserved_names_are_a_400_naming_model_label(
    prometheus, make_client, path, word
):
    async with make_client(settings_for(prometheus)) as client:
        response = await client.get(path, params={"model_label": word, "time": END})
    assert_refused(response, "model_label", word)


async def test_ordinary_label_names_still_answer(prometheus, make_client):
    async with make_client(settings_for(prometheus)) as client:
        response = await client.get("/api/metrics/p95/", params={"time": END})
        # words that merely contain a keyword are names like any other
        other = await client.get("/api/metrics/p95/", params={"time": END, "model_label": "byline"})
    assert response.status_code == 200
    assert "gpt-4" in {row["model"] for row in response.json()["data"]}
    assert other.status_code == 200, other.text


async def test_by_default_any_label_groups_the_answer(prometheus, make_client):
    """The attack the allow-list closes: without it, instance addresses are listed."""
    async with make_client(settings_for(prometheus)) as client:
        response = await client.get(
            "/api/metrics/p95/", params={"model_label": "instance", "time": END}
        )
    assert response.status_code == 200
    assert {row["model"] for row in response.json()["data"]} >= {"a"}


async def test_allowed_model_labels_refuses_other_labels(prometheus, make_client):
    settings = settings_for(prometheus, allowed_model_labels="model,tenant_.*")
    async with make_client(settings) as client:
        refused = await client.get("/api/metrics/p95/", params={"model_label": "instance"})
        partly = await client.get("/api/metrics/p95/", params={"model_label": "modelx"})
        pattern = await client.get("/api/metrics/p95/", params={"model_label": "tenant_a"})
        allowed = await client.get("/api/metrics/p95/", params={"time": END})
    error = assert_refused(refused, "model_label", "instance")
    assert "ALLOWED_MODEL_LABELS" in error["message"]
    assert "such as model" in error["message"]
    assert_refused(partly, "model_label", "modelx")  # a pattern matches the whole name
    assert pattern.status_code == 200, pattern.text  # no such label: no rows, but allowed
    assert allowed.status_code == 200
    assert "gpt-4" in {row["model"] for row in allowed.json()["data"]}


async def test_allowed_metrics_refuses_other_histograms(prometheus, make_client):
    settings = settings_for(prometheus, allowed_metrics="request_duration_seconds")
    async with make_client(settings) as client:
        refused = await client.get(
            "/api/metrics/p95/", params={"metric_name": "inference_latency_milliseconds"}
        )
        suffixed = await client.get(
            "/api/metrics/p95/range/",
            params={"metric_name": "prometheus_http_request_duration_seconds_bucket"},
        )
        allowed = await client.get("/api/metrics/p95/", params={"time": END})
    error = assert_refused(refused, "metric_name", "inference_latency_milliseconds")
    assert "ALLOWED_METRICS" in error["message"]
    assert_refused(suffixed, "metric_name", "prometheus_http_request_duration_seconds")
    assert allowed.status_code == 200
    assert "gpt-4" in {row["model"] for row in allowed.json()["data"]}


async def test_the_stream_is_refused_outside_the_allow_list(prometheus, make_client):
    settings = settings_for(prometheus, allowed_metrics="request_.*_seconds")
    async with make_client(settings) as client, asyncio.timeout(10):  # not a stream that runs
        response = await client.get("/api/metrics/stream/", params={"metric_name": "up"})
    assert_refused(response, "metric_name", "up")


def test_a_bad_allow_list_pattern_stops_start_up_without_echoing_it():
    done = subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=ROOT,
        env={**os.environ, "ALLOWED_METRICS": "request_duration_seconds,secret_(unclosed"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "ALLOWED_METRICS: " in done.stderr
    assert "entry 2 is not a regular expression" in done.stderr
    assert "secret_" not in done.stdout + done.stderr
