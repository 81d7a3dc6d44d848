"""SLO attainment, Apdex and the distribution of native histograms, against a real
Prometheus (native histograms on, fed by remote write): the shares are Prometheus's own
``histogram_fraction``, the buckets its own ``histogram`` field, asked here directly."""

from __future__ import annotations

import pytest

from app.settings import Settings
from tests.native import data

pytestmark = pytest.mark.prometheus

RATES = f"sum by (model) (rate({data.NATIVE}[5m]))"
REL = 1e-9


def engine(server, promql: str) -> dict[str, float]:
    return {s["metric"]["model"]: float(s["value"][1]) for s in server.query(promql, at=data.EVAL)}


async def get(make_client, server, path: str, **params) -> dict:
    async with make_client(Settings(prometheus_url=server.url)) as client:
        response = await client.get(path, params={"time": data.EVAL, **params})
    assert response.status_code == 200, response.text
    return response.json()


def fraction(server, upper_seconds: float) -> dict[str, float]:
    return engine(server, f"histogram_fraction(-Inf, {upper_seconds!r}, {RATES})")


async def test_native_shares_are_prometheus_own_histogram_fraction(make_client, native_prometheus):
    body = await get(
        make_client,
        native_prometheus,
        "/api/metrics/slo/",
        metric_name=data.NATIVE,
        threshold_ms="300",
        apdex_t_ms="100",
        time_range="5m",
    )
    assert body["histogram"] == "native"
    rows = {row["model"]: row for row in body["data"]}
    share, satisfied, tolerable = (fraction(native_prometheus, t) for t in (0.3, 0.1, 0.4))
    counted = engine(native_prometheus, f"histogram_count({RATES})")
    for model in ("gpt-4", "llama-3", data.WEIRD):
        row = rows[model]
        assert row["share_under_threshold"] == pytest.approx(share[model], rel=REL)
        expected_apdex = satisfied[model] + (tolerable[model] - satisfied[model]) / 2
        assert row["apdex"] == pytest.approx(expected_apdex, rel=REL)
        assert row["requests"] == pytest.approx(counted[model] * 300, rel=REL)
        assert row["exact"] is False
    assert rows["quiet"]["share_under_threshold"] is None
    assert rows["quiet"]["met"] is None


async def test_a_threshold_on_a_native_bucket_boundary_is_exact(make_client, native_prometheus):
    # Schema 3 boundaries are powers of 2^(1/8); 2^-2 s = 250 ms is one of them.
    body = await get(
        make_client,
        native_prometheus,
        "/api/metrics/slo/",
        metric_name=data.NATIVE,
        model="gpt-4",
        threshold_ms="250",
        time_range="5m",
    )
    (row,) = body["data"]
    assert row["exact"] is True
    assert row["share_under_threshold"] == pytest.approx(
        fraction(native_prometheus, 0.25)["gpt-4"], rel=REL
    )


async def test_native_buckets_are_prometheus_own(make_client, native_prometheus):
    body = await get(
        make_client, native_prometheus, "/api/metrics/distribution/", metric_name=data.NATIVE
    )
    assert body["histogram"] == "native"
    rows = {row["model"]: row for row in body["data"]}
    theirs = {
        s["metric"]["model"]: s["histogram"][1]
        for s in native_prometheus.query(RATES, at=data.EVAL)
    }
    for model in ("gpt-4", "llama-3", "negative"):
        buckets = rows[model]["buckets"]
        expected = theirs[model]["buckets"]
        assert len(buckets) == len(expected)
        for ours, (_, lower, upper, count) in zip(buckets, expected, strict=True):
            assert ours["lower_ms"] == pytest.approx(float(lower) * 1000, abs=1e-6)  # 6 places
            assert ours["le_ms"] == pytest.approx(float(upper) * 1000, abs=1e-6)
            assert ours["per_second"] == pytest.approx(float(count), rel=REL)
        total = float(theirs[model]["count"])
        assert sum(b["per_second"] for b in buckets) == pytest.approx(total, rel=1e-9)
        assert buckets[-1]["cumulative_share"] == pytest.approx(1.0, rel=1e-9)


async def test_the_native_range_gives_prometheus_own_buckets_at_each_step(
    make_client, native_prometheus
):
    end = data.END - 60
    params = {"metric_name": data.NATIVE, "duration": "10m", "step": "2m", "end": end}
    async with make_client(Settings(prometheus_url=native_prometheus.url)) as client:
        response = await client.get("/api/metrics/distribution/range/", params=params)
        again = await client.get("/api/metrics/distribution/range/", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["histogram"] == "native"
    assert again.json()["data"] == body["data"]
    rows = {row["model"]: row for row in body["data"]}
    gpt = rows["gpt-4"]
    assert len(gpt["points"]) == 6
    for point in gpt["points"]:
        (theirs,) = [
            s["histogram"][1]
            for s in native_prometheus.query(RATES, at=point["timestamp"])
            if s["metric"]["model"] == "gpt-4"
        ]
        ours = [(b["le_ms"], b["per_second"]) for b in point["buckets"]]
        expected = [(float(upper) * 1000, float(count)) for _, _, upper, count in theirs["buckets"]]
        assert ours == [
            (pytest.approx(le, abs=1e-6), pytest.approx(rate, rel=REL)) for le, rate in expected
        ]
