"""An answer read as blocks gives what reading it sample by sample gives.

``grouped`` keeps an answer in Prometheus's order for an aggregation by model and ``le``
(every model once under each ``le``, in one order) as a ``Block``, and ``tables`` reads
its values as one table. Here random answers in that order, and the same answers broken
in each way the block check looks for, go through both ``grouped`` and ``one_by_one``
(the sample-by-sample rule), and both tables paths: the groups, their order, the notes,
the conflict, the negative models and every table must be the same, to the last bit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import pytest

from app.promql import tables as table_module
from app.promql.screen import grouped
from app.promql.tables import Block, by_key, tables
from app.promql.upstream import Kept, KeptSample, Keys
from tests.support.grouping import both, exact

KEYS = Keys("model", "le", "part")
KEYLESS = Keys("model", None, "part")
TEXTS = ["+Inf", "0.005", "0.01", "0.025", "0.1", "0.5", "1", "10", "2.5"]  # the engine's order
VALUES = [0.0, -0.0, 1.0, 2.5, 1 / 3, 7.0, 1e-9, math.nan, math.inf]


def sample(name: str | None, key: str | None, value: float | None, tag: str | None = None):
    point = None if value is None else (1_700_000_000.0, value)
    return KeptSample(Kept(name, key, tag), point)


def value_of(one: KeptSample) -> float:
    assert one.point is not None
    return one.point[1]


ORDERS = ["by key", "by name", "in runs", "interleaved"]


def block_answer(
    rng: random.Random, models: int, texts: list[str], order: str = "by key"
) -> list[KeptSample]:
    """Every model under every text, in an engine's order: block after block of the models
    (by key), each model's samples together (by name: one model per instance), runs of a
    few models block after block (in runs: some models sharing an instance), or the
    models' samples interleaved at random, each model's in the texts' order."""
    names = [f"model-{n:02d}" for n in range(models)]
    rng.shuffle(names)
    runs: list[list[str]] = [names]
    if order == "by name":
        runs = [[name] for name in names]
    elif order == "in runs":
        cuts = sorted(rng.sample(range(1, models), min(models - 1, 3))) if models > 1 else []
        runs = [names[a:b] for a, b in zip([0, *cuts], [*cuts, models], strict=True)]
    pairs = [(name, text) for run in runs for text in texts for name in run]
    if order == "interleaved":
        queues = {name: list(texts) for name in names}
        pairs = []
        while queues:
            name = rng.choice(list(queues))
            pairs.append((name, queues[name].pop(0)))
            if not queues[name]:
                del queues[name]
    return [sample(name, text, rng.choice(VALUES)) for name, text in pairs]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("counts", [True, False])
@pytest.mark.parametrize("order", ORDERS)
def test_answers_in_blocks_are_read_as_blocks(seed, counts, order):
    rng = random.Random(seed)
    texts = rng.sample(TEXTS, rng.randint(1, len(TEXTS)))
    answer = block_answer(rng, rng.randint(1, 40), texts, order)
    if counts:  # (a negative count is the sample-by-sample path's; see below)
        answer = [sample(s.labels.group, s.labels.key, abs(value_of(s))) for s in answer]
    found = both(answer, KEYS, counts, parts=(None, "suspect"))
    assert isinstance(found.parts[None], Block)
    assert found.parts["suspect"] == {}


@pytest.mark.parametrize("seed", range(4))
def test_one_value_per_model_is_one_block(seed):
    rng = random.Random(seed)
    answer = block_answer(rng, rng.randint(1, 40), [""])
    answer = [sample(s.labels.group, None, value_of(s)) for s in answer]
    found = both(answer, KEYLESS, False)
    assert isinstance(found.by, Block)


def _swapped(answer: list[KeptSample]) -> list[KeptSample]:
    broken = list(answer)
    broken[1], broken[-1] = broken[-1], broken[1]
    return broken


def _twice_in_each(answer: list[KeptSample]) -> list[KeptSample]:
    """The second model's name on the third model's samples too, in every block."""
    width = 6
    return [
        sample(answer[n - 1].labels.group, s.labels.key, value_of(s)) if n % width == 2 else s
        for n, s in enumerate(answer)
    ]


BROKEN: dict[str, Callable[[list[KeptSample]], list[KeptSample]]] = {
    "two samples swapped": _swapped,
    "one sample missing": lambda a: a[:-1],
    "a series twice, same value": lambda a: [*a, a[-1]],
    "a series twice, another value": lambda a: [
        *a,
        sample(a[0].labels.group, a[0].labels.key, 99.0),
    ],
    "a model twice in a block": lambda a: [sample(a[1].labels.group, a[0].labels.key, 1.0), *a[1:]],
    "a model twice in every block": _twice_in_each,
    "a tagged sample": lambda a: [*a[:-1], sample(a[-1].labels.group, "0.5", 1.0, "suspect")],
    "a sample without the model": lambda a: [*a[:-1], sample(None, a[-1].labels.key, 1.0)],
    "a sample without le": lambda a: [*a[:-1], sample(a[-1].labels.group, None, 1.0)],
    "a sample without a value": lambda a: [
        *a[:-1],
        sample(a[-1].labels.group, a[-1].labels.key, None),
    ],
    "a negative count": lambda a: [*a[:-1], sample(a[-1].labels.group, a[-1].labels.key, -1.0)],
    "two blocks of one le": lambda a: [sample(s.labels.group, "1", value_of(s)) for s in a],
    "one le missing on every sample": lambda a: [
        sample(s.labels.group, None if s.labels.key == "1" else s.labels.key, value_of(s))
        for s in a
    ],
    "one model's name missing on every sample": lambda a: [
        sample(None if s.labels.group == a[0].labels.group else s.labels.group, s.labels.key, 1.0)
        for s in a
    ],
}


