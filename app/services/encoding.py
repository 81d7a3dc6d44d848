"""What every answer's JSON body shares, and how it is encoded.

The envelope (``status``, ``count``, ``warnings``, ``histogram``, ``partial``,
``stale``, ``data``: ``Envelope`` in ``app/schemas/metrics.py``) is written here once;
large bodies are encoded off the event loop (``app/offload.py``), and an answer too
large for ``MAX_RESPONSE_POINTS`` is refused before it is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson

from app.errors import InvalidParameter
from app.offload import off_loop
from app.params import HistogramKind


@dataclass(frozen=True, slots=True)
class Encoded:
    """A JSON body encoded off the event loop (large answers), and whether it is partial."""

    content: bytes
    partial: bool


class Answered(Protocol):
    """What the envelope of an answer reports (``Quantiles``, ``SeriesAnswer`` and the
    other services' answers)."""

    @property
    def warnings(self) -> list[str]: ...
    @property
    def partial(self) -> bool: ...
    @property
    def kind(self) -> HistogramKind: ...


def envelope(answer: Answered, data: list[dict[str, object]]) -> dict[str, object]:
    """The fields every answer shares (``app/schemas/metrics.py`` ``Envelope``)."""
    return {
        "status": "success",
        "count": len(data),
        "warnings": answer.warnings,
        "histogram": answer.kind,
        "partial": answer.partial,
        "stale": False,
        "data": data,
    }


async def encoded(
    found: Answered, data: list[dict[str, object]], extra: Mapping[str, object]
) -> Encoded:
    """An instant answer's document, encoded (off the event loop when large)."""
    document = {**envelope(found, data), **extra}
    return Encoded(await off_loop(len(data), orjson.dumps, document), found.partial)


def check_values(values: int, limit: int) -> int:
    """``values`` if at most ``limit``; else a 400 naming MAX_RESPONSE_POINTS and ``step``."""
    if values > limit:
        raise InvalidParameter(
            f"the answer would hold {values} values, more than MAX_RESPONSE_POINTS ({limit}); "
            "use a larger step such as 5m, a shorter duration, or fewer models",
            parameter="step",
        )
    return values
