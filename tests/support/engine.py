"""What the engine itself answers, for tests to compare the service's numbers with.

expected = engine(prometheus.url, "sum by (model) (rate(x_total[5m]))", "model", at=END)
assert close(row["requests_per_second"], expected["gpt-4"])
"""

from __future__ import annotations

import math
from typing import Any

import httpx


def engine(url: str, promql: str, label: str, at: float) -> dict[str, float | None]:
    """The engine's own instant answer to ``promql`` at ``at``, by the value of ``label``
    (``url`` is its Prometheus API root, VictoriaMetrics' included)."""
    response = httpx.post(f"{url}/api/v1/query", data={"query": promql, "time": str(at)})
    response.raise_for_status()
    found: dict[str, float | None] = {}
    for item in response.json()["data"]["result"]:
        value = float(item["value"][1])
        found[item["metric"].get(label, "")] = value if math.isfinite(value) else None
    return found


def close(actual: float | None, expected: float | None) -> bool:
    """Equal to floating-point noise; None only where None is expected."""
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9)


def change_pct(now: Any, before: Any) -> Any:
    """The change in percent, field by field, null where either side is null or the earlier
    is 0 (the rule of ``compare=``, written independently of the service)."""
    if isinstance(now, dict):
        return {key: change_pct(value, (before or {}).get(key)) for key, value in now.items()}
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before * 100
