"""The circuit breaker, for the engine client and the shared Redis store alike.

closed ──(``threshold`` failures in a row)──▶ open ──(``cooldown`` s)──▶ half-open
  ▲                                                                        │
  └────────────── probe succeeds ◀───── one probe per cooldown ────────────┘
                  probe fails ──▶ open again

In half-open state one call goes through as a probe; the others keep failing fast
until the probe is recorded, or until another cooldown has passed (a probe that is
never recorded, such as a cancelled call, must not hold the circuit open for good).
What counts as a failure is the caller's call: the engine client counts timeouts,
connection errors and 5xx answers, never a 4xx caused by the request.

>>> clock = [0.0]
>>> breaker = CircuitBreaker(threshold=2, cooldown=5, clock=lambda: clock[0])
>>> breaker.record_failure(); breaker.record_failure(); breaker.allow()
False
>>> clock[0] = 5.0
>>> breaker.allow(), breaker.allow()
(True, False)
>>> breaker.record_success(); breaker.state
<BreakerState.CLOSED: 'closed'>
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_at: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cooldown:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def retry_after(self) -> float:
        """Seconds until the next probe may go through (0 when it may go now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """May a call go through now? In half-open state one probe per cooldown."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        now = self._clock()
        if self._probe_at is not None and now - self._probe_at < self.cooldown:
            return False
        self._probe_at = now
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._probe_at is not None or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probe_at = None
