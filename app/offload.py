"""Run large pure computations off the event loop, small ones in place.

Parsing, merging and encoding a range answer of hundreds of thousands of points takes
seconds of CPU; on the event loop it would stall every other request, liveness probes
included. Above ``LARGE`` units of work (points, bytes) the function runs in a worker
thread (the GIL still switches every few milliseconds, so the loop keeps answering);
below it the thread hop would cost more than it saves.

    body = await off_loop(points, encode, document)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

LARGE = 20_000


async def off_loop(size: int, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, in a worker thread when ``size`` is ``LARGE`` or more."""
    if size >= LARGE:
        return await asyncio.to_thread(function, *args)
    return function(*args)
