"""GenAI client metrics recorded with the OpenTelemetry Python SDK and served by its own
Prometheus exporter, as an instrumented application (opentelemetry-instrumentation-openai-v2)
exposes them: the semantic conventions' names, units, attributes and advised buckets.

    with GenAiTraffic(port) as traffic:  # records a batch of requests every 0.2 s
        ...  # a Prometheus scrapes http://127.0.0.1:<port>/metrics
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as names
from prometheus_client import CollectorRegistry, start_http_server

SCOPE = "opentelemetry.instrumentation.openai_v2"
# The conventions' advised ExplicitBucketBoundaries (docs/gen-ai/gen-ai-metrics.md).
DURATION_BUCKETS = [
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
]
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]
MODELS = {"gpt-4o-mini": 0.4, "gpt-4.1": 1.3}  # median seconds per request
EVERY = 0.2


class GenAiTraffic:
    def __init__(self, port: int, seed: int = 7) -> None:
        self.port = port
        self.random = random.Random(seed)
        self.registry = CollectorRegistry()
        self.provider = MeterProvider(
            metric_readers=[PrometheusMetricReader(registry=self.registry)]
        )
        meter = self.provider.get_meter(SCOPE, "2.1b0")

        def histogram(name: str, unit: str, buckets: Sequence[float]) -> Any:
            return meter.create_histogram(
                name, unit=unit, explicit_bucket_boundaries_advisory=buckets
            )

        self.duration = histogram(names.GEN_AI_CLIENT_OPERATION_DURATION, "s", DURATION_BUCKETS)
        self.first_chunk = histogram(
            names.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, "s", DURATION_BUCKETS
        )
        self.per_chunk = histogram(
            names.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK, "s", DURATION_BUCKETS
        )
        self.tokens = histogram(names.GEN_AI_CLIENT_TOKEN_USAGE, "{token}", TOKEN_BUCKETS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: Any = None

    def request(self, model: str) -> None:
        """One chat completion, streamed, as the instrumentation records it."""
        rng, median = self.random, MODELS[model]
        attributes = {
            gen_ai.GEN_AI_OPERATION_NAME: "chat",
            gen_ai.GEN_AI_PROVIDER_NAME: "openai",
            gen_ai.GEN_AI_REQUEST_MODEL: model,
            gen_ai.GEN_AI_RESPONSE_MODEL: f"{model}-2024-07-18",
            "server.address": "api.openai.com",
        }
        if rng.random() < 0.1:
            self.duration.record(rng.uniform(5, 30), {**attributes, "error.type": "timeout"})
            return
        self.duration.record(rng.lognormvariate(0, 0.5) * median, attributes)
        self.first_chunk.record(rng.lognormvariate(-3, 0.6), attributes)
        for _ in range(rng.randint(3, 12)):
            self.per_chunk.record(rng.lognormvariate(-4, 0.4), attributes)
        for kind, tokens in (("input", rng.randint(50, 3000)), ("output", rng.randint(10, 600))):
            self.tokens.record(tokens, {**attributes, gen_ai.GEN_AI_TOKEN_TYPE: kind})

    def _run(self) -> None:
        while not self._stop.wait(EVERY):
            for model in MODELS:
                for _ in range(self.random.randint(1, 4)):
                    self.request(model)

    def __enter__(self) -> GenAiTraffic:
        self._server, _ = start_http_server(self.port, "127.0.0.1", registry=self.registry)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.shutdown()
        self._server.server_close()
        self.provider.shutdown()
