"""What of a query the HTTP cache keys answers by: the parameters an endpoint's query
model knows, normalised, and those that differ from their defaults.

>>> from app.schemas.queries import InstantQuery
>>> query = InstantQuery.model_validate(query_input(InstantQuery, [("model", "b"), ("_", "1")]))
>>> canonical(query)
(('model', 'b'),)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel


def query_input(model: type[BaseModel], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The input FastAPI would give ``model`` for these query pairs (the last value wins,
    list fields take every value); parameters the model does not know are left out."""
    fields = model.model_fields
    found: dict[str, Any] = {}
    for name, value in pairs:
        field = fields.get(name)
        if field is None:
            continue
        if _is_list(field.annotation):
            found.setdefault(name, []).append(value)
        else:
            found[name] = value
    return found


def _is_list(annotation: object) -> bool:
    return getattr(annotation, "__origin__", None) is list


def canonical(query: BaseModel) -> tuple[tuple[str, str], ...]:
    """The normalised parameters of ``query`` that differ from their defaults, sorted."""
    dumped: Mapping[str, Any] = query.model_dump(exclude_defaults=True)
    pairs: list[tuple[str, str]] = []
    for name, value in sorted(dumped.items()):
        values = sorted(value) if isinstance(value, list) else [value]
        pairs.extend((name, str(item)) for item in values)
    return tuple(pairs)
