"""The standard test dataset: known histograms for several models over three hours.

``END`` is a whole minute a little in the past; tests evaluate at ``END`` (or
range over the last hours before it) so every expected value is exact.
"""

from __future__ import annotations

import time

from tests.support.histograms import Dataset, Phase, SeriesSpec

INTERVAL = 15
END = int(time.time() // 60 * 60) - 120
BEGIN = END - 3 * 3600
CHANGE = 2 * 3600  # offset at which "llama-3" degrades and "quiet" stops
QUIET_AFTER = 2 * 3600 + 1800

SECONDS_BOUNDS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
MS_BOUNDS = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0)
WEIRD = 'weird"model\\x'
INJECTION = 'a"} or vector(1) or x{y="'
GATEWAY = {"job": "llm-gateway"}


def _seconds(model: str, instance: str, phases: list[Phase], **kw: float) -> SeriesSpec:
    labels = {**GATEWAY, "model": model, "instance": instance}
    return SeriesSpec("request_duration_seconds", labels, SECONDS_BOUNDS, phases, **kw)


def build() -> Dataset:
    data = Dataset(begin=BEGIN, end=END, interval=INTERVAL)
    data.series += [
        _seconds("gpt-4", "a", [Phase(0, [0, 2, 6, 8, 3, 1, 0])]),
        _seconds("gpt-4", "b", [Phase(0, [1, 4, 4, 2, 1, 0, 0])]),
        _seconds(
            "llama-3",
            "a",
            [Phase(0, [5, 10, 4, 1, 0, 0, 0]), Phase(CHANGE, [0, 1, 2, 6, 8, 3, 0])],
        ),
        _seconds(WEIRD, "a", [Phase(0, [0, 0, 1, 3, 4, 0, 0])]),
        _seconds("quiet", "a", [Phase(0, [2, 2, 2, 2, 0, 0, 0]), Phase(QUIET_AFTER, [0] * 7)]),
        _seconds("overflow", "a", [Phase(0, [0, 0, 0, 0, 0, 0, 1])], overflow=9),
        SeriesSpec(
            "request_duration_seconds",
            {"job": "other", "model": "other-job", "instance": "a"},
            SECONDS_BOUNDS,
            [Phase(0, [1, 1, 1, 1, 1, 1, 1])],
        ),
        SeriesSpec(
            "inference_latency_milliseconds",
            {**GATEWAY, "model": "mistral", "instance": "a"},
            MS_BOUNDS,
            [Phase(0, [1, 3, 5, 8, 2, 1, 0])],
        ),
    ]
    return data


DATASET = build()


def specs(metric: str, model: str) -> list[SeriesSpec]:
    return [s for s in DATASET.series if s.metric == metric and s.labels["model"] == model]