def _keys_turned(answer: list[KeptSample]) -> list[KeptSample]:
    """The last model's first two keys the other way round (each model's samples together)."""
    first, second = answer[-3], answer[-2]
    turned = [
        sample(first.labels.group, second.labels.key, value_of(first)),
        sample(second.labels.group, first.labels.key, value_of(second)),
    ]
    return [*answer[:-3], *turned, answer[-1]]


# In an answer by name, a model's name on its own next sample changes nothing: those two
# are the by-key answer's own breakages; these are the by-name answer's.
BROKEN_BY_NAME = {
    **{k: v for k, v in BROKEN.items() if "a model twice" not in k},
    "a model's keys in another order": _keys_turned,
    "a model's first sample last": lambda a: [*a[1:], a[0]],
    "a model's samples again at the end": lambda a: [*a, *a[:3]],  # (3 keys a model)
    "a model's second sample under the first model": lambda a: [
        *a[:-2],
        sample(a[0].labels.group, a[-2].labels.key, value_of(a[-2])),
        a[-1],
    ],
    "a model's first sample under its second key": lambda a: [
        *a[:-3],
        sample(a[-3].labels.group, a[-2].labels.key, value_of(a[-3])),
        *a[-2:],
    ],
    "a model's first sample under the model before": lambda a: [
        *a[:3],
        sample(a[0].labels.group, a[3].labels.key, value_of(a[3])),
        *a[4:],
    ],
}


@pytest.mark.parametrize(
    ("broken", "by_name"),
    [(b, False) for b in BROKEN] + [(b, True) for b in BROKEN_BY_NAME],
    ids=str,
)
@pytest.mark.parametrize("seed", range(3))
def test_answers_not_in_blocks_are_read_one_by_one(broken, by_name, seed):
    rng = random.Random(seed)
    answer = block_answer(rng, 6, ["+Inf", "0.1", "1"], "by name" if by_name else "by key")
    answer = [sample(s.labels.group, s.labels.key, float(n)) for n, s in enumerate(answer)]
    breaking = (BROKEN_BY_NAME if by_name else BROKEN)[broken]
    found = both(breaking(answer), KEYS, True, parts=(None, "suspect"))
    assert not isinstance(found.by, Block)


def test_a_negative_value_that_is_no_count_stays_in_the_block():
    answer = block_answer(random.Random(5), 8, ["+Inf", "1"])
    answer = [*answer[:-1], sample(answer[-1].labels.group, "1", -2.0)]
    assert isinstance(both(answer, KEYS, False).by, Block)


def table_bits(found: tuple[list[table_module.Table], list[str]]) -> object:
    shared, rest = found
    return [(t.bounds, t.names, t.counts.shape, t.counts.tobytes()) for t in shared], rest


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("texts", [TEXTS, ["1", "1.0", "+Inf"], ["0.5", "x", "+Inf"]], ids=str)
def test_a_block_makes_the_tables_its_groups_make(seed, texts, monkeypatch):
    rng = random.Random(seed)
    answer = block_answer(rng, rng.randint(1, 60), texts)
    block = grouped(answer, KEYS, counts=False).by
    assert isinstance(block, Block)
    for least in (1, table_module.TABLE_MIN):
        monkeypatch.setattr(table_module, "TABLE_MIN", least)
        assert table_bits(tables(block)) == table_bits(tables(dict(block)))


def test_block_rows_are_the_counts_in_bound_order(monkeypatch):
    """The table of a block, checked against counts placed by hand."""
    monkeypatch.setattr(table_module, "TABLE_MIN", 1)
    answer = [
        sample(m, t, v)
        for t, vs in [("+Inf", (3.0, 6.0)), ("0.5", (1.0, 2.0))]
        for m, v in zip(("b", "a"), vs, strict=True)
    ]
    (table,), rest = tables(grouped(answer, KEYS, counts=True).by)
    assert (table.bounds, table.names, rest) == ([0.5, math.inf], ["b", "a"], [])
    assert np.array_equal(table.counts, [[1.0, 3.0], [2.0, 6.0]])


@pytest.mark.parametrize("seed", range(6))
def test_a_block_turned_round_is_its_groups_turned_round(seed):
    """``by_key`` reads a block's blocks as they are: the same keys, names, order, values."""
    rng = random.Random(seed)
    answer = block_answer(rng, rng.randint(1, 30), rng.sample(TEXTS, rng.randint(1, 5)))
    block = grouped(answer, KEYS, counts=False).by
    assert isinstance(block, Block)
    assert exact(by_key(block)) == exact(by_key(dict(block)))
