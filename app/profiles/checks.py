"""Pure checks of the model scorecard's parameter text (``profile=``, ``signals=``), in the
shape of ``app/params.py``: the normalised value, or ``ParameterProblem`` in words with an
example."""

from __future__ import annotations

import re

from app.params import MAX_PERCENTILES_LENGTH, ParameterProblem, parse_percentile

PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_profile(value: str) -> str:
    """A profile name as profiles are named (the server says which exist)."""
    text = value.strip()
    if not PROFILE_NAME.fullmatch(text):
        raise ParameterProblem(
            "must be a profile name: lower-case letters, digits, '-' and '_', such as vllm"
        )
    return text


MAX_SIGNALS = 20


def check_series_signals(value: str, rates: tuple[str, ...], durations: tuple[str, ...]) -> str:
    """``latency_p95,ttft_p50,output_tokens_per_second``: rate and ratio signals by name,
    duration signals with a percentile (``_p95``) or ``_mean``; deduplicated, in order."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or len(parts) > MAX_SIGNALS or len(value) > MAX_PERCENTILES_LENGTH * 2:
        raise ParameterProblem(
            f"one to {MAX_SIGNALS} signals, such as latency_p95,ttft_p95,output_tokens_per_second"
        )
    for part in parts:
        if part not in rates and not _duration_series(part, durations):
            raise ParameterProblem(
                f"{part[:50]!r} is not a signal; use {', '.join(rates)}, or "
                f"{', '.join(durations)} with _p<percentile> (such as latency_p95) or _mean"
            )
    return ",".join(dict.fromkeys(parts))


def _duration_series(part: str, durations: tuple[str, ...]) -> bool:
    base, _, suffix = part.rpartition("_")
    if base not in durations:
        return False
    if suffix == "mean":
        return True
    try:
        return suffix.startswith("p") and parse_percentile(suffix[1:]).label == suffix[1:]
    except ParameterProblem:
        return False
