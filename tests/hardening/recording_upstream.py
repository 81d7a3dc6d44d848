"""A Prometheus stand-in on loopback that records every request and can be told to fail.

It answers like ``fake_prometheus.answer`` (valid answers to the three calls the service
makes) in mode ``"ok"``, and otherwise as a broken Prometheus would:

- ``"html"``: HTTP 500 with an HTML page (the service answers 502);
- ``"unavailable"``: ``{"status": "error", "errorType": "unavailable"}`` (503);
- ``"slow"``: nothing for ``SLOW_SECONDS`` (504 once the service's deadline passes);
- ``"echo"``: a ``bad_data`` error whose text repeats the request's headers, as a
  careless engine or proxy might (the service answers 502);
- ``"echo_warnings"``: a good answer with a warning that repeats them.

    with RecordingUpstream() as upstream:
        upstream.mode = "html"
        ...
        assert upstream.requests[-1].headers["authorization"] == "Basic ..."
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

from tests.hardening import fake_prometheus

SLOW_SECONDS = 3.0
HTML = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
UNAVAILABLE = b'{"status":"error","errorType":"unavailable","error":"storage is closing"}'


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.owner.record(Recorded(self.command, self.path, headers, body))
        status, content_type, content = self.server.owner.reply(
            self.command, self.path, body, headers
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's output clean

    def handle(self) -> None:
        # The service gives up on a slow answer and closes: expected in mode "slow".
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: RecordingUpstream


def echoed(headers: dict[str, str]) -> str:
    """The request's headers as an engine's error text might repeat them: as headers, and
    each value once more on its own."""
    lines = "; ".join(f"{name}: {value}" for name, value in headers.items())
    return f"unexpected request ({lines}); values seen: {' '.join(headers.values())}"


class RecordingUpstream:
    """A threaded HTTP server on 127.0.0.1 (free port) for the duration of a ``with``."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def reply(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        if self.mode == "html":
            return 500, "text/html", HTML
        if self.mode == "unavailable":
            return 503, "application/json", UNAVAILABLE
        if self.mode == "echo":
            error = {"status": "error", "errorType": "bad_data", "error": echoed(headers)}
            return 400, "application/json", json.dumps(error).encode()
        if self.mode == "slow":
            time.sleep(SLOW_SECONDS)
        request = httpx.Request(method, f"http://upstream{path}", content=body)
        response = fake_prometheus.answer(request)
        if self.mode == "echo_warnings":
            answer = {**json.loads(response.content), "warnings": [echoed(headers)]}
            return response.status_code, "application/json", json.dumps(answer).encode()
        return response.status_code, response.headers["content-type"], response.content

    def __enter__(self) -> RecordingUpstream:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
