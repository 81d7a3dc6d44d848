"""The requests of the load test: valid ones over the standard dataset, and hostile ones.

Each ``Planned`` request carries the status it must get, worked out here from the
issue's rules (bounds, 400 for bad input, 404 for unknown paths), not from the service.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from urllib.parse import urlencode

from tests.support.dataset import END, INJECTION, WEIRD

Params = list[tuple[str, str]]

MODELS = ("gpt-4", "llama-3", "quiet", "overflow", WEIRD, INJECTION, "no-such-model")
WINDOWS = ("1m", "2m", "5m", "10m", "15m", "30m", "1h", "1h30m")
RANGES = (("1h", "1m"), ("3h", "5m"), ("30m", "15s"), ("1d", "1h"), ("2h", "30s"))
PERCENTILES = ("50,95,99", "90", "99.9,50", "10,20,30,40,50,60,70,80,90,99", "75,25")
KB5 = "x" * 5000


@dataclass(frozen=True, slots=True)
class Planned:
    path: str
    params: Params
    expected: int

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


def _filters(rng: random.Random) -> Params:
    models = rng.sample(MODELS, rng.randint(0, 3))
    name = rng.choice(("model", "model_name"))
    return [(name, model) for model in models]


def _instant(rng: random.Random) -> Params:
    """Evaluation times on whole minutes of the dataset, so many distinct cache keys."""
    at = END - 60 * rng.randrange(0, 170)
    params = [("time", str(at)), ("time_range", rng.choice(WINDOWS)), *_filters(rng)]
    if rng.random() < 0.2:
        params.append(("metric_name", "inference_latency_milliseconds"))
    return params


def valid(rng: random.Random) -> Planned:
    """One well-formed request to one of the five /api/metrics endpoints."""
    kind = rng.randrange(5)
    if kind == 0:
        return Planned("/api/metrics/", _instant(rng), 200)
    if kind == 1:
        return Planned("/api/metrics/p95/", _instant(rng), 200)
    if kind == 2:
        wanted = ("percentiles", rng.choice(PERCENTILES))
        return Planned("/api/metrics/percentiles/", [*_instant(rng), wanted], 200)
    if kind == 3:
        duration, step = rng.choice(RANGES)
        end = END - 60 * rng.randrange(0, 60)
        params = [("duration", duration), ("step", step), ("end", str(end)), *_filters(rng)]
        return Planned("/api/metrics/p95/range/", params, 200)
    hours = rng.choice(("1", "2", "3", "0.5", "6", "24"))
    return Planned("/api/metrics/history/", [("hours", hours), *_filters(rng)], 200)


P95 = "/api/metrics/p95/"
RANGE = "/api/metrics/p95/range/"
PERCENTILES_PATH = "/api/metrics/percentiles/"
HISTORY = "/api/metrics/history/"

INVALID: tuple[Planned, ...] = (
    # Durations that are not durations, or out of bounds.
    Planned(P95, [("time_range", "5 min")], 400),
    Planned(P95, [("time_range", "-1m")], 400),
    Planned(P95, [("time_range", "0s")], 400),
    Planned(P95, [("time_range", "31d")], 400),
    Planned(P95, [("time_range", "")], 400),
    Planned(RANGE, [("duration", "32d")], 400),
    Planned(RANGE, [("step", "0s")], 400),
    Planned(RANGE, [("duration", "1h"), ("step", "1.5m")], 400),
    # Far more points than one range query may return.
    Planned(RANGE, [("duration", "31d"), ("step", "1s")], 400),
    Planned(RANGE, [("duration", "7d"), ("step", "15s")], 400),
    Planned(HISTORY, [("hours", "744"), ("step", "1s")], 400),
    Planned(HISTORY, [("hours", "745")], 400),
    Planned(HISTORY, [("hours", "0")], 400),
    Planned(HISTORY, [("hours", "-3")], 400),
    Planned(HISTORY, [("hours", "nan")], 400),
    Planned(HISTORY, [("hours", "1e400")], 400),
    # Percentiles out of range, malformed, or too many.
    Planned(PERCENTILES_PATH, [("percentiles", "0")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "100")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "150,50")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "-5")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "abc")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "nan")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", ",".join(str(p) for p in range(1, 12)))], 400),
    # Too many model filters; values far too long.
    Planned(P95, [("model", f"m{i}") for i in range(60)], 400),
    Planned(RANGE, [("model_name", f"m{i}") for i in range(60)], 400),
    Planned(P95, [("model", KB5)], 400),
    Planned(P95, [("metric_name", "a" * 5000)], 400),
    Planned(P95, [("model_label", "a" * 5000)], 400),
    Planned(P95, [("time", "1" * 5000)], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "5," * 2500)], 400),
    Planned(P95, [("prometheus_url", "http://" + KB5)], 400),
    # Injection attempts where only names are allowed, a server that is not configured.
    Planned(P95, [("metric_name", "up) or vector(1")], 400),
    Planned(P95, [("metric_name", 'request_duration_seconds{job="x"}')], 400),
    Planned(P95, [("model_label", 'model"}')], 400),
    Planned(P95, [("model_label", "le")], 400),
    Planned(P95, [("time", "1; DROP TABLE models")], 400),
    Planned(P95, [("prometheus_url", "http://169.254.169.254/latest/meta-data/")], 400),
    # Unknown paths.
    Planned("/api/metrics/p99/", [], 404),
    Planned("/api/v1/query", [("query", "up")], 404),
    Planned("/admin", [], 404),
    Planned("/api/metrics/p95/range/extra/", [], 404),
    Planned("/%2e%2e/%2e%2e/etc/passwd", [], 404),
)
