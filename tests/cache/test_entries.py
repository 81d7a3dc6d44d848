"""Only a whole JSON 200 is kept, with a fixed set of headers (app/cache/entries.py)."""

from __future__ import annotations

import pytest

from app.cache.entries import entry_of, valid
from app.cache.store import Entry

JSON = (b"content-type", b"application/json")
NOSNIFF = (b"x-content-type-options", b"nosniff")
BODY = b'{"status":"success","data":[]}'


def test_a_json_200_is_kept_with_only_the_listed_headers():
    headers = (JSON, NOSNIFF, (b"set-cookie", b"a=b"), (b"content-length", b"%d" % len(BODY)))
    entry = entry_of(200, headers, BODY, stored_at=1.0)
    assert entry == Entry(BODY, (JSON, NOSNIFF), 1.0)
    assert valid(entry)


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, (JSON, (b"content-length", b"%d" % len(BODY))), b""),  # a HEAD's empty capture
        (200, (JSON,), b""),
        (200, (JSON, (b"content-length", b"500")), BODY),  # shorter than announced
        (200, (JSON,), BODY[:-3]),  # truncated
        (200, ((b"content-type", b"text/html"),), b"{}"),
        (200, (JSON, (b"x-content-type-options", b"nosniff\r\nset-cookie: a")), b"{}"),
        (200, (), BODY),  # no content type
        (200, (JSON, (b"cache-control", b"no-store")), BODY),  # a partial answer
        (500, (JSON,), BODY),
        (304, (JSON,), BODY),
    ],
)
def test_anything_else_is_not_kept(status: int, headers: tuple[tuple[bytes, bytes], ...], body):
    assert entry_of(status, headers, body, stored_at=1.0) is None


def test_entries_not_made_by_entry_of_are_not_valid():
    assert not valid(Entry(b"<script>", (JSON,), 1.0))
    assert not valid(Entry(BODY, ((b"content-type", b"text/html"),), 1.0))
    assert not valid(Entry(BODY, (JSON, (b"set-cookie", b"a=b")), 1.0))
    assert not valid(Entry(BODY, (JSON, JSON), 1.0))
