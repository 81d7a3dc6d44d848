"""Whether a request's connection is closed, for servers that say so only to themselves.

A server may go on accepting writes for a connection that is gone (uvicorn on the
standard asyncio loop drops them silently when a request was pipelined behind a
stream, and never reports a disconnect for it). The outermost layer notes the
connection's transport in the scope (``note_connection``) when the server's ``send`` is
a method of an object that has one (uvicorn's); ``connection_closed`` asks it, and is
False where the server does not tell.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope, Send

CLOSED_SLOT = "mla.connection_closed"


def note_connection(scope: Scope, send: Send) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    is_closing = getattr(transport, "is_closing", None)
    if callable(is_closing):
        scope[CLOSED_SLOT] = is_closing


def connection_closed(scope: Scope) -> bool:
    is_closing: Callable[[], bool] | None = scope.get(CLOSED_SLOT)
    return bool(is_closing()) if is_closing is not None else False
