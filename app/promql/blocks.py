"""An instant answer read as a ``Block`` (app/promql/tables.py) in the orders engines
answer an aggregation by model and ``le`` in: block after block as it came
(``_by_key``), model by model turned round (``_by_name``), any other interleaving placed
sample by sample (``_scattered``). ``grouped`` (app/promql/screen.py) reads everything
else sample by sample; the two give the same groups (tests/unit/test_blocks.py).
"""

from __future__ import annotations

from typing import cast

import numpy as np

from app.promql.tables import Block
from app.promql.upstream import KeptSample


def as_block(samples: list[KeptSample], *, keyless: bool, counts: bool) -> Block | None:
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
