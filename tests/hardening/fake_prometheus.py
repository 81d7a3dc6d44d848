"""An in-process Prometheus double for the schema fuzzing: always a valid answer.

The service's own handling of Prometheus failures is tested elsewhere
(tests/unit/test_reliability.py, tests/integration/test_faults.py); here the
upstream is healthy so every 5xx the fuzzer sees would be the service's fault.

    create_app(settings, upstream_transport=httpx.MockTransport(answer))
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import httpx

from tests.support.fake_upstream import quantile_samples

MODELS = ("gpt-4", "llama-3", 'weird"model\\x')
# A model without traffic: its bucket rates are 0 and its quantiles NaN, as in Prometheus.
SILENT_MODEL = "silent"
BUCKETS = (("0.1", 1.0), ("0.5", 3.0), ("1", 4.0), ("+Inf", 4.0))
MAX_POINTS = 20  # enough to exercise the range cache, cheap for thousands of examples

# `sum by (<model label>, le) (...)`: which label the service asked to group by.
_GROUPING = re.compile(r"sum by \((\w+), le\)")


def _model_label(query: str) -> str:
    found = _GROUPING.search(query)
    return found.group(1) if found else "model"


def _success(data: dict[str, object]) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "data": data})


def _vector(label: str, at: float) -> httpx.Response:
    return _success({"resultType": "vector", "result": _bucket_samples(label, at)})


def _bucket_samples(label: str, at: float) -> list[dict[str, object]]:
    result: list[dict[str, object]] = [
        {"metric": {label: model, "le": le}, "value": [at, f"{rate * (i + 1):g}"]}
        for i, model in enumerate(MODELS)
        for le, rate in BUCKETS
    ]
    result += [{"metric": {label: SILENT_MODEL, "le": le}, "value": [at, "0"]} for le, _ in BUCKETS]
    return result


def _grid(start: float, end: float, step: float) -> list[float]:
    count = min(MAX_POINTS, int((end - start) // step) + 1)
    return [start + i * step for i in range(max(count, 0))]


def _matrix(label: str, start: float, end: float, step: float) -> httpx.Response:
    stamps = _grid(start, end, step)
    result = [
        {"metric": {label: model}, "values": [[t, f"0.{i + 1}5"] for t in stamps]}
        for i, model in enumerate(MODELS)
    ]
    result.append({"metric": {label: SILENT_MODEL}, "values": [[t, "NaN"] for t in stamps]})
    return _success({"resultType": "matrix", "result": result})


def answer(request: httpx.Request) -> httpx.Response:
    """Answer the four upstream calls the service makes; 404 for anything else."""
    form = {key: values[-1] for key, values in parse_qs(request.content.decode()).items()}
    label = _model_label(form.get("query", ""))
    if request.url.path == "/-/ready":
        return httpx.Response(200, text="Prometheus Server is Ready.\n")
    if request.url.path == "/api/v1/query":
        buckets = _vector(label, float(form["time"]))
        quantiles = quantile_samples(form.get("query", ""), _bucket_samples(label, 0.0), label)
        if quantiles is None:
            return buckets
        return _success({"resultType": "vector", "result": quantiles})
    if request.url.path == "/api/v1/query_range":
        start, end, step = (float(form[key]) for key in ("start", "end", "step"))
        return _matrix(label, start, end, step)
    if request.url.path == "/api/v1/label/__name__/values":  # which metric names exist
        return _success(["request_duration_seconds_bucket", "request_duration_seconds_count"])
    return httpx.Response(404, text="404 page not found\n")
