"""Reading an upstream answer's body, bounded in bytes while it streams in.

An engine (or anything in front of it) can send a body of any size, or one that never
ends, or a small gzip body that expands a thousandfold. ``read_body`` keeps at most
``limit`` bytes: an announced ``Content-Length`` above it is refused before reading, a
body that grows past it is refused as soon as it does. The service asks for
``Accept-Encoding: identity`` unless ``UPSTREAM_COMPRESSION`` is on; a body encoded any
other way than the request asked for is refused (gzip is the only encoding taken), and a
gzip body (when asked for) is decoded in a worker thread and refused as soon as its
decoded size passes ``limit``.

    body = await read_body(response, limit=64 << 20, upstream="http://p:9090")
"""

from __future__ import annotations

import zlib

import httpx

from app.offload import LARGE, off_loop
from app.promql import failures

IDENTITY = frozenset({"", "identity"})
GUNZIP_PIECE = 1 << 20


async def read_body(response: httpx.Response, *, limit: int, upstream: str) -> bytes:
    """The body of ``response`` (closed afterwards), at most ``limit`` bytes once decoded."""
    try:
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in IDENTITY and not (encoding == "gzip" and asked_for_gzip(response)):
            raise failures.unasked_encoding(upstream)
        if _announced(response) > limit:
            raise failures.too_large(upstream, limit)
        raw = await _read_raw(response, limit, upstream)
    finally:
        await response.aclose()
    if encoding == "gzip":
        # Always in a worker thread: a small body can take long to expand.
        return await off_loop(LARGE, gunzip, raw, limit, upstream)
    return raw


def asked_for_gzip(response: httpx.Response) -> bool:
    """Whether the request's ``Accept-Encoding`` named gzip (not refused with ``q=0``)."""
    for item in response.request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, weight = item.strip().partition(";")
        if coding.strip() == "gzip" and weight.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def _announced(response: httpx.Response) -> int:
    try:
        return int(response.headers.get("content-length", "0"))
    except ValueError:
        return 0


async def _read_raw(response: httpx.Response, limit: int, upstream: str) -> bytes:
    if response.is_stream_consumed:  # built from bytes in memory (a mock transport's)
        if len(response.content) > limit:
            raise failures.too_large(upstream, limit)
        return response.content
    # Kept as pieces and joined once: a growing bytearray copies a large body again and
    # again as it grows, then once more into bytes.
    pieces: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                raise failures.too_large(upstream, limit)
            pieces.append(chunk)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise failures.truncated(upstream) from None
    return b"".join(pieces)


def gunzip(raw: bytes, limit: int, upstream: str) -> bytes:
    """``raw`` decoded as gzip, refused once the decoded size would pass ``limit``.

    Decoded a piece at a time into one buffer, so a refused body never costs more than
    ``limit`` bytes (zlib's own output buffer would be copied once more at the end)."""
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    body = bytearray()
    pending = raw
    try:
        while not decoder.eof:
            piece = decoder.decompress(pending, GUNZIP_PIECE)
            pending = decoder.unconsumed_tail
            if not piece and not pending:
                break  # the input ended before the gzip stream did
            body += piece
            if len(body) > limit:
                raise failures.too_large(upstream, limit)
    except zlib.error:
        raise failures.undecodable(upstream) from None
    if not decoder.eof:
        raise failures.truncated(upstream)
    return bytes(body)
