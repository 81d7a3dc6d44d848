"""A misbehaving upstream on a real loopback socket, for faults Prometheus won't produce.

    with FakeUpstream("truncated") as upstream:
        Settings(prometheus_url=upstream.url)

Modes: ``slow`` (reads the request, answers nothing for ``delay`` seconds),
``html`` (a proxy's error page), ``truncated`` (promises more body than it
sends), ``reset`` (closes with a TCP reset), ``wrong_type`` (valid JSON, a
scalar where a vector belongs), ``warnings`` (a good answer with a warning), ``answer``
(the JSON ``answer`` given to the constructor, to every query).
Oversized answers, to attack the service's memory: ``gzip_bomb`` (a 1 MB gzip body
that expands to 1 GiB, sent with ``Content-Encoding: gzip`` whatever was asked),
``endless`` (a chunked body that never ends), ``huge`` (a 200 MB answer with its
``Content-Length``). ``mode`` may be changed while the fake runs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import socket
import struct
import threading
import zlib
from types import TracebackType
from typing import Any

import httpx

from harness.prometheus import free_port
from tests.support.histograms import expected_quantile

_VECTOR = {
    "status": "success",
    "data": {
        "resultType": "vector",
        # bucket rates of model "a": every request in (0, 0.5] seconds
        "result": [
            {"metric": {"model": "a", "le": "0.5"}, "value": [1700000000, "2"]},
            {"metric": {"model": "a", "le": "+Inf"}, "value": [1700000000, "2"]},
        ],
    },
}


def _http(status: str, content_type: str, body: bytes, length: int | None = None) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


MB = 1 << 20
HUGE_BYTES = 200 * MB


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
    writer.write(_http("200 OK", "application/json", b"", length=HUGE_BYTES))
    for _ in range(HUGE_BYTES // len(chunk)):
        writer.write(chunk)
        await writer.drain()


OVERSIZED = frozenset({"gzip_bomb", "endless", "huge"})


def _answer(mode: str) -> bytes:
    if mode == "html":
        return _http("502 Bad Gateway", "text/html", b"<html><body>Bad gateway</body></html>")
    if mode == "truncated":
        return _http("200 OK", "application/json", b'{"status":"success","da', length=500)
    if mode == "wrong_type":
        body = {"status": "success", "data": {"resultType": "scalar", "result": [1, "1"]}}
        return _http("200 OK", "application/json", json.dumps(body).encode())
    if mode == "warnings":
        body = {**_VECTOR, "warnings": ["query results may be incomplete"]}
        return _http("200 OK", "application/json", json.dumps(body).encode())
    return _http("200 OK", "application/json", json.dumps(_VECTOR).encode())


class FakeUpstream:
    def __init__(
        self, mode: str, *, delay: float = 30.0, answer: dict[str, Any] | None = None
    ) -> None:
        self.mode = mode
        self.answer = answer
        self.delay = delay
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            # Read the form too: closing a socket with unread data resets the connection.
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if length:
                await reader.readexactly(int(length.group(1)))
            if self.mode == "slow":
                await asyncio.sleep(self.delay)
            elif self.mode in OVERSIZED:
                await _oversized(self.mode, writer)
            elif self.mode == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.mode == "answer":
                writer.write(_http("200 OK", "application/json", json.dumps(self.answer).encode()))
            else:
                writer.write(_answer(self.mode))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

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
    answer = []
    for model, cumulative in per_model.items():
        cumulative.sort()
        previous = [0.0] + [total for _, total in cumulative[:-1]]
        counts = [total - before for (_, total), before in zip(cumulative, previous, strict=True)]
        bounds = [le for le, _ in cumulative if le != float("inf")]
        value = expected_quantile(q, bounds, counts)
        at = buckets[0]["value"][0]
        answer.append(
            {"metric": {model_label: model}, "value": [at, "NaN" if value is None else repr(value)]}
        )
    return answer
