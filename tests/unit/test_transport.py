"""The HTTP/1.1 transport (app/promql/transport.py) against a loopback server that answers
with bytes written here: each framing, keep-alive, an engine that hangs up, bad answers."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from app.promql.http11 import Dechunker
from app.promql.transport import Http11Transport

Answer = Callable[[bytes], list[bytes]]
"""What the server writes for one request (its head and body), piece by piece; an empty
list closes the connection."""


class Server:
    """Counts connections and requests; ``close_after``: hang up after that many answers
    on a connection."""

    def __init__(self, answer: Answer, close_after: int | None = None) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                pieces = self.answer(request)
                if not pieces:
                    break
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                answered += 1
                if self.close_after is not None and answered >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    transport = Http11Transport(max_connections=4)
    timeout = httpx.Timeout(2.0)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=timeout
    ) as client:
        yield client
    listener.close()
    await listener.wait_closed()


def sized(body: bytes, status: int = 200) -> list[bytes]:
    return [b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\n\r\n" % (status, len(body)), body]


async def test_a_form_is_sent_in_one_request_and_its_answer_read_by_length():
    server = Server(lambda _: sized(b'{"status":"success"}'))
    async with serving(server) as client:
        response = await client.post("/api/v1/query", data={"query": 'up{a="b c"}'})
    assert response.status_code == 200
    assert response.content == b'{"status":"success"}'
    head, body = server.requests[0].split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /api/v1/query HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in head
    assert body == b"query=up%7Ba%3D%22b+c%22%7D"


async def test_connections_are_kept_alive_and_reused():
    server = Server(lambda _: sized(b"ok"))
    async with serving(server) as client:
        for _ in range(5):
            assert (await client.get("/x")).content == b"ok"
    assert server.connections == 1
    assert len(server.requests) == 5


async def test_a_chunked_body_is_joined_and_the_connection_reused():
    chunks = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]
    chunks += [b"5\r\nhello\r\n", b"1;ext=1\r\n \r\n", b"5\r\nworld\r\n", b"0\r\nX-T: 1\r\n\r\n"]
    server = Server(lambda _: chunks)
    async with serving(server) as client:
        assert (await client.get("/a")).content == b"hello world"
        assert (await client.get("/b")).content == b"hello world"
    assert server.connections == 1


@pytest.mark.parametrize("seed", range(20))
def test_chunks_split_anywhere_give_the_same_payload(seed):
    """However the bytes arrive (a byte at a time, or chunks split mid-size, mid-data or
    mid-end), the payload is the chunks' data joined, and nothing is left over."""
    rng = random.Random(seed)
    payloads = [rng.randbytes(rng.randint(1, 300)) for _ in range(rng.randint(1, 12))]
    coded = b"".join(b"%x;x=1\r\n%s\r\n" % (len(p), p) for p in payloads)
    coded += b"0\r\nTrailer: yes\r\n\r\n"
    cuts = sorted(rng.sample(range(1, len(coded)), min(len(coded) - 1, rng.randint(1, 40))))
    chunks = Dechunker()
    out = []
    for start, end in zip([0, *cuts], [*cuts, len(coded)], strict=True):
        out += chunks.feed(coded[start:end])
    assert b"".join(out) == b"".join(payloads)
    assert chunks.done
    assert chunks.rest == b""


@pytest.mark.parametrize(
    "coded", [b"5\r\nhelloX\r\n", b"-5\r\nhello\r\n", b"0x5\r\nhello\r\n", b"\r\n"]
)
def test_malformed_chunks_are_protocol_errors(coded):
    with pytest.raises(httpx.RemoteProtocolError):
        Dechunker().feed(coded)


async def test_a_body_without_length_ends_with_the_connection():
    server = Server(lambda _: [b"HTTP/1.1 200 OK\r\n\r\n", b"until ", b"the end"], close_after=1)
    async with serving(server) as client:
        assert (await client.get("/a")).content == b"until the end"
        assert (await client.get("/b")).content == b"until the end"
    assert server.connections == 2


async def test_an_engine_that_hangs_up_on_an_idle_connection_is_asked_again():
    server = Server(lambda _: sized(b"ok"), close_after=1)
    async with serving(server) as client:
        assert (await client.get("/a")).content == b"ok"
        await asyncio.sleep(0.05)  # the engine has closed the idle connection by now
        assert (await client.get("/b")).content == b"ok"
    assert server.connections == 2


async def test_a_body_shorter_than_its_length_is_a_protocol_error():
    server = Server(
        lambda _: [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], close_after=1
    )
    async with serving(server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/a")


@pytest.mark.parametrize(
    "answer",
    [
        b"SMTP 220 hello\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
async def test_an_answer_that_is_not_http_is_a_protocol_error(answer):
    async with serving(Server(lambda _: [answer], close_after=1)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/a")


async def test_an_endless_head_is_refused():
    async with serving(Server(lambda _: [b"HTTP/1.1 200 OK\r\nX: " + b"a" * (70 << 10)])) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/a")


async def test_a_refused_connection_is_a_connect_error():
    with socket.socket() as unused:  # a port nothing listens on once it is closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    async with httpx.AsyncClient(transport=Http11Transport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_a_silent_engine_is_a_read_timeout_and_its_connection_is_dropped():
    server = Server(lambda request: sized(b"ok") if b"/fast" in request else [b"HTTP/1.1 200"])
    async with serving(server) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow", timeout=0.2)
        assert (await client.get("/fast")).content == b"ok"
    assert server.connections == 2


async def test_a_body_read_in_part_closes_its_connection_and_frees_its_slot():
    server = Server(lambda _: sized(b"x" * 300_000))
    async with serving(server) as client:
        for _ in range(6):  # more than the 4 connections allowed: each must be freed
            async with client.stream("GET", "/big") as response:
                async for _piece in response.aiter_raw():
                    break
        assert (await client.get("/big")).content == b"x" * 300_000
    assert server.connections == 7
