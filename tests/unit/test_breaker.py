"""The one circuit breaker (app/breaker.py): the rule the engine client and the Redis
store did not share before, a probe that is never recorded."""

from __future__ import annotations

from app.breaker import BreakerState, CircuitBreaker


def test_a_probe_never_recorded_lets_another_through_after_a_cooldown() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, cooldown=5, clock=lambda: now[0])
    breaker.record_failure()
    now[0] = 5.0
    assert breaker.allow()  # the probe, then cancelled: nothing is recorded
    now[0] = 9.9
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.allow()  # the circuit is not held open for good
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
