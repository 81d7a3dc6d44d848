"""How an entry is kept in the shared store, and the one check of what comes back.

Whoever can write to Redis can write anything there, so an entry read back is taken only
when it is one this service could have written:

- it decodes exactly (version, lengths) and its body and headers are what
  ``app/cache/entries.py`` keeps: a whole JSON object, ``Content-Type:
  application/json`` and ``nosniff`` only (no other header, no other value, so no
  ``Set-Cookie``, no CR/LF);
- its ``stored_at`` is a finite time, not later than now plus ``MAX_SKEW_SECONDS`` (a
  forged entry from the future would otherwise be fresh for ever);
- with a secret (``SHARED_CACHE_SECRET``) it carries the HMAC-SHA256 of its Redis key
  (length-prefixed) and its bytes under that secret, so an entry forged, changed, or
  copied from another key is refused. Without a secret the MAC field is zero and the
  body must parse as a JSON object (the checks above, without proof of origin).

Anything else decodes to None: a miss, never an error.

    codec = EntryCodec(secret=b"...", clock=time.time)
    data = codec.encode("mla:entry:/api/metrics/p95/?", entry)
    codec.decode("mla:entry:/api/metrics/p95/?", data) == entry

Layout (big-endian): version (u8) | MAC (32 bytes) | stored_at (f64) | header count
(u16) | per header: name length (u16), value length (u32), name, value | body.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import struct
import time
from collections.abc import Callable
from typing import Final

import orjson

from app.cache.entries import valid
from app.cache.store import Entry, Header

VERSION: Final = 2
MAC_BYTES: Final = 32
NO_MAC: Final = bytes(MAC_BYTES)
MAX_SKEW_SECONDS: Final = 5.0
MAX_HEADERS: Final = 8
_VERSION = struct.Struct(">B")
_FIXED = struct.Struct(">dH")
_HEADER = struct.Struct(">HI")
_BODY_AT: Final = _VERSION.size + MAC_BYTES


def pack(entry: Entry) -> bytes:
    """The entry's bytes after the MAC."""
    parts = [_FIXED.pack(entry.stored_at, len(entry.headers))]
    for name, value in entry.headers:
        parts += [_HEADER.pack(len(name), len(value)), name, value]
    parts.append(entry.body)
    return b"".join(parts)


def unpack(data: bytes | memoryview) -> Entry | None:
    """The entry ``pack`` wrote, or None if the bytes are not one."""
    try:
        stored_at, count = _FIXED.unpack_from(data)
        if count > MAX_HEADERS:
            return None
        offset = _FIXED.size
        headers: list[Header] = []
        for _ in range(count):
            name_length, value_length = _HEADER.unpack_from(data, offset)
            offset += _HEADER.size
            end = offset + name_length + value_length
            if end > len(data):
                return None
            name = bytes(data[offset : offset + name_length])
            headers.append((name, bytes(data[offset + name_length : end])))
            offset = end
    except struct.error:
        return None
    return Entry(bytes(data[offset:]), tuple(headers), stored_at)


class EntryCodec:
    """Encode entries for a shared store, and decode only the ones it could have written."""

    def __init__(self, *, secret: bytes | None, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.clock = clock

    def encode(self, key: str, entry: Entry) -> bytes:
        payload = pack(entry)
        return _VERSION.pack(VERSION) + self._mac(key, payload) + payload

    def decode(self, key: str, data: bytes) -> Entry | None:
        """The entry kept under ``key``, or None for anything it could not have written."""
        if len(data) < _BODY_AT or data[0] != VERSION:
            return None
        payload = memoryview(data)[_BODY_AT:]
        if self.secret is not None and not hmac.compare_digest(
            data[_VERSION.size : _BODY_AT], self._mac(key, payload)
        ):
            return None
        entry = unpack(payload)
        if entry is None or not self._believable(entry):
            return None
        return entry

    def _believable(self, entry: Entry) -> bool:
        stored_at = entry.stored_at
        if not math.isfinite(stored_at) or not 0 <= stored_at <= self.clock() + MAX_SKEW_SECONDS:
            return False
        if not valid(entry):
            return False
        return self.secret is not None or _json_object(entry.body)

    def _mac(self, key: str, payload: bytes | memoryview) -> bytes:
        if self.secret is None:
            return NO_MAC
        name = key.encode()
        mac = hmac.new(self.secret, struct.pack(">I", len(name)) + name, hashlib.sha256)
        mac.update(payload)
        return mac.digest()


def _json_object(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False
