"""The fake Prometheus on a real loopback socket, for the faults only TCP can show."""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
import threading
import zlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from harness.processes import free_port
from tests.support.fake_prometheus.answers import JSON, ONE_MODEL, Constant, Data
from tests.support.fake_prometheus.fake import FakePrometheus

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
