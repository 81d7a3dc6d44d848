"""The entry encoding and the circuit breaker, without Redis."""

from __future__ import annotations

import pytest

from app.cache.shared import Breaker, decode_entry, encode_entry
from app.cache.store import Entry


@pytest.mark.parametrize(
    "entry",
    [
        Entry(b"", (), 0.0),
        Entry(b'{"p95":0.25}', ((b"content-type", b"application/json"),), 1_700_000_000.123456),
        Entry(bytes(range(256)) * 40, ((b"x-a", b""), (b"", b"\x00\xff" * 70_000)), 1e9 / 3),
    ],
)
def test_an_entry_round_trips_exactly(entry: Entry) -> None:
    assert decode_entry(encode_entry(entry)) == entry


def test_the_encoding_is_compact() -> None:
    entry = Entry(b"body", ((b"content-type", b"application/json"),), 1.5)
    assert len(encode_entry(entry)) == 11 + 6 + len(b"content-typeapplication/json") + 4


@pytest.mark.parametrize(
    "data", [b"", b"\x02" + bytes(10), encode_entry(Entry(b"", ((b"a", b"bc"),), 1))[:-1]]
)
def test_anything_else_decodes_to_none(data: bytes) -> None:
    assert decode_entry(data) is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = Breaker(threshold=3, cooldown=2, clock=Clock())
    for ok in (False, False, True, False, False):
        breaker.record(ok)
    assert breaker.allow()
    breaker.record(False)
    assert not breaker.allow()


def test_after_the_cooldown_one_probe_goes_through_and_a_success_closes_it() -> None:
    clock = Clock()
    breaker = Breaker(threshold=1, cooldown=2, clock=clock)
    breaker.record(False)
    clock.now += 2
    assert breaker.allow()
    assert not breaker.allow()  # one probe per cooldown
    breaker.record(True)
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_probe_opens_it_for_another_cooldown() -> None:
    clock = Clock()
    breaker = Breaker(threshold=1, cooldown=2, clock=clock)
    breaker.record(False)
    clock.now += 2
    assert breaker.allow()
    breaker.record(False)
    clock.now += 1.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()
