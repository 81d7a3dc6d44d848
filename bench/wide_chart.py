"""``bench/results.png``: cache-miss latency against models, the service and its floor
(Prometheus answering the cheapest query that gives the same information), one panel per
endpoint, log-log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHART = Path(__file__).with_name("results.png")


@dataclass(frozen=True)
class Point:
    """Median miss latency of the service and of its floor at one model count."""

    models: int
    service_ms: float
    floor_ms: float


def chart(panels: dict[str, list[Point]]) -> None:
    """One panel per endpoint (its title the key), in a grid of two columns."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rows = (len(panels) + 1) // 2
    figure, grid = pyplot.subplots(rows, 2, figsize=(10, 3.6 * rows), dpi=110, squeeze=False)
    for axes, (title, points) in zip(grid.flat, panels.items(), strict=False):
        _panel(axes, title, points)
    for axes in list(grid.flat)[len(panels) :]:
        axes.set_visible(False)
    figure.suptitle("Instant cache miss vs Prometheus answering its floor directly")
    figure.tight_layout()
    figure.savefig(CHART)
    pyplot.close(figure)


def _panel(axes, title: str, points: list[Point]) -> None:  # type: ignore[no-untyped-def]
    models = [p.models for p in points]
    axes.plot(models, [p.service_ms for p in points], "o-", label="service, cache miss")
    axes.plot(models, [p.floor_ms for p in points], "s--", label="floor, Prometheus directly")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("models (one series per model and bucket, 12 buckets)")
    axes.set_ylabel("median latency, ms")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
