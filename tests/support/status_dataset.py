"""Data for the status page's browser tests, in exporters' exact names (exporters.py).

``two_profiles()``: vLLM and LiteLLM side by side (profile_dataset.py's series) over the
last half hour, and the same half hour a day before with every latency one bucket
faster, so the change since yesterday is an increase. ``fleet(n)``: ``n`` vLLM models
(names with ``/``) for the overview's size figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tests.support.exporters import Scrapes, python_le
from tests.support.profile_dataset import BEGIN, END, INTERVAL, VLLM_LATENCY, litellm, vllm

DAY = 86400
FLEET_SPAN = 600  # the fleet's last ten minutes: two rate windows of scrapes
FLEET_INTERVAL = 30


class Faster(Scrapes):
    """Every histogram's observations one bucket lower (yesterday's faster traffic)."""

    def histogram(
        self,
        name: str,
        labels: dict[str, str],
        bounds: Sequence[float],
        per_scrape: Sequence[float],
        *,
        le: Callable[[float], str] = python_le,
        idle_after: float | None = None,
    ) -> None:
        shifted = [*per_scrape[1:], 0] if len(per_scrape) > 1 else list(per_scrape)
        super().histogram(name, labels, bounds, shifted, le=le, idle_after=idle_after)


def merged(*parts: Scrapes) -> str:
    """One OpenMetrics text of several spans (oldest first), each family once."""
    names = list(dict.fromkeys(name for part in parts for name in part.families))
    lines: list[str] = []
    for name in names:
        kinds = {part.families[name].kind for part in parts if name in part.families}
        lines.append(f"# TYPE {name} {kinds.pop()}")
        for part in parts:
            lines.extend(part.families[name].lines if name in part.families else [])
    return "\n".join([*lines, "# EOF"]) + "\n"


def two_profiles() -> str:
    yesterday = Faster(BEGIN - DAY, END - DAY, INTERVAL)
    today = Scrapes(BEGIN, END, INTERVAL)
    for data in (yesterday, today):
        vllm(data)
        litellm(data)
    return merged(yesterday, today)


def fleet_model(index: int) -> str:
    return f"org-{index % 7}/model-{index:03d}"


def fleet(count: int) -> str:
    data = Scrapes(END - FLEET_SPAN, END, FLEET_INTERVAL)
    for index in range(count):
        labels = {"job": "vllm", "model_name": fleet_model(index), "engine": "0"}
        spread = [index % 3, 1 + index % 5, 2, 1 + index % 2]
        data.histogram("vllm:e2e_request_latency_seconds", labels, VLLM_LATENCY, spread)
        data.counter("vllm:generation_tokens_total", labels, 100 + index)
    return data.openmetrics()
