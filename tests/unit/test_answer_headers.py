"""The headers every answer carries (app/http/headers.py) and the request id's echo."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from app.http.headers import Finished, with_security_headers
from app.observability.logs import RequestIdMiddleware

JSON = (b"content-type", b"application/json")


def test_headers_only_the_outermost_layer_sets_are_dropped_from_inside() -> None:
    inner = [JSON, (b"X-Request-ID", b"inner"), (b"x-content-type-options", b"sniff")]
    finished = with_security_headers(inner)
    assert finished == [
        JSON,
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]
    assert with_security_headers(finished) is finished  # finished once, kept as it is


def answer(headers: list[tuple[bytes, bytes]], request_id: bytes | None) -> list[Message]:
    async def app(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[Message] = []

    async def keep(message: Message) -> None:
        sent.append(message)

    asked = [] if request_id is None else [(b"x-request-id", request_id)]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": asked}
    asyncio.run(RequestIdMiddleware(app, finish=with_security_headers)(scope, None, keep))  # type: ignore[arg-type]
    return sent


def test_an_answer_carries_one_request_id_the_echo_of_the_one_asked() -> None:
    start = answer([JSON, (b"x-request-id", b"inner")], b"req-1")[0]
    assert [v for k, v in start["headers"] if k.lower() == b"x-request-id"] == [b"req-1"]


def test_finished_headers_get_the_echo_and_keep_the_rest() -> None:
    finished = Finished([JSON, (b"x-content-type-options", b"nosniff")])
    start = answer(finished, None)[0]
    ids = [v for k, v in start["headers"] if k == b"x-request-id"]
    assert len(ids) == 1
    assert len(ids[0]) == 32  # a new id
    assert start["headers"][:2] == [JSON, (b"x-content-type-options", b"nosniff")]
