"""The fake Prometheus itself: its data answered, or failing in the configured mode."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx

from tests.support.fake_prometheus.answers import (
    Changing,
    Data,
    Steady,
    Wide,
    success,
)

UNAVAILABLE = {"status": "error", "errorType": "unavailable", "error": "storage is closing"}
WARNING = "query results may be incomplete"


def echoed(headers: dict[str, str]) -> str:
    """The request's headers as an engine's error text might repeat them: as headers, and
    each value once more on its own."""
    lines = "; ".join(f"{name}: {value}" for name, value in headers.items())
    return f"unexpected request ({lines}); values seen: {' '.join(headers.values())}"


class FakePrometheus:
    """Answers from its ``data`` in mode ``ok``; ``requests`` lists what it was asked.

    Other modes, as a broken Prometheus or a careless proxy would answer: ``html`` (an
    HTML page with status ``html_status``: a proxy's 502 by default), ``error500`` (a
    plain-text 500), ``unavailable`` (an ``unavailable`` error, 503), ``wrong_type``
    (valid JSON, a scalar where a vector belongs), ``warnings`` (a good answer with a
    warning), ``echo`` (a ``bad_data`` error whose text repeats the request's headers),
    ``echo_warnings`` (a good answer with a warning repeating them), and in process only
    ``down`` (connection refused) and ``slow`` (the answer after ``delay`` seconds). Any
    other mode answers as ``ok`` (``FakeUpstream`` plays those on its socket).
    """

    def __init__(
        self,
        data: Data | None = None,
        mode: str = "ok",
        *,
        delay: float = 0.0,
        html_status: int = 502,
    ) -> None:
        self.data: Data = Steady() if data is None else data
        self.mode = mode
        self.delay = delay
        self.html_status = html_status
        self.requests: list[httpx.Request] = []

    @property
    def calls(self) -> list[str]:
        """The paths asked, in order."""
        return [request.url.path for request in self.requests]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        """The ``httpx.MockTransport`` handler, for async clients (``answer`` for others)."""
        self.requests.append(request)
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        failed = self._failure(request)
        if failed is not None:
            return failed
        response = self.data.answer(request)
        if self.mode in ("warnings", "echo_warnings"):
            warning = WARNING if self.mode == "warnings" else echoed(_headers(request))
            body = {**json.loads(response.content), "warnings": [warning]}
            return httpx.Response(response.status_code, json=body)
        return response

    def _failure(self, request: httpx.Request) -> httpx.Response | None:
        if self.mode == "html":
            page = f"<html><body><h1>{self.html_status} error</h1></body></html>"
            return httpx.Response(
                self.html_status, text=page, headers={"content-type": "text/html"}
            )
        if self.mode == "error500":
            return httpx.Response(500, text="internal error")
        if self.mode == "unavailable":
            return httpx.Response(503, json=UNAVAILABLE)
        if self.mode == "echo":
            error = {"status": "error", "errorType": "bad_data", "error": echoed(_headers(request))}
            return httpx.Response(400, json=error)
        if self.mode == "wrong_type":
            return success({"resultType": "scalar", "result": [1, "1"]})
        return None


def _headers(request: httpx.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def asgi(fake: FakePrometheus) -> Any:
    """``fake`` as an ASGI app, for uvicorn in a process of its own."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        url = f"http://fake{scope['path']}?{scope['query_string'].decode()}"
        response = fake.answer(httpx.Request(scope["method"], url, content=body))
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": response.content})

    return app


wide_app = asgi(FakePrometheus(Wide(int(os.environ.get("BIG_MODELS", "65")))))
changing_app = asgi(FakePrometheus(Changing()))
