"""The shared store's entry codec (validated, signed) and the circuit breaker, without
Redis."""

from __future__ import annotations

import pytest

from app.breaker import CircuitBreaker
from app.cache.codec import EntryCodec
from app.cache.store import Entry

NOSNIFF = (b"x-content-type-options", b"nosniff")


JSON = ((b"content-type", b"application/json"),)
NOW = 1_700_000_000.0
KEY = "mla:0123456789abcdef:entry:/api/metrics/p95/?time_range=5m"
SIGNED = EntryCodec(secret=b"s" * 32, clock=lambda: NOW)
UNSIGNED = EntryCodec(secret=None, clock=lambda: NOW)


@pytest.mark.parametrize("codec", [SIGNED, UNSIGNED], ids=["signed", "unsigned"])
@pytest.mark.parametrize(
    "entry",
    [
        Entry(b'{"p95":0.25}', JSON, NOW - 0.123456),
        Entry(b"{" + b'"a":"' + "é".encode() * 70_000 + b'"}', (*JSON, NOSNIFF), 1e9 / 3),
        Entry(b"{}", JSON, NOW + 4.9),  # a replica's clock a little ahead
    ],
)
def test_an_entry_round_trips_exactly(codec: EntryCodec, entry: Entry) -> None:
    assert codec.decode(KEY, codec.encode(KEY, entry)) == entry


def test_the_encoding_is_the_entry_and_a_32_byte_mac() -> None:
    entry = Entry(b"{}", JSON, 1.5)
    expected = 1 + 32 + 8 + 2 + 6 + len(b"content-typeapplication/json") + 2
    assert len(SIGNED.encode(KEY, entry)) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02" + bytes(10),
        b"\x01" + UNSIGNED.encode(KEY, Entry(b"{}", JSON, NOW))[1:],  # another version
        UNSIGNED.encode(KEY, Entry(b"{}", JSON, NOW))[:-1],
        UNSIGNED.encode(KEY, Entry(b"{}", ((b"a", b"bc"),), NOW)),
    ],
)
def test_anything_else_decodes_to_none(data: bytes) -> None:
    assert UNSIGNED.decode(KEY, data) is None
    assert SIGNED.decode(KEY, data) is None


def test_a_signed_entry_is_refused_under_another_key_or_secret_or_changed() -> None:
    data = SIGNED.encode(KEY, Entry(b'{"p95":1}', JSON, NOW))
    other_secret = EntryCodec(secret=b"t" * 32, clock=lambda: NOW)
    changed = data.replace(b'"p95":1', b'"p95":2')
    assert SIGNED.decode(KEY + "&model=x", data) is None
    assert other_secret.decode(KEY, data) is None
    assert SIGNED.decode(KEY, changed) is None
    assert UNSIGNED.decode(KEY, changed) is not None  # (what validation alone cannot see)


@pytest.mark.parametrize("codec", [SIGNED, UNSIGNED], ids=["signed", "unsigned"])
@pytest.mark.parametrize(
    "entry",
    [
        Entry(b"{}", JSON, 1e15),  # fresh for ever
        Entry(b"{}", JSON, NOW + 60),
        Entry(b"{}", JSON, float("nan")),
        Entry(b"{}", JSON, -1.0),
        Entry(b"<script>alert(1)</script>", ((b"content-type", b"text/html"),), NOW),
        Entry(b"{}", (*JSON, (b"set-cookie", b"session=x")), NOW),
        Entry(b"{}", ((b"content-type", b"application/json\r\nset-cookie: a=b"),), NOW),
        Entry(b"", JSON, NOW),
    ],
)
def test_a_forged_entry_decodes_to_none_even_correctly_signed(
    codec: EntryCodec, entry: Entry
) -> None:
    assert codec.decode(KEY, codec.encode(KEY, entry)) is None


def test_without_a_secret_the_body_must_be_a_json_object() -> None:
    assert UNSIGNED.decode(KEY, UNSIGNED.encode(KEY, Entry(b"{not json}", JSON, NOW))) is None
    assert SIGNED.decode(KEY, SIGNED.encode(KEY, Entry(b"{not json}", JSON, NOW))) is not None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=2, clock=Clock())
    for ok in (False, False, True, False, False):
        breaker.record_success() if ok else breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert not breaker.allow()


def test_after_the_cooldown_one_probe_goes_through_and_a_success_closes_it() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=2, clock=clock)
    breaker.record_failure()
    clock.now += 2
    assert breaker.allow()
    assert not breaker.allow()  # one probe per cooldown
    breaker.record_success()
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_probe_opens_it_for_another_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=2, clock=clock)
    breaker.record_failure()
    clock.now += 2
    assert breaker.allow()
    breaker.record_failure()
    clock.now += 1.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()
