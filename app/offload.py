"""Run large pure computations off the event loop, small ones in place.

Parsing, merging and encoding a range answer of hundreds of thousands of points is
long CPU work; on the event loop it would stall every other request, liveness probes
included. Above ``LARGE`` units of work (points, bytes) the function runs in a worker
thread (the GIL still switches between threads, so the loop keeps answering); below it
the thread hop would cost more than it saves. While the work runs, in a thread or in
place, the cyclic garbage collector is paused: building many small containers (a
decoded answer) otherwise triggers it again and again, and none of these objects form
cycles (what that saves: docs/performance.md).

    body = await off_loop(points, encode, document)
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

LARGE = 20_000

_pausing = threading.Lock()
_paused = 0


async def off_loop(size: int, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` with the collector paused, in a worker thread when ``size`` is
    ``LARGE`` or more."""
    if size >= LARGE:
        return await asyncio.to_thread(_large, function, *args)
    return _without_gc(function, *args)


def _without_gc(function: Callable[..., T], *args: Any) -> T:
    with gc_paused():
        return function(*args)


def _large(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` without the collector; then the memory its many small objects
    took goes back to the system (``malloc_trim``), or the process keeps the high-water
    mark of its largest answer for good."""
    try:
        return _without_gc(function, *args)
    finally:
        _trim()


def _trim() -> None:
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    """glibc, which has ``malloc_trim``; None elsewhere (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection until the last of the overlapping pauses ends."""
    global _paused
    with _pausing:
        _paused += 1
        gc.disable()
    try:
        yield
    finally:
        with _pausing:
            _paused -= 1
            if _paused == 0:
                gc.enable()
