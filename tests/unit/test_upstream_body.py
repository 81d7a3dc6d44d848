"""Decoding a gzip answer (when asked for): exact, bounded, and refusing broken input."""

from __future__ import annotations

import gzip
import os

import httpx
import pytest

from app.errors import UpstreamBadResponse
from app.promql.body import GUNZIP_PIECE, asked_for_gzip, gunzip


@pytest.mark.parametrize("size", [0, 10, GUNZIP_PIECE - 1, GUNZIP_PIECE, 3 * GUNZIP_PIECE + 7])
def test_a_gzip_body_within_the_limit_decodes_exactly(size: int):
    body = os.urandom(size // 2) + bytes(size - size // 2)
    assert gunzip(gzip.compress(body), 4 * GUNZIP_PIECE, "u") == body


def test_a_body_one_byte_over_the_limit_is_refused_naming_it():
    with pytest.raises(UpstreamBadResponse, match=r"UPSTREAM_MAX_BYTES \(1000 bytes\)"):
        gunzip(gzip.compress(bytes(1001)), 1000, "u")
    assert gunzip(gzip.compress(bytes(1000)), 1000, "u") == bytes(1000)


def test_a_cut_or_garbled_gzip_body_is_a_bad_answer():
    whole = gzip.compress(os.urandom(5000))
    with pytest.raises(UpstreamBadResponse, match="truncated"):
        gunzip(whole[: len(whole) // 2], 1 << 20, "u")
    with pytest.raises(UpstreamBadResponse, match="undecodable"):
        gunzip(b"\x1f\x8b" + bytes(40), 1 << 20, "u")


@pytest.mark.parametrize(
    ("accept", "asked"),
    [
        ("identity", False),
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("", False),
    ],
)
def test_gzip_is_taken_only_where_the_request_asked_for_it(accept: str, asked: bool):
    headers = {"Accept-Encoding": accept} if accept else {}
    request = httpx.Request("POST", "http://upstream/api/v1/query", headers=headers)
    assert asked_for_gzip(httpx.Response(200, request=request)) is asked
