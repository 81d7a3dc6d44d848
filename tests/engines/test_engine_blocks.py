"""How real engines order an aggregation's answer, and how the service reads it.

Prometheus answers an aggregation in the order its groups first appear among the input
series, sorted by their labels: block after block of the models under each ``le`` when
every model's series sort together, each model's samples together when they sort apart
(one model per instance), or a mix. VictoriaMetrics sorts its answer by the output
labels. The service reads any of these as a ``Block`` (``grouped``,
app/promql/screen.py). Here each engine's own answers to the queries the service sends
must come out as a ``Block`` with the groups the sample-by-sample rule gives.
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


CASES = [
    # Every model's series sort together (one job, one instance): block after block.
    pytest.param(rates("model", GATEWAY), Keys("model", "le"), True, id="by-key"),
    # The groups sort before ``le`` (``job`` < ``le``): each group's samples together.
    pytest.param(rates("job"), Keys("job", "le"), True, id="by-name"),
    # One value a group: one block.
    pytest.param(f"histogram_quantile(0.95, {rates('model')})", Keys("model"), False, id="p95"),
    # "other-job" is another job's: on Prometheus its samples come after the blocks of
    # every other model (VictoriaMetrics sorts).
    pytest.param(rates("model"), Keys("model", "le"), True, id="mixed"),
]


def engine_url(request: pytest.FixtureRequest, engine: str) -> str:
    server = request.getfixturevalue(engine)
    if isinstance(server, VictoriaMetricsServer):
        return server.prometheus_url
    assert isinstance(server, PrometheusServer)
    return server.url


@pytest.mark.parametrize("engine", ["prometheus", "victoria"])
@pytest.mark.parametrize(("promql", "keys", "counts"), CASES)
def test_an_engine_answer_is_read_as_a_block(
    request: pytest.FixtureRequest, engine: str, promql: str, keys: Keys, counts: bool
) -> None:
    url = engine_url(request, engine) + "/api/v1/query"
    response = httpx.post(url, data={"query": promql, "time": END - 600}, timeout=30)
    assert response.status_code == 200, response.text
    samples, _ = decode.kept_vector(keys)(200, response.content, engine)
    found = both(samples, keys, counts)  # the same groups, read either way
    assert len(found.by) >= 2
    assert set(found.by) == {sample.labels.group for sample in samples}
    assert isinstance(found.by, Block)
