"""Prometheus duration strings (``5m``, ``1h30m``, ``250ms``) and timestamps."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_UNITS_MS = {
    "y": 365 * 86_400_000,
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1_000,
    "ms": 1,
}
# Prometheus's own grammar: units in descending order, each at most once.
_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
_PART = re.compile(r"(\d+)(y|w|d|h|ms|m|s)")
MAX_DURATION_LENGTH = 32
MAX_POINTS = 11_000  # Prometheus's own limit of points per series in one range query


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration; ValueError if it is not one or is not positive.

    >>> parse_duration("1h30m")
    5400.0
    """
    text = text.strip()
    if not text or len(text) > MAX_DURATION_LENGTH or not _DURATION.match(text):
        raise ValueError("expected a Prometheus duration such as 30s, 5m, 1h or 1h30m")
    millis = sum(int(number) * _UNITS_MS[unit] for number, unit in _PART.findall(text))
    if millis <= 0:
        raise ValueError("must be greater than zero")
    return millis / 1000


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for ``seconds`` (whole milliseconds)."""
    millis = round(seconds * 1000)
    parts: list[str] = []
    for unit in ("d", "h", "m", "s", "ms"):
        count, millis = divmod(millis, _UNITS_MS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_timestamp(text: str) -> float:
    """Unix seconds from a unix timestamp or an RFC 3339 string; ValueError otherwise."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        value = _parse_rfc3339(text)
    if not math.isfinite(value) or not 0 <= value < 32_503_680_000:
        raise ValueError("out of range")
    return value


def _parse_rfc3339(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("expected unix seconds or an RFC 3339 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso8601(timestamp: float) -> str:
    """An ISO 8601 UTC string for unix seconds, as the seeds' ``collected_at``."""
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()
