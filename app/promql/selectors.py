"""Prometheus names and label matchers, escaped so user text never becomes PromQL."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_NAME_LENGTH = 200

# Words the PromQL lexer reads as operators, aggregators, keywords or numbers wherever a
# name may stand, compared lower-cased as the lexer does: the `key` map of
# promql/parser/lex.go in github.com/prometheus/prometheus, with "inf" and "nan" (NUMBER)
# added by its init(). As a grouping label (`sum by (<label>, le)`) such a word is not a
# label name: `NaN` makes Prometheus reject the query, `without` changes its meaning.
PROMQL_WORDS = frozenset(
    {
        *("and", "or", "unless", "atan2"),
        *("sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk"),
        *("bottomk", "count_values", "quantile", "limitk", "limit_ratio"),
        *("offset", "smoothed", "anchored", "by", "without", "on", "ignoring"),
        *("group_left", "group_right", "fill", "fill_left", "fill_right", "bool"),
        *("start", "end", "step", "range", "max_of", "min_of"),
        *("inf", "nan"),
    }
)
RESERVED_LABEL_PREFIX = "__"  # __name__ and the labels Prometheus keeps for itself

_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")

# One matcher of a configured selector: name, operator, double-quoted Go string.
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*')


def is_metric_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and bool(METRIC_NAME.match(name))


def is_label_name(name: str) -> bool:
    """A label a query may group by: not ``le``, a PromQL word, or a reserved ``__`` name."""
    return (
        len(name) <= MAX_NAME_LENGTH
        and bool(LABEL_NAME.match(name))
        and name != "le"
        and name.lower() not in PROMQL_WORDS
        and not name.startswith(RESERVED_LABEL_PREFIX)
    )


def string_literal(value: str) -> str:
    """Quote ``value`` as a PromQL double-quoted string literal.

    >>> string_literal('weird"model\\\\x')
    '"weird\\\\"model\\\\\\\\x"'
    """
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


def _escape_char(ch: str) -> str:
    if ch in _STRING_ESCAPES:
        return _STRING_ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def regex_escape(value: str) -> str:
    """Escape RE2 metacharacters so ``value`` matches only itself."""
    return "".join(f"\\{ch}" if ch in _RE2_SPECIAL else ch for ch in value)


def model_matcher(label: str, models: Iterable[str]) -> str | None:
    """A matcher selecting exactly ``models`` by ``label``; None when unfiltered."""
    values = sorted(set(models))
    if not values:
        return None
    if len(values) == 1:
        return f"{label}={string_literal(values[0])}"
    alternatives = "|".join(regex_escape(value) for value in values)
    return f"{label}=~{string_literal(alternatives)}"


@lru_cache(maxsize=16)
def parse_label_selector(selector: str) -> tuple[str, ...]:
    """Split a configured selector such as ``job="api",env!="dev"`` into matchers.

    Raises ValueError on anything that is not a list of well-formed matchers.
    """
    text = selector.strip().removeprefix("{").removesuffix("}").strip()
    if not text:
        return ()
    matchers: list[str] = []
    for part in _split_matchers(text):
        found = _MATCHER.fullmatch(part)
        if not found:
            raise ValueError(f"not a label matcher: {part.strip()!r}")
        matchers.append(f"{found[1]}{found[2]}{found[3]}")
    return tuple(matchers)


def _split_matchers(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_string = escaped = False
    for ch in text:
        if ch == "," and not in_string:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
    parts.append("".join(current))
    return parts
