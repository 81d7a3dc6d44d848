"""One polling loop per distinct stream question, its latest event shared by subscribers.

A ``Channel`` asks its question (``poll``) once per interval for as long as anyone
listens, and keeps the latest SSE event; subscribers wait for the next one with
``next_event``. However many browsers follow a question, it costs one loop; the number
of distinct questions is bounded by ``StreamHub`` (``STREAM_MAX_KEYS``).

    channel = Channel(poll, interval=15, name="percentiles")
    channel.start()
    version, event = await channel.next_event(seen=0, wait=15)
    channel.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import orjson

logger = logging.getLogger(__name__)

Poll = Callable[[], Awaitable[tuple[int, bytes]]]
"""The question's answer now: its status and JSON body."""


def event(name: str, data: bytes, ident: str | None = None) -> bytes:
    """One SSE event; ``data`` is one line of JSON."""
    head = f"event: {name}\n" + (f"id: {ident}\n" if ident else "")
    return head.encode() + b"data: " + data + b"\n\n"


def evaluation_id(body: bytes) -> str:
    """The evaluation time of an answer (its items' ``timestamp``, else its
    ``last_updated``), as the event id."""
    document = orjson.loads(body)
    data = document.get("data") or []
    stamp = data[0].get("timestamp") if data else None
    if not isinstance(stamp, int | float) and isinstance(document.get("last_updated"), str):
        with contextlib.suppress(ValueError):
            stamp = datetime.fromisoformat(document["last_updated"]).timestamp()
    return f"{stamp if isinstance(stamp, int | float) else time.time():.3f}"


def update_event(name: str, status: int, body: bytes) -> bytes:
    """``name`` (``percentiles``, ``models``) with the answer, or ``error`` with the error
    body."""
    if status == 200:
        try:
            return event(name, body, evaluation_id(body))
        except (orjson.JSONDecodeError, AttributeError):
            logger.warning("a stream update was not a JSON answer; sent as an error event")
            body = b'{"status":"error","error":"no usable answer for this update","details":{}}'
    return event("error", body)


class Channel:
    """The latest event of one question, refreshed every ``interval`` seconds while open."""

    def __init__(self, poll: Poll, *, interval: float, name: str) -> None:
        self.poll = poll
        self.interval = interval
        self.name = name
        self.subscribers = 0
        self.version = 0
        self.latest = b""
        self.ended = False
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        """End the loop and wake every subscriber (they see ``ended``)."""
        self.ended = True
        if self._task is not None:
            self._task.cancel()
        self._wake()

    async def next_event(self, seen: int, wait: float) -> tuple[int, bytes | None]:
        """The event after version ``seen``, or None when ``wait`` seconds pass first."""
        if self.version == seen and not self.ended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)
        if self.version == seen or self.ended:
            return seen, None
        return self.version, self.latest

    async def _run(self) -> None:
        while True:
            try:
                status, body = await self.poll()
                self._publish(update_event(self.name, status, body))
            except Exception:  # a broken update must not end everyone's stream
                logger.exception("a stream update failed")
            await asyncio.sleep(self.interval)

    def _publish(self, chunk: bytes) -> None:
        self.latest = chunk
        self.version += 1
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
