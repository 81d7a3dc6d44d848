"""A transport between the service and a real Prometheus that counts what passes and
can refuse some queries: one signal's query failing while the others answer is a fault a
real Prometheus does not produce on demand.

    relay = Relay(fail_when="vllm:time_to_first_token_seconds")
    async with make_client(settings, transport=relay) as client: ...
    relay.queries()  # the PromQL of every instant query that answers a request
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx

from tests.support.fake_prometheus import is_kind_probe


@dataclass
class Relay(httpx.AsyncBaseTransport):
    fail_when: str | None = None
    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, query or match[])
    refused: int = 0
    ranges: list[tuple[str, float]] = field(default_factory=list)  # (query, start)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = (await request.aread()).decode()
        form = {key: values[-1] for key, values in parse_qs(body).items()}
        asked = form.get("query") or request.url.params.get("match[]", "")
        if not is_kind_probe(request):
            self.seen.append((request.url.path, asked))
        if request.url.path == "/api/v1/query_range":
            self.ranges.append((asked, float(form["start"])))
        failing = self.fail_when is not None and self.fail_when in asked
        if failing and request.url.path == "/api/v1/query":
            self.refused += 1
            raise httpx.ConnectError("refused by the test", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def queries(self) -> list[str]:
        return [asked for path, asked in self.seen if path == "/api/v1/query"]

    def name_lookups(self) -> int:
        return sum(1 for path, _ in self.seen if path.endswith("/values"))

    def clear(self) -> None:
        self.seen.clear()
