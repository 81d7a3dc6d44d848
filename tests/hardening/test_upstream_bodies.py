"""Oversized upstream answers, sent as an attacker in front of the engine would: a gzip
bomb, an endless body and 200 MB answers, against the service as it runs (uvicorn), with
its resident memory and /health/live measured throughout."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from harness.processes import Service, uvicorn_app
from tests.support.fake_prometheus import FakeUpstream, gzip_bomb

MB = 1 << 20
P95 = "/api/metrics/p95/"
_ranges = itertools.count(1)


@dataclass
class Watch:
    """The largest resident memory and the slowest /health/live seen while it ran."""

    rss: list[int] = field(default_factory=list)
    live: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


@contextmanager
def watched(service: Service) -> Iterator[Watch]:
    watch = Watch()
    process = psutil.Process(service.process.pid)

    def sample_memory() -> None:
        while not watch.stop.is_set():
            watch.rss.append(process.memory_info().rss)
            time.sleep(0.01)

    def probe_liveness() -> None:
        with httpx.Client(base_url=service.url, timeout=10) as client:
            while not watch.stop.is_set():
                started = time.monotonic()
                assert client.get("/health/live").status_code == 200
                watch.live.append(time.monotonic() - started)
                time.sleep(0.05)

    threads = [threading.Thread(target=run) for run in (sample_memory, probe_liveness)]
    for thread in threads:
        thread.start()
    try:
        yield watch
    finally:
        watch.stop.set()
        for thread in threads:
            thread.join(15)


def ask(client: httpx.Client) -> httpx.Response:
    """A question nobody asked before (no cache can answer it)."""
    return client.get(P95, params={"time_range": f"{next(_ranges)}m"})


@dataclass
class Outcome:
    answers: dict[str, list[httpx.Response]]
    growth: int
    slowest_live: float


def attack(tmp_path: Path, **env: str) -> Outcome:
    gzip_bomb()  # built before anything is measured
    with FakeUpstream("ok") as upstream:
        settings = {
            "PROMETHEUS_URL": upstream.url,
            "CACHE_TTL_SECONDS": "0",
            # Every refused answer is a failure of the upstream: keep asking it anyway.
            "CIRCUIT_FAILURE_THRESHOLD": "1000",
            **env,
        }
        with (
            uvicorn_app(tmp_path / "service.log", settings) as service,
            httpx.Client(base_url=service.url, timeout=60) as client,
        ):
            for _ in range(3):  # warm: imports, the first answers, the allocator's arenas
                assert ask(client).status_code == 200
            before = service.rss()
            answers: dict[str, list[httpx.Response]] = {}
            with watched(service) as watch:
                for mode, times in (("gzip_bomb", 2), ("endless", 2), ("huge", 4)):
                    upstream.mode = mode
                    answers[mode] = [ask(client) for _ in range(times)]
    return Outcome(answers, max(watch.rss) - before, max(watch.live))


def assert_a_502_naming(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 502, answer.text
    body = answer.json()
    assert body["status"] == "error"
    assert words in body["error"]


def test_oversized_answers_are_refused_with_memory_and_liveness_bounded(tmp_path: Path):
    outcome = attack(tmp_path)
    assert outcome.growth < 100 * MB
    assert outcome.slowest_live < 1.0
    for answer in outcome.answers["gzip_bomb"]:  # gzip it did not ask for
        assert_a_502_naming(answer, "content encoding the service did not ask for")
    for answer in outcome.answers["endless"] + outcome.answers["huge"]:
        assert_a_502_naming(answer, f"UPSTREAM_MAX_BYTES ({64 * MB} bytes)")


def test_with_compression_asked_for_a_gzip_bomb_is_capped_after_decoding(tmp_path: Path):
    outcome = attack(tmp_path, UPSTREAM_COMPRESSION="true")
    assert outcome.growth < 100 * MB
    assert outcome.slowest_live < 1.0
    for answer in [answer for answers in outcome.answers.values() for answer in answers]:
        assert_a_502_naming(answer, f"UPSTREAM_MAX_BYTES ({64 * MB} bytes)")


@pytest.mark.parametrize("limit_mb", [1, 2])
def test_the_limit_is_a_setting(tmp_path: Path, limit_mb: int):
    with FakeUpstream("huge") as upstream:
        env = {"PROMETHEUS_URL": upstream.url, "UPSTREAM_MAX_BYTES": str(limit_mb * MB)}
        with (
            uvicorn_app(tmp_path / "service.log", env) as service,
            httpx.Client(base_url=service.url, timeout=60) as client,
        ):
            answer = ask(client)
    assert_a_502_naming(answer, f"UPSTREAM_MAX_BYTES ({limit_mb * MB} bytes)")
