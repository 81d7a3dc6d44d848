"""An HTTP/1.1 transport for httpx on asyncio's streams, for an engine on plain HTTP.

httpx's own transport (httpcore, h11 and anyio) costs about as much CPU per call as the
rest of a small cache miss (docs/performance.md). This one speaks what the service's
calls need and nothing more: HTTP/1.1 over TCP, no TLS and no proxy; keep-alive
connections, at most ``max_connections``, idle ones reused (a request on one the engine
closed meanwhile is sent once more on a new one); a request written at once; a body
framed by ``Content-Length``, chunked or by the connection's end, handed on as it
arrives. Every failure is one of httpx's own exceptions, so ``app/promql/failures.py``
maps them as it maps httpx's. An ``https`` engine keeps httpx's transport
(``build_http_client``, app/builders.py).

    client = httpx.AsyncClient(mounts={"http://": Http11Transport(max_connections=16)})
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import httpx

from app.promql.http11 import (
    CHUNKED,
    HEAD_LIMIT,
    Dechunker,
    body_framing,
    header_field,
)

PIECE = 64 << 10  # bytes read at a time
Key = tuple[str, int]
Timeouts = dict[str, float | None]
T = TypeVar("T")


class Connection:
    """One TCP connection; each read within the read timeout, each failure as httpx's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.read_timeout: float | None = None

    def usable(self) -> bool:
        return not self._writer.is_closing() and not self._reader.at_eof()

    def close(self) -> None:
        self._writer.close()

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    async def some(self, size: int) -> bytes:
        """Up to ``size`` bytes; empty at the connection's end."""
        return await self._timed(self._reader.read(size))

    async def line(self, end: bytes = b"\r\n") -> bytes:
        try:
            return await self._timed(self._reader.readuntil(end))
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError("a header or chunk line is too long") from None

    async def _timed(self, pending: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.read_timeout):
                return await pending
        except TimeoutError:
            raise httpx.ReadTimeout("the engine did not answer in time") from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError("the connection closed mid-answer") from None
        except ConnectionError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None


class Http11Transport(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 connections per host and port, at most ``max_connections``."""

    def __init__(self, *, max_connections: int = 100) -> None:
        self._idle: dict[Key, list[Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: Timeouts = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection to the engine in time") from None
        try:
            return await self._exchange(request, timeouts)
        except BaseException:
            self._slots.release()
            raise

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    async def _exchange(self, request: httpx.Request, timeouts: Timeouts) -> httpx.Response:
        key = (request.url.host, request.url.port or 80)
        message = _message(request)
        reused = self._reused(key)
        if reused is not None:
            try:
                return await self._send(key, reused, request, message, timeouts)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                pass  # closed by the engine while idle: once more, on a new connection
        fresh = await _connect(key, timeouts)
        return await self._send(key, fresh, request, message, timeouts)

    def _reused(self, key: Key) -> Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _send(
        self,
        key: Key,
        connection: Connection,
        request: httpx.Request,
        message: bytes,
        timeouts: Timeouts,
    ) -> httpx.Response:
        connection.read_timeout = timeouts.get("read")
        try:
            connection.write(message)
            status, headers = await _head(connection)
            framing = body_framing(request.method, status, headers)
        except BaseException:
            connection.close()
            raise
        body = Body(self, key, connection, framing)
        return httpx.Response(
            status, headers=headers, stream=body, extensions={"http_version": b"HTTP/1.1"}
        )

    def _release(self, key: Key, connection: Connection, *, reusable: bool) -> None:
        if reusable and connection.usable():
            self._idle.setdefault(key, []).append(connection)
        else:
            connection.close()
        self._slots.release()


class Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; its connection goes back once it has all been
    read, and is closed if the reader stops early."""

    def __init__(
        self, transport: Http11Transport, key: Key, connection: Connection, framing: int | None
    ) -> None:
        self._transport = transport
        self._key = key
        self._connection = connection
        self._framing = framing
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for piece in _pieces(self._connection, self._framing):
                yield piece
        except BaseException:
            self._release(reusable=False)
            raise
        self._release(reusable=self._framing is not None)

    async def aclose(self) -> None:
        self._release(reusable=False)  # (a body read to its end is released already)

    def _release(self, *, reusable: bool) -> None:
        if not self._released:
            self._released = True
            self._transport._release(self._key, self._connection, reusable=reusable)


async def _connect(key: Key, timeouts: Timeouts) -> Connection:
    try:
        async with asyncio.timeout(timeouts.get("connect")):
            reader, writer = await asyncio.open_connection(*key, limit=HEAD_LIMIT)
    except TimeoutError:
        raise httpx.ConnectTimeout("no connection to the engine in time") from None
    except OSError as exc:
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
    return Connection(reader, writer)


def _message(request: httpx.Request) -> bytes:
    """The request's head and body, for one write (the service never streams a request)."""
    head = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    head += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(head) + b"\r\n\r\n" + request.content


async def _head(connection: Connection) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and headers of an answer (any interim ``1xx`` answer skipped)."""
    while True:
        head = await connection.line(b"\r\n\r\n")
        status_line, *fields = head[:-4].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise httpx.RemoteProtocolError("the engine's answer is not HTTP/1.x")
        if not code.startswith(b"1"):
            return int(code), [header_field(field) for field in fields]


async def _pieces(connection: Connection, framing: int | None) -> AsyncIterator[bytes]:
    if framing == CHUNKED:
        # (An engine writes a large answer in chunks of a few kB: read as much as has
        # arrived and undo the chunking of all of it at once.)
        chunks = Dechunker()
        while not chunks.done:
            data = await connection.some(PIECE)
            if not data:
                raise httpx.RemoteProtocolError("the engine's answer ended early")
            pieces = chunks.feed(data)
            if pieces:
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if chunks.rest:
            raise httpx.RemoteProtocolError("bytes after the engine's answer")
    elif framing is None:
        while piece := await connection.some(PIECE):
            yield piece
    else:
        async for piece in _exactly(connection, framing):
            yield piece


async def _exactly(connection: Connection, size: int) -> AsyncIterator[bytes]:
    while size:
        piece = await connection.some(min(size, PIECE))
        if not piece:
            raise httpx.RemoteProtocolError("the engine's answer ended early")
        size -= len(piece)
        yield piece
