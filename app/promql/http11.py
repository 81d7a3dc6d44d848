"""HTTP/1.1 message framing, pure: a header line, where an answer's body ends, and the
chunked transfer coding undone as bytes arrive (RFC 9112). The transport that reads and
writes the bytes is app/promql/transport.py.

>>> body_framing("GET", 200, [(b"Transfer-Encoding", b"chunked")]) == CHUNKED
True
"""

from __future__ import annotations

import httpx

HEAD_LIMIT = 64 << 10  # the longest status line, header or chunk line taken
CHUNKED = -1  # a body's framing: its length, CHUNKED, or None (until the connection ends)
NO_BODY = frozenset({204, 304})


def header_field(line: bytes) -> tuple[bytes, bytes]:
    name, colon, value = line.partition(b":")
    if not colon or not name or name != name.strip():
        raise httpx.RemoteProtocolError("a malformed header in the engine's answer")
    return name, value.strip()


def body_framing(method: str, status: int, headers: list[tuple[bytes, bytes]]) -> int | None:
    """How the body ends: its length, ``CHUNKED``, or None: when the connection does."""
    if method == "HEAD" or status in NO_BODY:
        return 0
    fields = {name.lower(): value for name, value in headers}
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        return CHUNKED
    length = fields.get(b"content-length")
    if length is None:
        return None
    if not length.isdigit():
        raise httpx.RemoteProtocolError("a malformed Content-Length in the engine's answer")
    return int(length)


class Dechunker:
    r"""The chunked transfer coding undone as bytes arrive: ``feed`` returns the payload
    the bytes complete, ``done`` once the last chunk and any trailers have come. Holds
    at most a partial size or trailer line (``HEAD_LIMIT``), never a chunk's data.

    >>> chunks = Dechunker()
    >>> chunks.feed(b"5\r\nhel"), chunks.feed(b"lo\r\n0\r\n\r\n"), chunks.done
    ([b'hel'], [b'lo'], True)
    """

    def __init__(self) -> None:
        self.rest = b""  # an unfinished line (or, once done, bytes after the answer)
        self.done = False
        self._left = 0  # bytes of the current chunk's data still to come
        self._expect = b"size"  # the next line: a chunk's size, its end, or a trailer

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self.rest + data if self.rest else data
        end, pos, out = len(buffer), 0, []
        while pos < end and not self.done:
            if self._left:
                taken = min(self._left, end - pos)
                out.append(buffer[pos : pos + taken])
                pos += taken
                self._left -= taken
                if not self._left:
                    self._expect = b"end"
                continue
            eol = buffer.find(b"\r\n", pos)
            if eol < 0:
                if end - pos > HEAD_LIMIT:
                    raise httpx.RemoteProtocolError("a chunk line is too long")
                break
            self._line(buffer[pos:eol])
            pos = eol + 2
        self.rest = buffer[pos:]
        return out

    def _line(self, line: bytes) -> None:
        if self._expect == b"end":
            if line:
                raise httpx.RemoteProtocolError("a chunk without its end")
            self._expect = b"size"
        elif self._expect == b"size":
            self._left = _chunk_size(line)
            self._expect = b"trailer" if self._left == 0 else b"data"
        elif not line:  # the empty line after the trailers
            self.done = True


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    if not text or any(c not in b"0123456789abcdefABCDEF" for c in text):
        raise httpx.RemoteProtocolError("a malformed chunk size")
    return int(text, 16)
