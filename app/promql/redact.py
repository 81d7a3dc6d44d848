"""Known secrets taken out of the text an engine sends back, before anyone sees it.

An engine's error text (``details.reason``), its warnings and the log lines made of
them are the engine's words: a misconfigured proxy or engine may echo a request's
``Authorization`` header or the tenant header into them. ``Redactor`` replaces the
service's own upstream secrets (bearer token, basic-auth passwords and their base64
form, ``PROMETHEUS_HEADERS`` values) and anything that looks like a credential header
with ``[redacted]``; ``RedactingUpstream`` applies it to every error and warning of an
``Upstream``.

    upstream = RedactingUpstream(client, Redactor(["s3cret-token"]))
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from app.errors import UpstreamError
from app.promql.upstream import (
    PassThrough,
    QueryResult,
    R,
    Reduced,
    Reduction,
    Sample,
    Series,
    Upstream,
)

T = TypeVar("T")
REDACTED = "[redacted]"
# `Authorization: Bearer x`, `"x-api-key": "x"`, `Cookie=x`: the value after the name.
_CREDENTIAL_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]?key|cookie|set-cookie|"
    r"x-scope-orgid|x-auth-token|token|password)"
    r"(\"?\s*[:=]\s*\"?)((?:bearer|basic|token)\s+)?[^\s\"',;)}\]]+"
)
# Shorter secrets (a tenant "a1") are only replaced as whole words, not inside others.
_ANYWHERE = 8


class Redactor:
    """Replaces every known secret and credential-looking header value in a text.

    >>> Redactor(["tenant-B"]).redact("no data for tenant-B; sent Authorization: Bearer abc")
    'no data for [redacted]; sent Authorization: [redacted]'
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = sorted({s for s in secrets if s.strip()}, key=len, reverse=True)
        parts = [
            re.escape(s) if len(s) >= _ANYWHERE else rf"(?<![\w-]){re.escape(s)}(?![\w-])"
            for s in known
        ]
        self._secrets = re.compile("|".join(parts)) if parts else None

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return _CREDENTIAL_HEADER.sub(rf"\1\2{REDACTED}", text)

    def error(self, error: UpstreamError) -> UpstreamError:
        """``error`` with its message and reason redacted, in place."""
        error.message = self.redact(error.message)
        error.args = (error.message,)
        reason = error.details.get("reason")
        if isinstance(reason, str):
            error.details["reason"] = self.redact(reason)
        return error

    def warnings(self, warnings: list[str]) -> list[str]:
        return [self.redact(warning) for warning in warnings]


class RedactingUpstream(PassThrough):
    """An ``Upstream`` whose errors and warnings went through a ``Redactor``."""

    def __init__(self, inner: Upstream, redactor: Redactor) -> None:
        super().__init__(inner)
        self._redactor = redactor

    async def query(self, promql: str, *, at: float) -> QueryResult[Sample]:
        result = await self._guarded(lambda: self.inner.query(promql, at=at))
        return QueryResult(result.items, self._redactor.warnings(result.warnings))

    async def query_reduced(self, promql: str, *, at: float, reduce: Reduction[R]) -> Reduced[R]:
        result = await self._guarded(lambda: self.inner.query_reduced(promql, at=at, reduce=reduce))
        return Reduced(result.value, self._redactor.warnings(result.warnings))

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        result = await self._guarded(
            lambda: self.inner.query_range(
                promql, start=start, end=end, step=step, lookback=lookback
            )
        )
        return QueryResult(result.items, self._redactor.warnings(result.warnings))

    async def label_values(
        self, label: str, *, match: str, start: float, end: float
    ) -> QueryResult[str]:
        result = await self._guarded(
            lambda: self.inner.label_values(label, match=match, start=start, end=end)
        )
        return QueryResult(result.items, self._redactor.warnings(result.warnings))

    async def ready(self) -> None:
        await self._guarded(self.inner.ready)

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except UpstreamError as error:
            self._redactor.error(error)
            raise
