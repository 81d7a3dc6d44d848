"""Reading a Prometheus HTTP API answer: the one decoding path of every answer.

Each kind of answer (a vector, a matrix, a list of strings) has one typed decoder
(msgspec, in C): the JSON goes straight into the records the reducers read
(``Sample``, ``Series``, app/promql/upstream.py), checked as it is read, with no
intermediate dictionaries and no pass of Python over the samples. Values are read as
numbers where they are read (``"0.25"``, ``"NaN"``); a value, label or shape that is
not what the API documents is a ``bad_answer`` (502). Anything that is not a successful
answer (an error body, a body that is not JSON) is told apart by
``failures.decode_answer``, so its message is the one the error tree gives.

>>> samples, warnings = vector(200, b'{"status": "success", "data": {"resultType": "vector",'
...     b' "result": [{"metric": {"model": "a"}, "value": [1700000000, "0.25"]}]}}', "p")
>>> samples[0].value
0.25
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

import msgspec

from app.promql import failures
from app.promql.upstream import Kept, KeptSample, Keys, Sample, Series

D = TypeVar("D")
MAX_WARNING = 500


class Vector(msgspec.Struct):
    resultType: Literal["vector"]
    result: list[Sample]


class KeptVector(msgspec.Struct):
    resultType: Literal["vector"]
    result: list[KeptSample]


class Matrix(msgspec.Struct):
    resultType: Literal["matrix"]
    result: list[Series]


class Answer(msgspec.Struct, Generic[D]):
    """A successful answer: its ``data`` and the engine's ``warnings``."""

    status: Literal["success"]
    data: D
    warnings: Any = None

    def notes(self) -> list[str]:
        """The warnings as strings, each at most ``MAX_WARNING`` characters."""
        found = self.warnings
        return [str(item)[:MAX_WARNING] for item in found] if isinstance(found, list) else []


# strict=False: a value is a JSON string ("0.25") read as the number it names, and a
# timestamp may come as a number or a numeric string; labels must still be strings.
VECTOR = msgspec.json.Decoder(Answer[Vector], strict=False)
MATRIX = msgspec.json.Decoder(Answer[Matrix], strict=False)
STRINGS = msgspec.json.Decoder(Answer[list[str]], strict=False)

# msgspec reads "Inf", "-Inf" and "NaN" as numbers but not Prometheus's "+Inf". Where a
# number is expected (after a comma in an array: a value, a bucket's bounds) the sign is
# dropped and the answer read again; label values (after a colon) are left as they are.
_SIGNED_INF = ((b',"+Inf"]', b',"Inf"]'), (b',"+Inf",', b',"Inf",'))


def vector(status: int, content: bytes, upstream: str) -> tuple[list[Sample], list[str]]:
    """The samples of an instant answer, and its warnings."""
    answer = decode(VECTOR, status, content, upstream)
    return answer.data.result, answer.notes()


def kept_vector(keys: Keys) -> Callable[[int, bytes, str], tuple[list[KeptSample], list[str]]]:
    """Reads an instant answer keeping only ``keys``'s labels of each sample."""
    return functools.partial(_kept, _kept_decoder(keys))


def _kept(
    decoder: msgspec.json.Decoder[Answer[KeptVector]], status: int, content: bytes, upstream: str
) -> tuple[list[KeptSample], list[str]]:
    answer = decode(decoder, status, content, upstream)
    return answer.data.result, answer.notes()


@functools.lru_cache(maxsize=64)  # keys come from the settings and profiles: a few
def _kept_decoder(keys: Keys) -> msgspec.json.Decoder[Answer[KeptVector]]:
    """A decoder of instant answers into ``KeptSample`` records whose labels are a
    ``Kept`` made for ``keys``: its fields read under the keys' label names. A key not
    asked for reads a name no series has (names starting ``__`` are the engine's own)."""
    names = {
        "group": keys.group,
        "key": keys.key or "__unasked_key",
        "tag": keys.tag or "__unasked_tag",
    }
    fields = [(name, str, None) for name in names]  # (a label sent as null is a bad answer)
    labels = msgspec.defstruct("KeptLabels", fields, bases=(Kept,), rename=names, gc=False)
    metric = msgspec.field(name="metric", default_factory=labels)
    sample = msgspec.defstruct(
        "KeptLabelsSample", [("labels", labels, metric)], bases=(KeptSample,), gc=False
    )
    result = list[sample]  # type: ignore[valid-type]
    vector = msgspec.defstruct("KeptLabelsVector", [("result", result)], bases=(KeptVector,))
    return msgspec.json.Decoder(Answer[vector], strict=False)  # type: ignore[valid-type]


def matrix(status: int, content: bytes, upstream: str) -> tuple[list[Series], list[str]]:
    """The series of a range answer, and its warnings."""
    answer = decode(MATRIX, status, content, upstream)
    return answer.data.result, answer.notes()


def strings(status: int, content: bytes, upstream: str) -> tuple[list[str], list[str]]:
    """The strings of a label-values answer, and its warnings."""
    answer = decode(STRINGS, status, content, upstream)
    return answer.data, answer.notes()


def decode(
    decoder: msgspec.json.Decoder[Answer[D]], status: int, content: bytes, upstream: str
) -> Answer[D]:
    """``content`` as ``decoder``'s answer; the error tree's error for anything else."""
    try:
        return decoder.decode(content)
    except msgspec.ValidationError as exc:
        unsigned = _without_signed_inf(content)
        if unsigned is not None:
            return decode(decoder, status, unsigned, upstream)
        failure: Exception = exc
    except msgspec.DecodeError as exc:
        failure = exc
    # Not the answer promised: an error body or no JSON raises here; a success of the
    # wrong shape is a bad answer.
    failures.decode_answer(status, content, upstream=upstream)
    raise failures.bad_answer(upstream, failure) from None


def _without_signed_inf(content: bytes) -> bytes | None:
    if b'"+Inf"' not in content:
        return None
    unsigned = content
    for signed, plain in _SIGNED_INF:
        unsigned = unsigned.replace(signed, plain)
    return None if unsigned == content else unsigned
