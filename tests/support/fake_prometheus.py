"""The one fake Prometheus of the test suite, for what a real Prometheus won't do.

Numbers are checked against a real Prometheus (tests/conftest.py); this fake plays the
failures and shapes a real one cannot easily produce. One answer logic, three ways in:

- in process, as an ``httpx.MockTransport`` handler::

      create_app(settings, upstream_transport=httpx.MockTransport(FakePrometheus()))

- as an ASGI app run by uvicorn in its own process (``wide_app``, ``changing_app``)::

      uvicorn_app(log, {"BIG_MODELS": "65"}, app="tests.support.fake_prometheus:wide_app")

- on a real loopback socket, for TCP-level faults (resets, truncated and oversized
  bodies, gzip bombs) and to record the requests exactly as sent::

      with FakeUpstream("reset") as upstream:
          Settings(prometheus_url=upstream.url)

What it answers is its ``data`` (``Steady``: healthy answers for several models,
``Wide``: range answers as large as the API allows, ``Changing``: numbers that change
every second, ``Constant``: one JSON body to every request). How it fails is its
``mode`` (see ``FakePrometheus`` and ``FakeUpstream``), which may change while it runs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs

import httpx
import orjson

from harness.processes import free_port
from tests.support.histograms import expected_quantile

READY = "Prometheus Server is Ready.\n"
JSON = "application/json"


def form_of(request: httpx.Request) -> dict[str, str]:
    """The request's form (the service POSTs its queries), last value of each key."""
    return {key: values[-1] for key, values in parse_qs(request.content.decode()).items()}


def success(data: object) -> httpx.Response:
    return httpx.Response(
        200,
        content=orjson.dumps({"status": "success", "data": data}),
        headers={"content-type": JSON},
    )


def vector(result: list[dict[str, Any]]) -> httpx.Response:
    return success({"resultType": "vector", "result": result})


def matrix(result: list[dict[str, Any]]) -> httpx.Response:
    return success({"resultType": "matrix", "result": result})


def not_found() -> httpx.Response:
    return httpx.Response(404, text="404 page not found\n")


