"""The synthetic traffic model, driven with a simulated clock (no waiting)."""

from __future__ import annotations

import math
import statistics

from demo.traffic import PROFILES, TrafficModel, median_at

RATE = 200.0


def simulate(seed: int, seconds: float, start: float = 0.0, dt: float = 0.1):
    model = TrafficModel(rate=RATE, seed=seed)
    steps = round(seconds / dt)
    return [req for i in range(steps) for req in model.tick(start + i * dt, dt)]


def by_model(requests):
    grouped: dict[str, list[float]] = {}
    for name, seconds in requests:
        grouped.setdefault(name, []).append(seconds)
    return grouped


def test_the_same_seed_gives_the_same_requests():
    assert simulate(7, 5) == simulate(7, 5)
    assert simulate(7, 5) != simulate(8, 5)


def test_request_counts_follow_the_rate_and_shares():
    counts = {name: len(v) for name, v in by_model(simulate(1, 60)).items()}
    for profile in PROFILES:
        expected = RATE * profile.share * 60
        # Poisson: five standard deviations either side.
        assert abs(counts[profile.name] - expected) < 5 * math.sqrt(expected), profile.name


def test_median_latency_matches_each_profile():
    latencies = by_model(simulate(2, 60))
    for profile in PROFILES:
        if profile.degrade_seconds_per_minute:
            continue
        median = statistics.median(latencies[profile.name])
        assert abs(median / profile.median_seconds - 1) < 0.1, profile.name


def test_llama_degrades_and_the_others_do_not():
    early = by_model(simulate(3, 30, start=0))
    late = by_model(simulate(3, 30, start=600))
    llama = next(p for p in PROFILES if p.name == "llama-3-70b")
    assert median_at(llama, 600) > 2 * median_at(llama, 0)
    assert statistics.median(late["llama-3-70b"]) > 2 * statistics.median(early["llama-3-70b"])
    ratio = statistics.median(late["gpt-4o"]) / statistics.median(early["gpt-4o"])
    assert 0.8 < ratio < 1.25


def test_mistral_goes_quiet_and_the_others_keep_going():
    mistral = next(p for p in PROFILES if p.name == "mistral-7b")
    assert mistral.quiet_after_seconds is not None
    late = by_model(simulate(4, 30, start=mistral.quiet_after_seconds))
    assert "mistral-7b" not in late
    assert set(late) == {p.name for p in PROFILES} - {"mistral-7b"}
