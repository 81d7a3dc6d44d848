"""Load generators: wrk for throughput, an httpx client for latencies and bursts, and the
service's CPU time over paired rounds."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from harness.processes import Service

WRK = "wrk"
SETTLE = 0.1  # seconds for a service to finish what its last answer left (freeing it)
UVICORN_KEEP_ALIVE = 5  # seconds uvicorn keeps an idle connection (its default)


def wrk_rps(url: str, *, seconds: int = 5, connections: int = 16, threads: int = 1) -> float:
    """Requests per second wrk sustains against ``url`` (keep-alive); non-2xx is an error."""
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 30)
    if "Non-2xx" in out.stdout or "Socket errors" in out.stdout:
        raise RuntimeError(f"wrk saw errors against {url}:\n{out.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out.stdout}")
    return float(match.group(1))


async def timed_get(client: httpx.AsyncClient, url: str, params: dict[str, object]) -> float:
    """Seconds for one GET, whole body read; anything but 200 is an error."""
    started = time.perf_counter()
    response = await client.get(url, params=params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


async def paired(
    first: Callable[[int], Awaitable[float]],
    second: Callable[[int], Awaitable[float]],
    rounds: int,
) -> tuple[list[float], list[float]]:
    """Latencies of two request kinds, round by round, alternating which goes first."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        if i % 2:
            b.append(await second(i))
            a.append(await first(i))
        else:
            a.append(await first(i))
            b.append(await second(i))
    return a, b


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios: each pair ran back to back under the same load."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Paired:
    """Paired latencies (seconds) of the service and of its floor asked directly, and the
    service's CPU time per request over those rounds."""

    ours: list[float]
    theirs: list[float]
    cpu_ms: float

    @property
    def ratio(self) -> float:
        return paired_ratio(self.ours, self.theirs)

    def described(self) -> str:
        """What the measured column shows: both medians and the CPU per miss."""
        ours, theirs = (_ms(statistics.median(runs)) for runs in (self.ours, self.theirs))
        return f"median {ours} ms vs {theirs} ms direct; CPU {self.cpu_ms:.1f} ms/miss"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:.0f}"


async def paired_at(
    service: Service,
    ours: Callable[[int], Awaitable[float]],
    theirs: Callable[[int], Awaitable[float]],
    stamps: list[int],
) -> Paired:
    """``paired`` rounds of a service request and its floor, round ``i`` asking both at
    ``stamps[i]``, with the service's CPU time (all its threads) over them divided by its
    requests."""
    before = await settled_cpu(service)
    ours_s, theirs_s = await paired(
        lambda i: ours(stamps[i]), lambda i: theirs(stamps[i]), len(stamps)
    )
    used = await settled_cpu(service) - before
    return Paired(ours_s, theirs_s, used * 1000 / len(stamps))


async def settled_cpu(service: Service) -> float:
    """The service's CPU seconds so far, read once it is done with earlier requests."""
    await asyncio.sleep(SETTLE)
    return service.cpu_seconds()


class Instants:
    """Evaluation instants never handed out before, counting back a second at a time from
    ``first``: the service caches answers by URL, so each request asks at an instant of its
    own to be a miss."""

    def __init__(self, first: int) -> None:
        self._next = first

    def take(self, count: int) -> list[int]:
        taken = list(range(self._next, self._next - count, -1))
        self._next -= count
        return taken

    @property
    def earliest(self) -> int:
        """The earliest instant handed out so far (``first`` before any was)."""
        return self._next + 1


def polling_limits(clients: int) -> httpx.Limits:
    """Connections for ``clients`` pages that poll every few seconds. Uvicorn closes a
    connection idle for ``UVICORN_KEEP_ALIVE``: kept idle any longer, a poll can go out
    on a connection the server is closing at that moment ("Server disconnected without
    sending a response"), so the client drops it a second before."""
    return httpx.Limits(
        max_connections=clients * 2,
        max_keepalive_connections=clients * 2,
        keepalive_expiry=UVICORN_KEEP_ALIVE - 1,
    )


async def burst(url: str, params: dict[str, object], count: int) -> list[int]:
    """``count`` identical GETs at once, each on its own connection; their status codes."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        responses = await asyncio.gather(*(client.get(url, params=params) for _ in range(count)))
    return [r.status_code for r in responses]
