"""Names, escaping, durations and query text: the pure functions under every query."""

from __future__ import annotations

import pytest

from app.promql.builder import (
    SeriesSelector,
    bucket_rates,
    milliseconds_factor,
    quantile_query,
)
from app.promql.durations import format_duration, parse_duration, parse_timestamp
from app.promql.selectors import (
    is_label_name,
    is_metric_name,
    model_matcher,
    parse_label_selector,
    regex_escape,
    string_literal,
)


@pytest.mark.parametrize(
    ("raw", "literal"),
    [
        ("gpt-4", '"gpt-4"'),
        ('weird"model\\x', '"weird\\"model\\\\x"'),
        ("line\nbreak\ttab", '"line\\nbreak\\ttab"'),
        ("\x00\x7f", '"\\u0000\\u007f"'),
        ("모델 ✓", '"모델 ✓"'),
    ],
)
def test_string_literal_escapes_quotes_backslashes_and_controls(raw, literal):
    assert string_literal(raw) == literal


def test_injection_attempt_stays_inside_one_literal():
    literal = string_literal('a"} or vector(1) or x{y="')
    body = literal[1:-1]
    # every quote inside is escaped, so the literal cannot end early
    assert all(body[i - 1] == "\\" for i, ch in enumerate(body) if ch == '"')


@pytest.mark.parametrize("name", ["request_duration_seconds", "ns:metric_total", "_x", "a1"])
def test_valid_metric_names(name):
    assert is_metric_name(name)


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", 'x"', "a{b}", "x" * 201])
def test_invalid_metric_names(name):
    assert not is_metric_name(name)


@pytest.mark.parametrize(("name", "ok"), [("model", True), ("a:b", False), ("le", False)])
def test_label_names(name, ok):
    assert is_label_name(name) is ok


def test_regex_escape_neutralises_re2_metacharacters():
    assert regex_escape("a.b|c*(d)") == "a\\.b\\|c\\*\\(d\\)"


def test_model_matcher_single_multiple_and_none():
    assert model_matcher("model", []) is None
    assert model_matcher("model", ["b", "a", "b"]) == 'model=~"a|b"'
    assert model_matcher("model", ["x.y"]) == 'model="x.y"'
    assert model_matcher("m", ["a.b", "c"]) == 'm=~"a\\\\.b|c"'


def test_parse_label_selector_accepts_matcher_lists():
    assert parse_label_selector('job="api", env!~"dev|test"') == ('job="api"', 'env!~"dev|test"')
    assert parse_label_selector('{tenant="a,b"}') == ('tenant="a,b"',)
    assert parse_label_selector("") == ()


@pytest.mark.parametrize("bad", ["job", 'job="a" or vector(1)', "job=api", '1x="a"', 'a="b'])
def test_parse_label_selector_rejects_anything_else(bad):
    with pytest.raises(ValueError, match="matcher"):
        parse_label_selector(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("1d", 86400), ("2w", 1_209_600)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "-5m", "1.5h", "30m1h", "5m5m", "0m", "5 m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [(300, "5m"), (5400, "1h30m"), (0.25, "250ms")])
def test_format_duration_round_trips(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_parse_timestamp_unix_and_rfc3339():
    assert parse_timestamp("1700000000.5") == 1_700_000_000.5
    assert parse_timestamp("2023-11-14T22:13:20Z") == 1_700_000_000
    assert parse_timestamp("2023-11-15T07:13:20+09:00") == 1_700_000_000
    for bad in ["yesterday", "nan", "inf", "-1"]:
        with pytest.raises(ValueError):  # noqa: PT011 (message varies by cause)
            parse_timestamp(bad)


def test_quantile_query_aggregates_instances_by_model_and_le():
    sel = SeriesSelector("lat_seconds", "model", ("a",), ('job="x"',))
    assert bucket_rates(sel, 300) == (
        'sum by (model, le) (rate(lat_seconds_bucket{job="x",model="a"}[5m]))'
    )
    assert quantile_query(0.999, sel, 90).startswith("histogram_quantile(0.999, ")
    assert quantile_query(99.9 / 100, sel, 90).startswith("histogram_quantile(0.999, ")


def test_milliseconds_factor_from_metric_name():
    assert milliseconds_factor("request_duration_seconds") == 1000
    assert milliseconds_factor("inference_latency_milliseconds") == 1
    assert milliseconds_factor("ttft_ms") == 1
