"""The one single-flight (app/singleflight.py): shared calls, shielded waits, memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.singleflight import SingleFlight


async def test_a_caller_that_hangs_up_does_not_cancel_the_shared_call() -> None:
    gate = asyncio.Event()
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "answer"

    flight: SingleFlight[str, str] = SingleFlight()
    leaving = asyncio.create_task(flight.run("k", slow))
    staying = asyncio.create_task(flight.run("k", slow))
    await asyncio.sleep(0)
    assert flight.in_flight("k")
    leaving.cancel()
    gate.set()
    assert await staying == "answer"
    assert calls == 1
    assert not flight.in_flight("k")


async def test_results_are_remembered_for_their_ttl_and_failures_not_at_all() -> None:
    now = [0.0]
    answers: Iterator[str | Exception] = iter([ValueError("down"), "first", "second"])

    async def ask() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    flight: SingleFlight[str, str] = SingleFlight(ttl=lambda _value: 10.0, clock=lambda: now[0])
    with pytest.raises(ValueError, match="down"):
        await flight.run("k", ask)
    assert await flight.run("k", ask) == "first"
    now[0] = 9.9
    assert await flight.run("k", ask) == "first"
    now[0] = 10.0
    assert await flight.run("k", ask) == "second"
