"""A model whose ``le`` texts all had one sample count is uneven only when one bound is
spelled more times than another (``spelled_unevenly``, app/promql/layout.py): the counts
of a bound's spellings add up."""

from __future__ import annotations

import pytest

from app.promql.layout import spelled_unevenly, uneven_group


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("0.1", "1", "+Inf"), False),  # one spelling per bound
        (("1", "1.0", "+Inf"), True),  # bound 1 twice, +Inf once
        (("1", "1.0", "+Inf", "Inf"), False),  # every bound twice
        (("0.5", "5e-1", "0.50", "1", "1e0", "+Inf"), True),
    ],
)
def test_spellings_of_one_bound_add_up(texts: tuple[str, ...], expected: bool) -> None:
    group = dict.fromkeys(texts, 20.0)
    assert spelled_unevenly(group) is expected
    # the full check on the same counts agrees
    assert uneven_group(group) is expected
