"""Whether a request's connection is closed, for servers that say so only to themselves.

A server may go on accepting writes for a connection that is gone (uvicorn on the
standard asyncio loop drops them silently when a request was pipelined behind a
stream, and never reports a disconnect for it). The outermost layer notes the server's
own ``send`` in the scope (``note_connection``, one assignment on every request);
``connection_closed`` asks the transport of the object that ``send`` is a method of
(uvicorn's), and is False where the server does not tell.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope, Send

SEND_SLOT = "mla.server_send"


def note_connection(scope: Scope, send: Send) -> None:
    scope[SEND_SLOT] = send


def connection_closed(scope: Scope) -> bool:
    send = scope.get(SEND_SLOT)
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    is_closing: Callable[[], bool] | None = getattr(transport, "is_closing", None)
    return bool(is_closing()) if callable(is_closing) else False
