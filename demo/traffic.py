"""Synthetic LLM gateway traffic: a latency histogram per model, exposed on ``/metrics``.

    python -m demo.traffic --host 127.0.0.1 --port 9101 [--seed 7] [--rate 40] [--speed 1]

Five models with different latency distributions (log-normal with a slow tail):
``llama-3-70b`` gets slower every minute since start, ``mistral-7b`` stops receiving
requests after three minutes (its series stays, so its rate drops to zero). ``--speed``
makes that simulated clock run faster (the request rate stays the same), which the
tests use to see a few minutes of degradation in a few seconds.

It exports ``request_duration_seconds{model}`` (histogram) and ``demo_requests_total{model}``
on its own registry; the local demo (``make run``) and deploy/docker-compose.yml scrape it
as the ``llm-gateway`` job.
"""

from __future__ import annotations

import argparse
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
MAX_RATE = 1000.0  # requests per second, all models together
TICK_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """How one model answers: a log-normal latency with an occasional slow request."""

    name: str
    share: float  # fraction of all requests
    median_seconds: float
    sigma: float  # spread of the log-normal
    slow_fraction: float = 0.02  # requests that take the slow path (retries, long outputs)
    slow_factor: float = 3.0
    degrade_seconds_per_minute: float = 0.0  # the median grows this much per simulated minute
    quiet_after_seconds: float | None = None  # no requests after this simulated time


PROFILES = (
    ModelProfile("gpt-4o", 0.25, 0.085, 0.30),
    ModelProfile("claude-3-5-sonnet", 0.22, 0.095, 0.35),
    ModelProfile("gemini-1-5-flash", 0.25, 0.040, 0.35, slow_fraction=0.01, slow_factor=4.0),
    ModelProfile("llama-3-70b", 0.18, 0.040, 0.30, degrade_seconds_per_minute=0.012),
    ModelProfile("mistral-7b", 0.10, 0.030, 0.40, slow_fraction=0.01, quiet_after_seconds=180),
)


def median_at(profile: ModelProfile, elapsed: float) -> float:
    """The model's median latency ``elapsed`` simulated seconds after start."""
    return profile.median_seconds + profile.degrade_seconds_per_minute * elapsed / 60


def is_active(profile: ModelProfile, elapsed: float) -> bool:
    return profile.quiet_after_seconds is None or elapsed < profile.quiet_after_seconds


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; fine for the small means of one tick."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class TrafficModel:
    """Deterministic for a seed: the same ``tick`` calls give the same requests."""

    def __init__(
        self, profiles: Sequence[ModelProfile] = PROFILES, *, rate: float = 40.0, seed: int = 0
    ) -> None:
        self.profiles = tuple(profiles)
        self.rate = rate
        self.rng = random.Random(seed)

    def latency(self, profile: ModelProfile, elapsed: float) -> float:
        seconds = self.rng.lognormvariate(math.log(median_at(profile, elapsed)), profile.sigma)
        if self.rng.random() < profile.slow_fraction:
            seconds *= profile.slow_factor
        return seconds

    def tick(self, elapsed: float, dt: float) -> list[tuple[str, float]]:
        """The requests that finished in ``dt`` real seconds at simulated time ``elapsed``."""
        done: list[tuple[str, float]] = []
        for profile in self.profiles:
            if not is_active(profile, elapsed):
                continue
            for _ in range(poisson(self.rng, self.rate * profile.share * dt)):
                done.append((profile.name, self.latency(profile, elapsed)))
        return done


class TrafficSource:
    """Feeds a ``TrafficModel`` into prometheus-client metrics from a background thread."""

    def __init__(
        self, model: TrafficModel, registry: CollectorRegistry, *, speed: float = 1.0
    ) -> None:
        self.model = model
        self.speed = speed
        self.histogram = Histogram(
            "request_duration_seconds",
            "Time to answer one LLM request, by model (synthetic demo traffic).",
            ["model"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "demo_requests",
            "Requests the demo traffic source generated.",
            ["model"],
            registry=registry,
        )
        for profile in model.profiles:  # every series exists from the first scrape on
            self.histogram.labels(model=profile.name)
            self.requests.labels(model=profile.name)
        self.stopped = threading.Event()

    def record(self, batch: Sequence[tuple[str, float]]) -> None:
        # The counter first, so a scrape never sees more observations than requests.
        for name, seconds in batch:
            self.requests.labels(model=name).inc()
            self.histogram.labels(model=name).observe(seconds)

    def run(self, tick: float = TICK_SECONDS) -> None:
        """Generate until ``stop()``; the simulated clock runs ``speed`` times real time."""
        started = last = time.monotonic()
        while not self.stopped.wait(tick):
            now = time.monotonic()
            self.record(self.model.tick((now - started) * self.speed, now - last))
            last = now

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="demo-traffic", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopped.set()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo.traffic", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback)"
    )
    parser.add_argument("--port", type=int, default=9101, help="port of /metrics (default 9101)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--rate",
        type=float,
        default=40.0,
        help=f"requests per second, all models (max {MAX_RATE:g})",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated minutes per real minute (default 1)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.rate <= MAX_RATE:
        parser.error(f"--rate must be in (0, {MAX_RATE:g}]")
    if not 0 < args.speed <= 10_000:
        parser.error("--speed must be in (0, 10000]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve ``/metrics`` until SIGINT or SIGTERM."""
    args = parse_args(argv)
    registry = CollectorRegistry()
    source = TrafficSource(TrafficModel(rate=args.rate, seed=args.seed), registry, speed=args.speed)
    try:
        server, _ = start_http_server(args.port, addr=args.host, registry=registry)
    except OSError as exc:
        print(f"demo.traffic: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2

    def stop(_signum: int, _frame: FrameType | None) -> None:
        source.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    names = ", ".join(p.name for p in source.model.profiles)
    print(f"demo.traffic: {names} on http://{args.host}:{args.port}/metrics", flush=True)
    source.run()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
