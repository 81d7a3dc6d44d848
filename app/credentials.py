"""Upstream URLs and their credentials: how a URL is compared and shown without its
password, the checks of the credentials a configuration holds, and the secrets they make.

Every message names the problem, never the value: start-up errors are printed, and a
value may be a password. ``Settings`` calls these; the secrets feed the ``Redactor``
(app/promql/redact.py) that takes them out of the engines' error text.

    >>> known_secrets(["http://u:pw@h"], token=None, basic=None, headers={})
    ['pw', 'dTpwdw==']
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit


def normalize_url(url: str) -> str:
    """Compare Prometheus URLs without caring about a trailing slash."""
    return url.strip().rstrip("/")


def public_url(url: str) -> str:
    """``url`` without credentials: how an upstream is named in logs, metrics and answers.

    >>> public_url("http://admin:secret@127.0.0.1:9090/prometheus")
    'http://127.0.0.1:9090/prometheus'
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def url_credentials(url: str) -> tuple[str, str] | None:
    """The user and password a URL carries (``http://user:pass@host``), or None."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return None
    if user is None and password is None:
        return None
    return unquote(user or ""), unquote(password or "")


def basic_credentials(user: str, password: str) -> str:
    """What ``Authorization: Basic`` carries for ``user`` and ``password``."""
    return b64encode(f"{user}:{password}".encode()).decode()


def _has_space_or_control(text: str) -> bool:
    return any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def check_token(text: str) -> None:
    """A token, user or password with a space or newline (often the end of a secret
    file) fails every query later; refuse it now."""
    if not text:
        raise ValueError("is empty; unset it instead")
    if _has_space_or_control(text):
        raise ValueError(
            "contains whitespace or a control character (a trailing newline?); remove it"
        )


def check_text(text: str) -> None:
    """A user or password may hold inner spaces, never a newline or surrounding spaces."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text) or text != text.strip():
        raise ValueError("has a newline, a control character or surrounding spaces; remove them")


def check_header(name: str, value: str) -> None:
    try:
        check_text(value)
    except ValueError as problem:
        raise ValueError(f"the value of header {name[:50]!r} {problem}") from None


def check_conflicts(urls: Iterable[str], *, token: bool, username: bool) -> None:
    """One way of authenticating: a user in a URL would silently win over the others."""
    if not any(url_credentials(url) for url in urls):
        return
    if token:
        raise ValueError(
            "PROMETHEUS_BEARER_TOKEN is set and a Prometheus URL carries user:password; "
            "httpx would send basic auth instead of the token: use one of them"
        )
    if username:
        raise ValueError(
            "PROMETHEUS_USERNAME is set and a Prometheus URL carries user:password; use one of them"
        )


def known_secrets(
    urls: Iterable[str],
    *,
    token: str | None,
    basic: tuple[str, str] | None,
    headers: Mapping[str, str],
) -> list[str]:
    """Every secret of the configuration as it may appear in an engine's text."""
    found: list[str] = [*headers.values()]
    if token:
        found.append(token)
    pairs = [pair for pair in map(url_credentials, urls) if pair]
    for user, password in [*pairs, *([basic] if basic else [])]:
        if password:
            found.append(password)
        found.append(basic_credentials(user, password))
    return found
