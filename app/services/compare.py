"""Now against a previous period: ``compare=<duration>`` on the instant endpoints.

Each row gains ``previous``, its value fields exactly as the row holds them but
evaluated at ``time - compare``, and ``change_pct``, the same keys holding the change
in percent (null where either side is null or the previous value is 0; nested objects
such as ``percentiles`` compared key by key). The earlier evaluation is the endpoint's
own, asked at the earlier instant while the answer at ``time`` is asked (``beside``
asks the two together, ``attach`` adds it to the rows); once that instant is settled its
rows are kept in the ``SettledCache`` (app/services/settled.py), so a compared answer
refreshed every TTL slot costs one new upstream query, not two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from app.schemas.cache_keys import canonical
from app.schemas.model_queries import ModelsQuery
from app.schemas.queries import InstantQuery

if TYPE_CHECKING:
    from app.promql.upstream import Upstream
    from app.services.settled import SettledCache

Comparable = InstantQuery | ModelsQuery
"""The questions that take ``compare``: the instant endpoints and the scorecard."""


class Keeper(Protocol):
    """Where answers come from and where settled earlier ones are kept."""

    @property
    def upstream(self) -> Upstream: ...

    @property
    def settled(self) -> SettledCache | None: ...


Rows = list[dict[str, object]]
Evaluated = tuple[Rows, list[str], bool]
"""The rows at an instant, the upstream's warnings, and whether the answer was partial."""
Earlier = Callable[[float], Awaitable[Evaluated]]
T = TypeVar("T")


def previous_key(upstream: str, query: Comparable, fields: tuple[str, ...], when: float) -> str:
    """What identifies an earlier evaluation: the engine, the question, the instant."""
    question = canonical(query.model_copy(update={"time": None, "compare": None}))
    return orjson.dumps([upstream, type(query).__name__, fields, question, f"{when:.3f}"]).decode()


def row_key(row: Mapping[str, object]) -> str:
    """A row's identity: its model, and its source where rows have one (the scorecard)."""
    source = row.get("source")
    return str(row["model"]) if source is None else f"{source}\x00{row['model']}"


def picked(row: Mapping[str, object], fields: tuple[str, ...]) -> dict[str, object]:
    return {name: row[name] for name in fields if name in row}


async def previous_values(
    source: Keeper, key: str, when: float, earlier: Earlier, fields: tuple[str, ...]
) -> tuple[dict[str, dict[str, object]], list[str], bool]:
    """Every model's value fields at ``when``: from the settled cache, else evaluated."""
    settled = source.settled
    kept = settled.get(key) if settled is not None else None
    if kept is not None:
        found: dict[str, Any] = orjson.loads(kept)
        return found["values"], found["warnings"], False
    rows, warnings, partial = await earlier(when)
    values = {row_key(row): picked(row, fields) for row in rows}
    if settled is not None and not partial and settled.is_settled(when):
        settled.put(key, orjson.dumps({"values": values, "warnings": warnings}))
    return values, warnings, partial


def change_pct(now: object, before: object) -> object:
    """The change from ``before`` to ``now`` in percent; nested objects key by key."""
    if isinstance(now, Mapping):
        prior = before if isinstance(before, Mapping) else {}
        return {name: change_pct(value, prior.get(name)) for name, value in now.items()}
    if not isinstance(now, int | float) or not isinstance(before, int | float) or before == 0:
        return None
    if isinstance(now, bool) or isinstance(before, bool):
        return None
    return (now - before) / before * 100


def nulls(values: Mapping[str, object]) -> dict[str, object]:
    """The value fields of a model absent at the earlier instant: the same keys, null."""
    return {
        name: nulls(value) if isinstance(value, Mapping) else None for name, value in values.items()
    }


NOW_GRID_SECONDS = 60.0


def earlier_instant(query: Comparable, at: float) -> float:
    """``time - compare``. A question about now is asked at a new instant on every
    refresh; its earlier instant is aligned down to the minute, so refreshes share one
    settled evaluation instead of asking the engine twice each time."""
    when = at - query.compare_seconds
    return when if query.time is not None else when // NOW_GRID_SECONDS * NOW_GRID_SECONDS


@dataclass(frozen=True, slots=True)
class Previous:
    """Every model's value fields at the earlier instant, and what came with them."""

    values: dict[str, dict[str, object]]
    warnings: list[str]
    partial: bool


async def beside(
    answer: Awaitable[T],
    source: Keeper,
    query: Comparable,
    at: float,
    earlier: Earlier,
    fields: tuple[str, ...],
) -> tuple[T, Previous | None]:
    """``answer``, and the earlier answer when ``compare`` is asked, the two asked together.
    Without ``compare`` the answer is awaited where it is: no tasks are made for a
    comparison that is not there (what that saves a miss: docs/performance.md)."""
    if query.compare is None:
        return await answer, None
    return await asyncio.gather(answer, _previous(source, query, at, earlier, fields))


async def _previous(
    source: Keeper, query: Comparable, at: float, earlier: Earlier, fields: tuple[str, ...]
) -> Previous:
    """The earlier answer (``compare`` is asked)."""
    when = earlier_instant(query, at)
    key = previous_key(source.upstream.name, query, fields, when)
    return Previous(*await previous_values(source, key, when, earlier, fields))


def attach(rows: Rows, before: Previous | None, fields: tuple[str, ...]) -> None:
    """Add ``previous`` and ``change_pct`` to ``rows`` in place."""
    if before is None:
        return
    for row in rows:
        now = picked(row, fields)
        prior = before.values.get(row_key(row)) or nulls(now)
        row["previous"] = prior
        row["change_pct"] = change_pct(now, prior)


def with_notes(
    warnings: list[str], partial: bool, before: Previous | None
) -> tuple[list[str], bool]:
    """An answer's warnings and partial flag, with the earlier answer's added."""
    if before is None:
        return warnings, partial
    return list(dict.fromkeys([*warnings, *before.warnings])), partial or before.partial
