"""What the HTTP cache layer remembers to skip work on its fast path.

``KeyMemo``: the cache key of each raw query string (parsing it through the query
model is the costly part of a hit). ``HitHeaders``: the headers of the hits of the
current second per key (their ``Age`` and ``max-age`` change once a second; hits in
between reuse them). Both belong to the HTTP layer, not to the store.
"""

from __future__ import annotations

from collections.abc import Callable

from app.cache.store import Entry

Header = tuple[bytes, bytes]


MEMO_ENTRY_OVERHEAD = 160


class KeyMemo:
    """Cache keys of raw queries, bounded by bytes (emptied when full)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self._keys: dict[tuple[str, bytes], str | None] = {}

    def get(self, path: str, query: bytes) -> str | bool | None:
        """The memoised key (None: the parameters are invalid), or False if not known."""
        return self._keys.get((path, query), False)

    def put(self, path: str, query: bytes, key: str | None) -> None:
        size = len(path) + len(query) + len(key or "") + MEMO_ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        if self.size_bytes + size > self.max_bytes:
            self._keys.clear()
            self.size_bytes = 0
        self._keys[(path, query)] = key
        self.size_bytes += size


class HitHeaders:
    """Hit headers per key for one second at a time (emptied when the second changes)."""

    def __init__(self) -> None:
        self._second = -1
        self._by_key: dict[str, tuple[Entry, list[Header]]] = {}

    def get(
        self, key: str, entry: Entry, now: float, make: Callable[[], list[Header]]
    ) -> list[Header]:
        """The headers for a hit on ``entry`` at ``now``, made by ``make`` once a second."""
        second = int(now)
        if second != self._second:
            self._by_key.clear()
            self._second = second
        known = self._by_key.get(key)
        if known is not None and known[0] is entry:
            return known[1]
        headers = make()
        self._by_key[key] = (entry, headers)
        return headers
