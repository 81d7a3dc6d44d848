"""Groups read two ways, compared to the last bit: ``grouped`` (which reads an answer in
blocks as a ``Block``) against ``one_by_one``, the sample-by-sample rule."""

from __future__ import annotations

from collections.abc import Mapping

from app.promql.screen import Groups, grouped, one_by_one
from app.promql.upstream import KeptSample, Keys


def exact(value: object) -> object:
    """Floats as their repr (-0.0 and NaN told apart), containers item by item, in order."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return [(key, exact(item)) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [exact(item) for item in value]
    return value


def seen(groups: Groups) -> object:
    return exact(
        {
            "parts": {part: groups.parts[part] for part in groups.parts},
            "notes": groups.notes,
            "conflict": groups.conflict,
            "negative": sorted(groups.negative),
        }
    )


def both(
    samples: list[KeptSample], keys: Keys, counts: bool, parts: tuple[str | None, ...] = (None,)
) -> Groups:
    found = grouped(list(samples), keys, counts=counts, parts=parts)
    rule = one_by_one(list(samples), keys, counts=counts, parts=parts)
    assert seen(found) == seen(rule)
    return found
