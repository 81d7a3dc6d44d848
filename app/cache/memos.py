"""What the HTTP cache layer remembers to skip work on its fast path.

``KeyMemo``: the cache key of each raw query string (parsing it through the query
model is the costly part of a hit). ``HitHeaders``: the hits of the current second per
key, entry and headers (their ``Age`` and ``max-age`` change once a second; hits in
between reuse them and skip the store). Both belong to the HTTP layer, not to the store.
"""

from __future__ import annotations

from typing import NamedTuple

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


class Hit(NamedTuple):
    """A hit's entry, its headers, and the end of the entry's TTL slot."""

    entry: Entry
    headers: list[Header]
    fresh_until: float


class HitHeaders:
    """The hits of the current second per key: the entry and its headers (emptied when
    the second changes). A hit found here skips the store: until its entry's slot ends,
    the entry the store holds for the key is the same one (a key is rendered again only
    once its entry is no longer fresh)."""

    def __init__(self) -> None:
        self._second = -1
        self._by_key: dict[str, Hit] = {}

    def get(self, key: str, now: float) -> Hit | None:
        """The hit kept for ``key`` this second, while its entry is fresh at ``now``."""
        second = int(now)
        if second != self._second:
            self._by_key.clear()
            self._second = second
            return None
        known = self._by_key.get(key)
        return known if known is not None and now < known.fresh_until else None

    def put(self, key: str, hit: Hit) -> Hit:
        self._by_key[key] = hit
        return hit
