"""How real engines order an aggregation's answer, and how the service reads it.

The service reads an answer as a ``Block`` (``grouped``, app/promql/screen.py) when it
came in one of two orders: by key (every group once under each ``le``, one order) or by
name (each group's samples together, every group under the same ``le`` order); anything
else sample by sample. Prometheus answers an aggregation in the order its groups first
appear among the input series, sorted by their labels; VictoriaMetrics sorts its answer
by the output labels. Here each engine's own answers to the queries the service sends
must give the groups the sample-by-sample rule gives, and come out as a ``Block`` where
the order allows it.
"""

from __future__ import annotations

import httpx
import pytest

from app.promql import decode
from app.promql.tables import Block
from app.promql.upstream import Keys
from harness.prometheus import PrometheusServer
from harness.victoria import VictoriaMetricsServer
from tests.support.dataset import END
from tests.support.grouping import both

RATE = "rate(request_duration_seconds_bucket{selector}[5m])"
GATEWAY = '{job="llm-gateway"}'  # (every model of this job on instance "a")


def rates(by: str, selector: str = "") -> str:
    return f"sum by ({by}, le) ({RATE.format(selector=selector)})"


# (query, keys, counts, a Block on Prometheus, on VictoriaMetrics)
CASES = [
    # Every model's series sort together (one job, one instance): by key on both.
    pytest.param(rates("model", GATEWAY), Keys("model", "le"), True, True, True, id="by-key"),
    # The groups sort before ``le`` (``job`` < ``le``): by name on both.
    pytest.param(rates("job"), Keys("job", "le"), True, True, True, id="by-name"),
    # One value a group: one block.
    pytest.param(
        f"histogram_quantile(0.95, {rates('model')})", Keys("model"), False, True, True, id="p95"
    ),
    # "other-job" is another job's: its series sort after every other model's, so
    # Prometheus's answer is neither order (read sample by sample); VictoriaMetrics sorts.
    pytest.param(rates("model"), Keys("model", "le"), True, False, True, id="mixed"),
]


def engine_url(request: pytest.FixtureRequest, engine: str) -> str:
    server = request.getfixturevalue(engine)
    if isinstance(server, VictoriaMetricsServer):
        return server.prometheus_url
    assert isinstance(server, PrometheusServer)
    return server.url


@pytest.mark.parametrize("engine", ["prometheus", "victoria"])
@pytest.mark.parametrize(("promql", "keys", "counts", "on_prometheus", "on_victoria"), CASES)
def test_an_engine_answer_is_read_as_its_order_allows(
    request: pytest.FixtureRequest,
    engine: str,
    promql: str,
    keys: Keys,
    counts: bool,
    on_prometheus: bool,
    on_victoria: bool,
) -> None:
    url = engine_url(request, engine) + "/api/v1/query"
    response = httpx.post(url, data={"query": promql, "time": END - 600}, timeout=30)
    assert response.status_code == 200, response.text
    samples, _ = decode.kept_vector(keys)(200, response.content, engine)
    found = both(samples, keys, counts)  # the same groups, read either way
    assert len(found.by) >= 2
    assert set(found.by) == {sample.labels.group for sample in samples}
    assert isinstance(found.by, Block) == (on_prometheus if engine == "prometheus" else on_victoria)
