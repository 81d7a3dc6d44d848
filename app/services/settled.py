"""Answers of evaluations wholly in the settled past, kept much longer than the TTL.

An instant evaluation at ``at`` reads samples up to ``at``; once ``at`` is more than
``settle_seconds`` (scrapes and ingestion in flight) in the past, its answer can no
longer change. ``compare=1d`` asks the same earlier instant on every refresh of a
TTL slot; keeping it here makes each refresh one new upstream query, not two.
Entries are encoded bytes (their size is exact, and no caller can change them), evicted
least recently used beyond ``max_bytes``.

    settled = SettledCache(max_bytes=4 << 20, settle_seconds=60)
    if settled.is_settled(at):
        settled.put(key, body)
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

ENTRY_OVERHEAD_BYTES = 200


class SettledCache:
    """Encoded settled answers by key, bounded by bytes (least recently used go first)."""

    def __init__(
        self,
        *,
        max_bytes: int = 4 << 20,
        settle_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_bytes = max_bytes
        self.settle_seconds = settle_seconds
        self.clock = clock
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def is_settled(self, at: float) -> bool:
        return at + self.settle_seconds <= self.clock()

    def get(self, key: str) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: str, body: bytes) -> None:
        size = _size(key, body)
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= _size(key, old)
        self._entries[key] = body
        self._bytes += size
        while self._bytes > self.max_bytes:
            evicted, kept = self._entries.popitem(last=False)
            self._bytes -= _size(evicted, kept)


def _size(key: str, body: bytes) -> int:
    return len(key) + len(body) + ENTRY_OVERHEAD_BYTES
