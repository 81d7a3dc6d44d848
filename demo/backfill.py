"""The last hour of demo traffic, written into Prometheus's storage before it first scrapes.

    text = history(end=time.time(), labels={"job": "llm-gateway", "instance": "127.0.0.1:9101"})
    write_blocks(text, data_dir, promtool="/usr/bin/promtool", workdir=tmp)

Without it, a newcomer's first ``make run`` shows an empty chart that takes an hour to
fill. The history is the traffic source's own model (demo/traffic.py) in its steady
state, the profiles at simulated time zero: the story the live source tells (llama-3-70b
slowing down, mistral-7b going quiet) starts when the demo does. Series carry the labels a
scrape of the traffic source gets, so the backfilled hour and the live data are one series
per bucket; the live counters starting again from zero read as a counter reset, which
``rate()`` handles.
"""

from __future__ import annotations

import bisect
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from demo.traffic import BUCKETS, TrafficModel

HISTOGRAM = "request_duration_seconds"
COUNTER = "demo_requests"


@dataclass
class Counts:
    """One model's cumulative histogram and request counter, as a scrape would read them."""

    buckets: list[float] = field(default_factory=lambda: [0.0] * (len(BUCKETS) + 1))
    total_seconds: float = 0.0
    requests: float = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1  # le: seconds <= bound
        self.total_seconds += seconds
        self.requests += 1

    def snapshot(self) -> Counts:
        return Counts(list(self.buckets), self.total_seconds, self.requests)


def simulate(model: TrafficModel, stamps: list[float], interval: float) -> dict[str, list[Counts]]:
    """Per model, the counts at each of ``stamps`` (``interval`` seconds apart)."""
    state = {p.name: Counts() for p in model.profiles}
    seen: dict[str, list[Counts]] = {name: [] for name in state}
    for _ in stamps:
        for name, seconds in model.tick(0.0, interval):
            state[name].observe(seconds)
        for name, counts in state.items():
            seen[name].append(counts.snapshot())
    return seen


def _labels(labels: Mapping[str, str]) -> str:
    def esc(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


def _histogram_lines(
    labels: Mapping[str, str], stamps: list[float], counts: list[Counts]
) -> Iterator[str]:
    # As prometheus-client writes them on /metrics ("0.025", "1.0", "+Inf"): the same series.
    bounds = [*(repr(float(b)) for b in BUCKETS), "+Inf"]
    for stamp, snap in zip(stamps, counts, strict=True):
        ts = f"{stamp:.3f}"
        cumulative = 0.0
        for le, count in zip(bounds, snap.buckets, strict=True):
            cumulative += count
            yield f"{HISTOGRAM}_bucket{_labels({**labels, 'le': le})} {cumulative:g} {ts}"
        yield f"{HISTOGRAM}_count{_labels(labels)} {cumulative:g} {ts}"
        yield f"{HISTOGRAM}_sum{_labels(labels)} {snap.total_seconds!r} {ts}"


def history(
    *,
    end: float,
    labels: Mapping[str, str],
    seconds: float = 3600.0,
    interval: float = 5.0,
    rate: float = 40.0,
    seed: int = 0,
) -> str:
    """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``: ``seconds`` of
    traffic up to ``end`` (unix seconds), one sample per series every ``interval`` seconds.

    ``labels`` are the target labels a scrape adds (``job``, ``instance``); ``rate`` and
    ``seed`` as for ``python -m demo.traffic``."""
    count = int(seconds // interval)
    stamps = [end - (count - i) * interval for i in range(count + 1)]
    per_model = simulate(TrafficModel(rate=rate, seed=seed), stamps, interval)
    lines = [f"# TYPE {HISTOGRAM} histogram"]
    for name, counts in per_model.items():
        lines.extend(_histogram_lines({**labels, "model": name}, stamps, counts))
    lines.append(f"# TYPE {COUNTER} counter")
    for name, counts in per_model.items():
        series = f"{COUNTER}_total{_labels({**labels, 'model': name})}"
        samples = zip(stamps, counts, strict=True)
        lines.extend(f"{series} {c.requests:g} {t:.3f}" for t, c in samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def write_blocks(openmetrics: str, data_dir: Path, *, promtool: str, workdir: Path) -> None:
    """Turn ``openmetrics`` into TSDB blocks in ``data_dir`` (Prometheus must not be running
    on it yet); raises ``subprocess.CalledProcessError`` with promtool's output."""
    source = workdir / "backfill.om"
    source.write_text(openmetrics)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        source.unlink(missing_ok=True)
