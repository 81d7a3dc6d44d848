"""What the fake Prometheus answers: the answer shapes, and the data sets it serves."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

import httpx
import orjson

from tests.support.histograms import expected_quantile

READY = "Prometheus Server is Ready.\n"
JSON = "application/json"


def form_of(request: httpx.Request) -> dict[str, str]:
    """The request's form (the service POSTs its queries), last value of each key."""
    return {key: values[-1] for key, values in parse_qs(request.content.decode()).items()}


def success(data: object) -> httpx.Response:
    return httpx.Response(
        200,
        content=orjson.dumps({"status": "success", "data": data}),
        headers={"content-type": JSON},
    )


def vector(result: list[dict[str, Any]]) -> httpx.Response:
    return success({"resultType": "vector", "result": result})


def matrix(result: list[dict[str, Any]]) -> httpx.Response:
    return success({"resultType": "matrix", "result": result})


def not_found() -> httpx.Response:
    return httpx.Response(404, text="404 page not found\n")


def stamps(form: dict[str, str], most: int | None = None) -> list[float]:
    """The range query's grid, at most ``most`` points."""
    start, end, step = (float(form[key]) for key in ("start", "end", "step"))
    count = int((end - start) // step) + 1
    count = count if most is None else min(most, count)
    return [start + i * step for i in range(max(count, 0))]


def is_kind_probe(request: httpx.Request) -> bool:
    """The service's question of which kind of histogram a metric has (asked once per
    metric, app/services/kinds.py); fakes answer it with nothing, meaning classic."""
    return b"histogram_kind" in request.content


_QUANTILE = re.compile(r"^histogram_quantile\(([0-9.e+-]+), ")


def quantile_samples(
    query: str, buckets: list[dict[str, Any]], model_label: str = "model"
) -> list[dict[str, Any]] | None:
    """What Prometheus answers ``histogram_quantile(q, <bucket rates>)`` with, computed from
    the fake's cumulative bucket samples by tests/support/histograms.py; None for any other
    query."""
    found = _QUANTILE.match(query)
    if found is None:
        return None
    q = float(found.group(1))
    per_model: dict[str, list[tuple[float, float]]] = {}
    for sample in buckets:
        labels = sample["metric"]
        per_model.setdefault(labels[model_label], []).append(
            (float(labels["le"]), float(sample["value"][1]))
        )
    at = buckets[0]["value"][0]
    return [
        {"metric": {model_label: model}, "value": [at, _quantile_text(q, cumulative)]}
        for model, cumulative in per_model.items()
    ]


def _quantile_text(q: float, cumulative: list[tuple[float, float]]) -> str:
    cumulative.sort()
    previous = [0.0] + [total for _, total in cumulative[:-1]]
    counts = [total - before for (_, total), before in zip(cumulative, previous, strict=True)]
    bounds = [le for le, _ in cumulative if le != float("inf")]
    value = expected_quantile(q, bounds, counts)
    return "NaN" if value is None else repr(value)


class Data(Protocol):
    def answer(self, request: httpx.Request) -> httpx.Response: ...


# `sum by (<model label>, le) (...)`: which label the service asked to group by.
_GROUPING = re.compile(r"sum by \((\w+), le\)")


@dataclass(frozen=True)
class Steady:
    """Valid answers to every call the service makes, grouped by the label it asks for;
    404 for anything else. A model without traffic (``silent``) has bucket rates of 0 and
    NaN quantiles, as in Prometheus."""

    models: tuple[str, ...] = ("gpt-4", "llama-3", 'weird"model\\x')
    silent: str = "silent"
    buckets: tuple[tuple[str, float], ...] = (("0.1", 1.0), ("0.5", 3.0), ("1", 4.0), ("+Inf", 4.0))
    max_points: int = 20  # enough to exercise the range cache, cheap for thousands of examples

    def answer(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        query = form.get("query", "")
        found = _GROUPING.search(query)
        label = found.group(1) if found else "model"
        if request.url.path == "/-/ready":
            return httpx.Response(200, text=READY)
        if request.url.path == "/api/v1/query":
            quantiles = quantile_samples(query, self.bucket_samples(label, 0.0), label)
            return vector(
                self.bucket_samples(label, float(form["time"])) if quantiles is None else quantiles
            )
        if request.url.path == "/api/v1/query_range":
            return matrix(self.series(label, stamps(form, self.max_points)))
        if request.url.path == "/api/v1/label/__name__/values":  # which metric names exist
            return success(["request_duration_seconds_bucket", "request_duration_seconds_count"])
        return not_found()

    def bucket_samples(self, label: str, at: float) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = [
            {"metric": {label: model, "le": le}, "value": [at, f"{rate * (i + 1):g}"]}
            for i, model in enumerate(self.models)
            for le, rate in self.buckets
        ]
        silent = [
            {"metric": {label: self.silent, "le": le}, "value": [at, "0"]} for le, _ in self.buckets
        ]
        return result + silent

    def series(self, label: str, grid: list[float]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = [
            {"metric": {label: model}, "values": [[t, f"0.{i + 1}5"] for t in grid]}
            for i, model in enumerate(self.models)
        ]
        result.append({"metric": {label: self.silent}, "values": [[t, "NaN"] for t in grid]})
        return result


@dataclass(frozen=True)
class Wide:
    """Range answers as large as the API allows: ``models`` series, one point per step;
    instant queries answer an empty vector, anything else the readiness text."""

    models: int = 65

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/query_range":
            grid = stamps(form_of(request))
            return matrix(
                [
                    {
                        "metric": {"model": f"model-{m:03d}"},
                        "values": [[t, f"0.{m + 100}"] for t in grid],
                    }
                    for m in range(self.models)
                ]
            )
        if request.url.path == "/api/v1/query":
            return vector([])
        return httpx.Response(200, text=READY)


@dataclass(frozen=True)
class Changing:
    """Bucket rates for two models that grow with the clock, so every second's p95
    differs from the last; 404 for anything but the three calls."""

    models: tuple[str, ...] = ("gpt-4", "llama-3")
    bounds: tuple[str, ...] = ("0.1", "0.5", "1", "2.5", "+Inf")

    def answer(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        if request.url.path == "/-/ready":
            return httpx.Response(200, text=READY)
        if request.url.path == "/api/v1/query":
            if "histogram_kind" in form.get("query", ""):
                return vector([])
            at = float(form.get("time", time.time()))
            rates = self.rates(at)
            return vector(
                [{"metric": {"model": m, "le": le}, "value": [at, f"{v:g}"]} for m, le, v in rates]
            )
        if request.url.path == "/api/v1/query_range":
            grid = stamps(form)
            return matrix(
                [
                    {
                        "metric": {"model": m},
                        "values": [[t, f"{0.2 + j / 10 + (int(t) % 5) / 100}"] for t in grid],
                    }
                    for j, m in enumerate(self.models)
                ]
            )
        if request.url.path == "/api/v1/label/__name__/values":  # the scorecard's name lookup
            return success(["request_duration_seconds_bucket", "request_duration_seconds_count"])
        return not_found()

    def rates(self, at: float) -> list[tuple[str, str, float]]:
        tick = int(at) % 7 + 1  # changes every second: the first bucket holds more or less
        last = len(self.bounds) - 1
        return [
            (model, le, float(tick * (j + 1) + 2 * min(i, last - 1)))
            for j, model in enumerate(self.models)
            for i, le in enumerate(self.bounds)
        ]


@dataclass(frozen=True)
class Constant:
    """One JSON body to every request, whatever was asked (with ``ready``, the readiness
    text to ``/-/ready``); when the body holds bucket rates, a ``histogram_quantile`` of
    them is answered as Prometheus would (one sample per model, no ``le``)."""

    body: dict[str, Any]
    ready: bool = False

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.ready and request.url.path == "/-/ready":
            return httpx.Response(200, text=READY)
        body = self.body
        result = body.get("data", {}).get("result")
        if isinstance(result, list) and result and all("le" in s["metric"] for s in result):
            quantiles = quantile_samples(form_of(request).get("query", ""), result)
            body = (
                body
                if quantiles is None
                else {**body, "data": {**body["data"], "result": quantiles}}
            )
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": JSON}
        )


# Bucket rates of model "a": every request in (0, 0.5] seconds.
ONE_MODEL = {
    "status": "success",
    "data": {
        "resultType": "vector",
        "result": [
            {"metric": {"model": "a", "le": "0.5"}, "value": [1700000000, "2"]},
            {"metric": {"model": "a", "le": "+Inf"}, "value": [1700000000, "2"]},
        ],
    },
}
