"""Answers that contradict themselves: the same series twice, negative bucket counts.

A PromQL engine never returns one label set twice, and a bucket rate is never negative;
a broken engine, a federation of two or a proxy merging answers may. Nothing here is
silent: a repeat with the same value is dropped with a note in the answer's
``warnings``; a repeat with another value leaves no way to tell which is right, so it is
a conflict (the service answers 502); a model with a negative bucket count gets no
percentiles (null) and a note, instead of a negative latency.

An answer in which every model comes under the same ``le`` in the same order, once
each, can hold neither: it is read as a ``Block`` (``as_block``, app/promql/blocks.py),
with no pass of Python per sample in the orders engines answer in.

    groups = grouped(samples, Keys("model", "le"), counts=True)  # in an instant reducer
    upstream = ScreeningUpstream(client)  # range answers, before the range cache
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.errors import UpstreamBadResponse
from app.promql.blocks import as_block
from app.promql.upstream import Kept, KeptSample, Keys, Labels, PassThrough, QueryResult, Series

T = TypeVar("T")
MAX_NAMED = 5  # models named in one note; the rest are counted


@dataclass(frozen=True, slots=True)
class Checked(Generic[T]):
    """What a reducer made of an answer, the notes for its warnings, and the conflict that
    makes it untrustworthy (None when there is none)."""

    value: T
    notes: list[str] = field(default_factory=list)
    conflict: str | None = None


@dataclass(frozen=True, slots=True)
class Groups:
    """An instant answer per model: each model's values by one label's text (``le`` of
    bucket rates, the tag of tagged quantiles; ``""`` without one), in arrival order, for
    each part asked (``grouped``); the notes for its warnings, its conflict, and the
    models with a negative count."""

    parts: Mapping[str | None, Mapping[str, dict[str, float]]]
    notes: list[str]
    conflict: str | None
    negative: frozenset[str]

    @property
    def by(self) -> Mapping[str, dict[str, float]]:
        """The groups of an answer read whole (no parts)."""
        return self.parts[None]

    @property
    def counted(self) -> Mapping[str, dict[str, float]]:
        """``by`` without the groups that have a negative count (no number comes of them)."""
        by, negative = self.by, self.negative
        return {name: by[name] for name in by if name not in negative} if negative else by


def _key(labels: Labels) -> Hashable:
    return frozenset(labels.items())


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


def grouped(
    samples: list[KeptSample],
    keys: Keys,
    *,
    counts: bool,
    parts: tuple[str | None, ...] = (None,),
) -> Groups:
    """``samples`` grouped by ``keys.group`` and keyed by ``keys.key``: as a ``Block``
    when they came as one, else in one pass over them (``one_by_one``).

    ``parts``: the values of the tag (``keys.tag``) that sort samples apart, each part
    grouped on its own (None: the samples without the tag, all of them when ``keys`` has
    none); samples of other parts are skipped. The queries that are read this way
    aggregate by exactly those labels, so a key seen twice in a part's group is the same
    series twice: dropped with a note when its value is the same, a conflict when not.
    ``counts``: the values are bucket counts or rates, so a negative one disqualifies its
    group. Samples without the group or the key label are skipped; a value that is no
    number is NaN.
    """
    block = as_block(samples, keyless=keys.key is None, counts=counts)
    if block is None:
        return one_by_one(samples, keys, counts=counts, parts=parts)
    found = {part: block if part is None else {} for part in parts}
    return Groups(found, [], None, frozenset())


def one_by_one(
    samples: list[KeptSample], keys: Keys, *, counts: bool, parts: tuple[str | None, ...]
) -> Groups:
    """``grouped``, sample by sample: the rule a ``Block`` gives the same groups as."""
    tables: dict[str | None, dict[str, dict[str, float]]] = {part: {} for part in parts}
    repeats = 0
    conflict: str | None = None
    negative: set[str] = set()
    nan = math.nan
    keyless = keys.key is None
    for sample in samples:
        labels = sample.labels
        by = tables.get(labels.tag)
        name = labels.group
        key = "" if keyless else labels.key
        if by is None or name is None or key is None:
            continue
        point = sample.point
        value = nan if point is None else point[1]
        group = by.get(name)
        if group is None:
            by[name] = {key: value}
        elif key not in group:
            group[key] = value
        elif _same(group[key], value):
            repeats += 1
            continue
        elif conflict is None:
            conflict = f"the series {_shown(_named(labels, keys))} came twice with different values"
        if counts and value < 0:
            negative.add(name)
    notes = [note for note in (_repeats(repeats), _negative(negative)) if note]
    return Groups(tables, notes, conflict, frozenset(negative))


def _named(labels: Kept, keys: Keys) -> dict[str, str]:
    """The kept labels by their names."""
    pairs = ((keys.group, labels.group), (keys.key, labels.key), (keys.tag, labels.tag))
    return {name: value for name, value in pairs if name is not None and value is not None}


def screen_series(series: list[Series]) -> Checked[list[Series]]:
    """Range series without repeats; a repeat with other points is a conflict."""
    seen: dict[Hashable, Series] = {}
    repeats = 0
    conflict: str | None = None
    for one in series:
        key = _key(one.labels)
        first = seen.get(key)
        if first is None:
            seen[key] = one
        elif len(first.points) == len(one.points) and all(
            t1 == t2 and _same(v1, v2)
            for (t1, v1), (t2, v2) in zip(first.points, one.points, strict=True)
        ):
            repeats += 1
        elif conflict is None:
            conflict = f"the series {_shown(one.labels)} came twice with different points"
    notes = [note for note in (_repeats(repeats),) if note]
    return Checked(list(seen.values()), notes, conflict)


def _shown(labels: Labels) -> str:
    text = ",".join(f"{name}={value!r}" for name, value in sorted(labels.items()))
    return "{" + text[:200] + "}"


def _repeats(count: int) -> str | None:
    if not count:
        return None
    return f"the engine sent {count} series more than once (same values); each was counted once"


def _negative(models: set[str]) -> str | None:
    if not models:
        return None
    named = ", ".join(repr(model) for model in sorted(models)[:MAX_NAMED])
    more = f" and {len(models) - MAX_NAMED} more" if len(models) > MAX_NAMED else ""
    return (
        f"negative bucket counts for {named}{more}: no percentiles for them "
        "(a counter went backwards or the engine's answer is wrong)"
    )


def contradiction(upstream: str, conflict: str) -> UpstreamBadResponse:
    return UpstreamBadResponse(
        "Prometheus sent an answer that contradicts itself", upstream=upstream, reason=conflict
    )


class ScreeningUpstream(PassThrough):
    """An ``Upstream`` whose range answers are screened as they arrive, before anything
    (the range cache) keys their series by labels and a repeat is lost."""

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        result = await self.inner.query_range(
            promql, start=start, end=end, step=step, lookback=lookback
        )
        checked = screen_series(result.items)
        if checked.conflict is not None:
            raise contradiction(self.name, checked.conflict)
        return QueryResult(checked.value, [*result.warnings, *checked.notes])
