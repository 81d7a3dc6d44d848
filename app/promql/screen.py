"""Answers that contradict themselves: the same series twice, negative bucket counts.

A PromQL engine never returns one label set twice, and a bucket rate is never negative;
a broken engine, a federation of two or a proxy merging answers may. Nothing here is
silent: a repeat with the same value is dropped with a note in the answer's
``warnings``; a repeat with another value leaves no way to tell which is right, so it is
a conflict (the service answers 502); a model with a negative bucket count gets no
percentiles (null) and a note, instead of a negative latency.

An answer as Prometheus orders an aggregation by model and ``le`` (every model once
under each ``le``, in one order) can hold neither: it is recognised by a few list
comparisons and kept as it came (``Block``), with no pass of Python per sample.

    groups = grouped(samples, Keys("model", "le"), counts=True)  # in an instant reducer
    upstream = ScreeningUpstream(client)  # range answers, before the range cache
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

import numpy as np

from app.errors import UpstreamBadResponse
from app.promql.tables import Block
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
    block = _block(samples, keyless=keys.key is None, counts=counts)
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


def _block(samples: list[KeptSample], *, keyless: bool, counts: bool) -> Block | None:
    """The samples as a ``Block`` when they came as one: all of them untagged, with a
    value, each name under the same keys, once each, in the same order (one key ``""``
    when keyless), and, for ``counts``, no negative value. None for anything else
    (``grouped`` reads it sample by sample).

    Block after block (every name once under the first key, then the same names in the
    same order under the next) is Prometheus's order when every model's series sort
    together, and is read as it is. Each model's samples together, when each model's
    series sort apart (one model per instance), is turned round (``_by_name``). Any other
    order (a mix of the two) is put into block order by each sample's name and key
    (``_scattered``; model by model, turning round takes a third less: docs/performance.md).
    """
    total = len(samples)
    labels = [sample.labels for sample in samples]
    if not total or [label.tag for label in labels].count(None) != total:
        return None
    try:
        values = [sample.point[1] for sample in samples]  # type: ignore[index]
    except TypeError:  # a sample without a value
        return None
    names = [label.group for label in labels]
    keys: list[str | None] = [""] * total if keyless else [label.key for label in labels]
    try:
        width = names.index(names[0], 1)  # where the second block starts
    except ValueError:
        width = total
    found = _by_key(names, keys, width)
    if found is None and not keyless:
        found, values = _by_name(names, keys, values)
    if found is None and not keyless:
        found, values = _scattered(names, keys, values)
    if found is None:
        return None
    block = Block(*found, values)
    if counts and bool((block.array() < 0).any()):
        return None
    return block


Layout = tuple[list[str], list[str]]
"""The names and the keys of a block, each once, in the order they first came."""


def _by_key(names: list[str | None], keys: list[str | None], width: int) -> Layout | None:
    """The layout when the samples came block after block of ``width`` names."""
    first = names[:width]
    if len(names) % width or None in first or len(set(first)) != width:
        return None
    if any(names[at : at + width] != first for at in range(width, len(names), width)):
        return None
    texts = _block_keys(keys, width)
    if texts is None or len(texts) != len(names) // width:
        return None
    return cast(list[str], first), texts  # (None is not in first)


def _by_name(
    names: list[str | None], keys: list[str | None], values: list[float]
) -> tuple[Layout | None, list[float]]:
    """The layout, and the values in block order, when each name's samples came together,
    every name under the keys of the first in their order; else no layout."""
    span = next((at for at, name in enumerate(names) if name != names[0]), len(names))
    if span == 1 or len(names) % span:
        return None, values
    firsts = names[::span]
    texts = keys[:span]
    if None in firsts or len(set(firsts)) != len(firsts) or None in texts:
        return None, values
    if len(set(texts)) != span:
        return None, values
    # (Column by column: the k-th sample of every name is that name's, under key k.)
    if any(names[k::span] != firsts for k in range(1, span)):
        return None, values
    if any(keys[k::span].count(texts[k]) != len(firsts) for k in range(span)):
        return None, values
    turned = np.array(values).reshape(len(firsts), span).T.ravel().tolist()
    return (cast(list[str], firsts), cast(list[str], texts)), turned


def _scattered(
    names: list[str | None], keys: list[str | None], values: list[float]
) -> tuple[Layout | None, list[float]]:
    """The layout, and the values in block order, when every name came under the same
    keys in the same order (the keys in the order they first came), once each, however
    the names' samples were interleaved; else no layout."""
    order = list(dict.fromkeys(names))
    texts = list(dict.fromkeys(keys))
    width, depth, total = len(order), len(texts), len(names)
    if None in order or None in texts:
        return None, values
    where = {name: at for at, name in enumerate(order)}
    key_at = {text: at for at, text in enumerate(texts)}
    name_of = np.fromiter(map(where.__getitem__, names), dtype=np.intp, count=total)
    key_of = np.fromiter(map(key_at.__getitem__, keys), dtype=np.intp, count=total)
    if not bool((np.bincount(name_of, minlength=width) == depth).all()):
        return None, values  # (some name with more samples than keys, another with fewer)
    by_name = key_of[np.argsort(name_of, kind="stable")].reshape(width, depth)
    if not bool((by_name == np.arange(depth)).all()):
        return None, values  # (a name's keys in another order, or one twice)
    flat = np.empty(total)
    flat[key_of * width + name_of] = values
    return (cast(list[str], order), cast(list[str], texts)), flat.tolist()


def _block_keys(keys: list[str | None], width: int) -> list[str] | None:
    """The key of each block of ``width`` samples, when each block has one key of its
    own; else None."""
    texts = keys[::width]
    if None in texts or len(set(texts)) != len(texts):
        return None
    blocks = zip(texts, range(0, len(keys), width), strict=True)
    if any(keys[at : at + width].count(text) != width for text, at in blocks):
        return None
    return [text for text in texts if text is not None]


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
