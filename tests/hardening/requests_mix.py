"""The requests of the load test: valid ones over the standard dataset, and hostile ones.

Each ``Planned`` request carries the status it must get, worked out here from the
issue's rules (bounds, 400 for bad input, 404 for unknown paths; parameters an endpoint
does not know are ignored, whatever their size or bytes), not from the service.

Besides valid and ``INVALID`` requests: ``HOSTILE`` text (invalid UTF-8 escapes,
non-ASCII digits, control characters), ``junk(i)`` (an unknown parameter of 60 KB, so
every request is a distinct query string) and ``OVERSIZED`` answers (range and history
answers of 1.4 to 3.3 MB, larger than a small response cache may keep).
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
    raw: str = ""  # appended to the query string as it is (escapes already applied)

    @property
    def url(self) -> str:
        query = "&".join(part for part in (urlencode(self.params), self.raw) if part)
        return f"{self.path}?{query}" if query else self.path


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


# Text that must never reach a query: each is a 400 (the model filter is the only free
# text, and it must be valid UTF-8 without control characters).
HOSTILE: tuple[Planned, ...] = (
    # Invalid UTF-8: a lone byte, an overlong '/', a UTF-16 surrogate, a truncated sequence.
    Planned(P95, [], 400, "model=%ff%fe"),
    Planned(P95, [], 400, "model=gpt%C0%AF4"),
    Planned(P95, [], 400, "model=%ED%A0%80"),
    Planned(RANGE, [], 400, "model_name=llama%E2%82"),
    Planned(P95, [], 400, "metric_name=request_duration_seconds%ff"),
    # Digits that are not ASCII: Arabic-Indic, fullwidth, mathematical bold, Devanagari.
    Planned(P95, [("time", "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660")], 400),
    Planned(P95, [("time_range", "\uff15m")], 400),
    Planned(RANGE, [("duration", "\U0001d7cfh")], 400),
    Planned(RANGE, [("step", "\u0967m")], 400),
    Planned(HISTORY, [("hours", "\u0663")], 400),
    Planned(PERCENTILES_PATH, [("percentiles", "\u0669\u0665")], 400),
    # Control characters: NUL, CR LF (a header injection attempt), DEL, C1 (NEL), ESC.
    Planned(P95, [], 400, "model=gpt%004"),
    Planned(P95, [], 400, "model=x%0D%0ASet-Cookie:%20a=b"),
    Planned(P95, [], 400, "model=gpt-4%7F"),
    Planned(P95, [], 400, "model=%C2%85"),
    Planned(RANGE, [], 400, "model=%1B%5B31mred"),
    Planned(P95, [], 400, "model_label=model%00"),
)

JUNK_BYTES = 60_000  # with the rest of the request line, under uvicorn's 64 KiB limit


def junk(i: int) -> Planned:
    """An unknown parameter of 60 KB (distinct for each ``i``), hostile bytes included:
    ignored, so the answer is the endpoint's own; a 404 on an unknown path."""
    value = f"{i}%ff%00" + "j" * JUNK_BYTES
    if i % 4 == 3:
        return Planned("/api/metrics/p96/", [], 404, f"x={value}")
    return Planned(P95, [("time", str(END))], 200, f"x={value}")


# Answers of 1.4 to 3.3 MB (a point every second or two over the dataset's hours): larger
# than the whole response cache of the load test, so they are served and never stored.
OVERSIZED: tuple[Planned, ...] = (
    Planned(RANGE, [("duration", "2h"), ("step", "1s"), ("end", str(END))], 200),
    Planned(RANGE, [("duration", "3h"), ("step", "1s"), ("end", str(END))], 200),
    Planned(RANGE, [("duration", "150m"), ("step", "1s"), ("end", str(END - 600))], 200),
    Planned(HISTORY, [("hours", "2"), ("step", "2s")], 200),
)
