"""Ask a real Prometheus a PromQL expression directly, for expected values."""

from __future__ import annotations

import httpx


def ask(url: str, promql: str, at: float, label: str = "model") -> dict[str, float]:
    """``{label value: value}`` of an instant query ('' when the label is absent)."""
    response = httpx.get(url + "/api/v1/query", params={"query": promql, "time": at})
    body = response.json()
    assert body["status"] == "success", body
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in body["data"]["result"]}


def ask_one(url: str, promql: str, at: float) -> float:
    found = ask(url, promql, at)
    assert len(found) == 1, found
    return next(iter(found.values()))
