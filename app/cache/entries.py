"""What a cache entry may hold: one complete JSON answer and a fixed set of headers.

The one place that decides whether an answer may be kept, and so served again (fresh,
as a HEAD, from another replica, or stale when the upstream fails), and what of it is
kept. An answer is kept only when it is a 200 whose body is a whole JSON object of the
length its headers announce; only ``KEPT_HEADERS``, with exactly the values listed
there, are kept with it (everything else an answer says is the cache layer's own:
``x-cache``, ``cache-control``, ``age``, ``vary``, ``content-length``).

The shared store's codec (``app/cache/codec.py``) checks entries it reads with the
same rules, so an entry written by anyone else is a miss unless it could have been
written here.

    entry = entry_of(200, headers, body, stored_at=time.time())  # None: not to be kept
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from app.cache.store import Entry, Header

JSON: Final = b"application/json"
KEPT_HEADERS: Final[dict[bytes, frozenset[bytes]]] = {
    b"content-type": frozenset({JSON}),
    b"x-content-type-options": frozenset({b"nosniff"}),
}


def kept_headers(headers: Iterable[Header]) -> tuple[Header, ...] | None:
    """The headers an entry keeps; None unless the answer says it is JSON.

    A listed header with a value not listed makes the whole answer unkeepable (a stored
    ``Content-Type: text/html`` is not served as JSON); other headers are dropped.
    """
    kept: list[Header] = []
    for name, value in headers:
        allowed = KEPT_HEADERS.get(name.lower())
        if allowed is None:
            continue
        if value not in allowed:
            return None
        kept.append((name.lower(), value))
    names = [name for name, _ in kept]
    if b"content-type" not in names or len(set(names)) != len(names):
        return None
    return tuple(kept)


def complete(headers: Iterable[Header], body: bytes) -> bool:
    """The body is a whole JSON object, as long as a ``content-length`` says."""
    for name, value in headers:
        if name.lower() == b"content-length" and value != b"%d" % len(body):
            return False
    return body[:1] == b"{" and body.rstrip()[-1:] == b"}"


def no_store(headers: Iterable[Header]) -> bool:
    return any(name.lower() == b"cache-control" and b"no-store" in value for name, value in headers)


def entry_of(
    status: int, headers: tuple[Header, ...], body: bytes, *, stored_at: float
) -> Entry | None:
    """The entry to keep for an answer, or None when it must not be kept (not a whole
    JSON 200, or ``Cache-Control: no-store``, which a partial answer says)."""
    if status != 200 or no_store(headers) or not complete(headers, body):
        return None
    kept = kept_headers(headers)
    return None if kept is None else Entry(body, kept, stored_at)


def valid(entry: Entry) -> bool:
    """An entry as ``entry_of`` makes them (for entries read back from elsewhere)."""
    return complete((), entry.body) and kept_headers(entry.headers) == entry.headers
