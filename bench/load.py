"""Load generators: wrk for throughput, an httpx client for latencies and bursts."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable

import httpx

WRK = "wrk"


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


async def burst(url: str, params: dict[str, object], count: int) -> list[int]:
    """``count`` identical GETs at once, each on its own connection; their status codes."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        responses = await asyncio.gather(*(client.get(url, params=params) for _ in range(count)))
    return [r.status_code for r in responses]
