"""The HTTP layer's memo of the current second's hits (app/cache/memos.py)."""

from __future__ import annotations

from app.cache.memos import Hit, HitHeaders
from app.cache.store import Entry

ENTRY = Entry(b"{}", ((b"content-type", b"application/json"),), stored_at=95.0)


def test_a_hit_is_kept_for_its_second_while_its_entry_is_fresh() -> None:
    hits = HitHeaders()
    assert hits.get("k", 100.1) is None
    kept = hits.put("k", Hit(ENTRY, [(b"age", b"5")], fresh_until=100.5))
    assert hits.get("k", 100.4) is kept
    assert hits.get("other", 100.4) is None
    # Its slot ends within the second: from then on the store is asked again.
    assert hits.get("k", 100.5) is None


def test_a_new_second_forgets_the_hits_of_the_last() -> None:
    hits = HitHeaders()
    hits.get("k", 100.1)
    hits.put("k", Hit(ENTRY, [(b"age", b"5")], fresh_until=110.0))
    assert hits.get("k", 101.0) is None  # (its Age has changed)
    assert hits.get("k", 101.2) is None  # forgotten, not only skipped