def stamps(form: dict[str, str], most: int | None = None) -> list[float]:
    """The range query's grid, at most ``most`` points."""
    start, end, step = (float(form[key]) for key in ("start", "end", "step"))
    count = int((end - start) // step) + 1
    count = count if most is None else min(most, count)
    return [start + i * step for i in range(max(count, 0))]


def is_kind_probe(request: httpx.Request) -> bool:
    """The service's question of which kind of histogram a metric has (asked once per
    metric, app/services/kinds.py); fakes answer it with nothing, meaning classic."""
    return b"histogram_kind" in request.content


_QUANTILE = re.compile(r"^histogram_quantile\(([0-9.e+-]+), ")


def quantile_samples(
    query: str, buckets: list[dict[str, Any]], model_label: str = "model"
) -> list[dict[str, Any]] | None:
    """What Prometheus answers ``histogram_quantile(q, <bucket rates>)`` with, computed from
    the fake's cumulative bucket samples by tests/support/histograms.py; None for any other
    query."""
    found = _QUANTILE.match(query)
    if found is None:
        return None
    q = float(found.group(1))
    per_model: dict[str, list[tuple[float, float]]] = {}
    for sample in buckets:
        labels = sample["metric"]
        per_model.setdefault(labels[model_label], []).append(
            (float(labels["le"]), float(sample["value"][1]))
        )
    at = buckets[0]["value"][0]
    return [
        {"metric": {model_label: model}, "value": [at, _quantile_text(q, cumulative)]}
        for model, cumulative in per_model.items()
    ]


def _quantile_text(q: float, cumulative: list[tuple[float, float]]) -> str:
    cumulative.sort()
    previous = [0.0] + [total for _, total in cumulative[:-1]]
    counts = [total - before for (_, total), before in zip(cumulative, previous, strict=True)]
    bounds = [le for le, _ in cumulative if le != float("inf")]
    value = expected_quantile(q, bounds, counts)
    return "NaN" if value is None else repr(value)


class Data(Protocol):
    def answer(self, request: httpx.Request) -> httpx.Response: ...


# `sum by (<model label>, le) (...)`: which label the service asked to group by.
_GROUPING = re.compile(r"sum by \((\w+), le\)")


@dataclass(frozen=True)
class Steady:
    """Valid answers to every call the service makes, grouped by the label it asks for;
    404 for anything else. A model without traffic (``silent``) has bucket rates of 0 and
    NaN quantiles, as in Prometheus."""

    models: tuple[str, ...] = ("gpt-4", "llama-3", 'weird"model\\x')
    silent: str = "silent"
    buckets: tuple[tuple[str, float], ...] = (("0.1", 1.0), ("0.5", 3.0), ("1", 4.0), ("+Inf", 4.0))
    max_points: int = 20  # enough to exercise the range cache, cheap for thousands of examples

    def answer(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        query = form.get("query", "")
        found = _GROUPING.search(query)
        label = found.group(1) if found else "model"
        if request.url.path == "/-/ready":
            return httpx.Response(200, text=READY)
        if request.url.path == "/api/v1/query":
            quantiles = quantile_samples(query, self.bucket_samples(label, 0.0), label)
            return vector(
                self.bucket_samples(label, float(form["time"])) if quantiles is None else quantiles
            )
        if request.url.path == "/api/v1/query_range":
            return matrix(self.series(label, stamps(form, self.max_points)))
        if request.url.path == "/api/v1/label/__name__/values":  # which metric names exist
            return success(["request_duration_seconds_bucket", "request_duration_seconds_count"])
        return not_found()

    def bucket_samples(self, label: str, at: float) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = [
            {"metric": {label: model, "le": le}, "value": [at, f"{rate * (i + 1):g}"]}
            for i, model in enumerate(self.models)
            for le, rate in self.buckets
        ]
        silent = [
            {"metric": {label: self.silent, "le": le}, "value": [at, "0"]} for le, _ in self.buckets
        ]
        return result + silent

    def series(self, label: str, grid: list[float]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = [
            {"metric": {label: model}, "values": [[t, f"0.{i + 1}5"] for t in grid]}
            for i, model in enumerate(self.models)
        ]
        result.append({"metric": {label: self.silent}, "values": [[t, "NaN"] for t in grid]})
        return result


@dataclass(frozen=True)
class Wide:
    """Range answers as large as the API allows: ``models`` series, one point per step;
    instant queries answer an empty vector, anything else the readiness text."""

    models: int = 65

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/query_range":
            grid = stamps(form_of(request))
            return matrix(
                [
                    {
                        "metric": {"model": f"model-{m:03d}"},
                        "values": [[t, f"0.{m + 100}"] for t in grid],
                    }
                    for m in range(self.models)
                ]
            )
        if request.url.path == "/api/v1/query":
            return vector([])
        return httpx.Response(200, text=READY)


@dataclass(frozen=True)
class Changing:
    """Bucket rates for two models that grow with the clock, so every second's p95
    differs from the last; 404 for anything but the three calls."""

    models: tuple[str, ...] = ("gpt-4", "llama-3")
    bounds: tuple[str, ...] = ("0.1", "0.5", "1", "2.5", "+Inf")

    def answer(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        if request.url.path == "/-/ready":
            return httpx.Response(200, text=READY)
        if request.url.path == "/api/v1/query":
            if "histogram_kind" in form.get("query", ""):
                return vector([])
            at = float(form.get("time", time.time()))
            rates = self.rates(at)
            return vector(
                [{"metric": {"model": m, "le": le}, "value": [at, f"{v:g}"]} for m, le, v in rates]
            )
        if request.url.path == "/api/v1/query_range":
            grid = stamps(form)
            return matrix(
                [
                    {
                        "metric": {"model": m},
                        "values": [[t, f"{0.2 + j / 10 + (int(t) % 5) / 100}"] for t in grid],
                    }
                    for j, m in enumerate(self.models)
                ]
            )
        return not_found()

    def rates(self, at: float) -> list[tuple[str, str, float]]:
        tick = int(at) % 7 + 1  # changes every second: the first bucket holds more or less
        last = len(self.bounds) - 1
        return [
            (model, le, float(tick * (j + 1) + 2 * min(i, last - 1)))
            for j, model in enumerate(self.models)
            for i, le in enumerate(self.bounds)
        ]


@dataclass(frozen=True)
class Constant:
    """One JSON body to every request, whatever was asked (with ``ready``, the readiness
    text to ``/-/ready``)."""

    body: dict[str, Any]
    ready: bool = False

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.ready and request.url.path == "/-/ready":
            return httpx.Response(200, text=READY)
        return httpx.Response(
            200, content=json.dumps(self.body).encode(), headers={"content-type": JSON}
        )


# Bucket rates of model "a": every request in (0, 0.5] seconds.
ONE_MODEL = {
    "status": "success",
    "data": {
        "resultType": "vector",
        "result": [
            {"metric": {"model": "a", "le": "0.5"}, "value": [1700000000, "2"]},
            {"metric": {"model": "a", "le": "+Inf"}, "value": [1700000000, "2"]},
        ],
    },
}
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


# Real-socket faults below: what an in-process transport cannot show.

MB = 1 << 20
HUGE_BYTES = 200 * MB
OVERSIZED = frozenset({"gzip_bomb", "endless", "huge"})


def _http(status: str, content_type: str, body: bytes, length: int | None = None) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


@functools.cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that decodes to 1 GiB of zero bytes."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(16 * MB)
    return b"".join([*(encoder.compress(zeros) for _ in range(64)), encoder.flush()])


async def _oversized(mode: str, writer: asyncio.StreamWriter) -> None:
    """Write an oversized answer until it is done or the client goes away."""
    if mode == "gzip_bomb":
        bomb = gzip_bomb()
        head = f"Content-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head.encode())
        writer.write(b"Connection: close\r\n\r\n" + bomb)
        await writer.drain()
        return
    chunk = b" " * (64 * 1024)
    if mode == "endless":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        while True:
            writer.write(framed)
            await writer.drain()
    writer.write(_http("200 OK", JSON, b"", length=HUGE_BYTES))
    for _ in range(HUGE_BYTES // len(chunk)):
        writer.write(chunk)
        await writer.drain()


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


class FakeUpstream:
    """A ``FakePrometheus`` on a real loopback socket (free port) for the ``with`` block.

    Besides the fake's modes (``html`` with its ``html_status``): ``slow`` (reads the
    request, answers after ``delay`` seconds), ``truncated`` (promises more body than it
    sends), ``reset`` (closes with a TCP reset), and, to attack the service's
    memory, ``gzip_bomb`` (a 1 MB gzip body that expands to 1 GiB, sent with
    ``Content-Encoding: gzip`` whatever was asked), ``endless`` (a chunked body that
    never ends), ``huge`` (a 200 MB answer with its ``Content-Length``). ``requests``
    records every request as sent. Without ``data``, every request gets ``answer``
    (by default bucket rates of one model "a").
    """

    def __init__(
        self,
        mode: str = "ok",
        *,
        delay: float = 30.0,
        answer: dict[str, Any] | None = None,
        data: Data | None = None,
        html_status: int = 502,
    ) -> None:
        answers = data or Constant(answer or ONE_MODEL)
        self.fake = FakePrometheus(answers, mode, html_status=html_status)
        self.delay = delay
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Recorded] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _read(self, reader: asyncio.StreamReader) -> Recorded:
        method, path, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
        # Read the form too: closing a socket with unread data resets the connection.
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
        recorded = Recorded(method, path, headers, body)
        self.requests.append(recorded)
        return recorded

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            recorded = await self._read(reader)
            if self.mode == "slow":
                await asyncio.sleep(self.delay)
            if self.mode in OVERSIZED:
                await _oversized(self.mode, writer)
            elif self.mode == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                writer.write(self._reply(recorded))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply(self, recorded: Recorded) -> bytes:
        if self.mode == "truncated":
            return _http("200 OK", JSON, b'{"status":"success","da', length=500)
        request = httpx.Request(
            recorded.method,
            f"http://upstream{recorded.path}",
            headers=recorded.headers,
            content=recorded.body,
        )
        response = self.fake.answer(request)  # "slow" was played on the socket: now answer
        status = f"{response.status_code} {response.reason_phrase}"
        return _http(status, response.headers.get("content-type", JSON), response.content)

    @property
    def mode(self) -> str:
        return self.fake.mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self.fake.mode = mode  # the modes only a socket can play are the fake's "ok"

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        start = asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._server = asyncio.run_coroutine_threadsafe(start, self._loop).result(10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0)  # let closed transports finish closing

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
