"""The settled-evaluation cache: bounded by bytes, and only for the settled past."""

from __future__ import annotations

import pytest

from app.schemas.queries import InstantQuery
from app.services.compare import change_pct, earlier_instant
from app.services.settled import ENTRY_OVERHEAD_BYTES, SettledCache


def test_an_instant_is_settled_once_settle_seconds_have_passed():
    cache = SettledCache(settle_seconds=60, clock=lambda: 1000.0)
    assert cache.is_settled(940.0)
    assert not cache.is_settled(940.5)


def test_the_least_recently_used_go_first_beyond_the_byte_bound():
    body = b"x" * 100
    one = len("k0") + len(body) + ENTRY_OVERHEAD_BYTES
    cache = SettledCache(max_bytes=3 * one)
    for i in range(3):
        cache.put(f"k{i}", body)
    assert cache.get("k0") == body  # now the most recently used
    cache.put("k3", body)
    assert (cache.get("k1"), cache.get("k0"), cache.get("k3")) == (None, body, body)
    assert cache.size_bytes <= cache.max_bytes


def test_an_entry_larger_than_the_bound_is_not_kept():
    cache = SettledCache(max_bytes=1000)
    cache.put("k", b"x" * 1000)
    assert len(cache) == 0


def test_a_given_time_is_compared_exactly_and_now_on_the_minute():
    asked = InstantQuery(time="1700000030.5", compare="1d")
    assert earlier_instant(asked, asked.at()) == 1700000030.5 - 86400
    now = InstantQuery(compare="1h")
    assert earlier_instant(now, 1700000030.5) == 1699996380.0


def test_change_is_null_where_a_side_is_null_or_the_previous_is_zero():
    now = {"a": 110.0, "b": None, "c": 5.0, "d": {"p50": 50.0}}
    before = {"a": 100.0, "b": 1.0, "c": 0.0, "d": {"p50": 100.0}}
    change = change_pct(now, before)
    assert change == {"a": pytest.approx(10.0), "b": None, "c": None, "d": {"p50": -50.0}}
