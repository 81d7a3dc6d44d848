"""The shared cache's namespace: which deployment an entry belongs to.

A cache key names the question (route and parameters), not what answers it: two
deployments sharing one Redis, asking different upstreams, with a different
``LABEL_SELECTOR`` or as a different tenant (``X-Scope-OrgID`` and the other
``PROMETHEUS_HEADERS``), would otherwise serve each other's answers. Every shared key
therefore starts with ``SHARED_CACHE_PREFIX`` and a fingerprint of those settings:
the upstream URLs without credentials, the selector, the headers' names and values
(``Authorization`` left out) and the basic-auth user name (never a password or token).
With ``SHARED_CACHE_SECRET`` the fingerprint is an HMAC under it, so the key names say
nothing about the header values.

    prefix = namespace("mla:", upstreams=["http://prometheus:9090"], label_selector="",
                       headers={"X-Scope-OrgID": "tenant-a"}, user=None, secret=None)
    # "mla:3f9a0c2b7d1e4a65:"
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

import orjson

from app.credentials import public_url
from app.settings import Settings

FINGERPRINT_CHARS = 16
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})


def namespace(
    prefix: str,
    *,
    upstreams: Iterable[str],
    label_selector: str,
    headers: Mapping[str, str],
    user: str | None,
    secret: bytes | None,
) -> str:
    """``prefix`` and the fingerprint of what decides an answer, then ``:``."""
    described = orjson.dumps(
        {
            "upstreams": sorted(upstreams),
            "label_selector": label_selector,
            "headers": sorted(
                (name.lower(), value)
                for name, value in headers.items()
                if name.lower() not in CREDENTIAL_HEADERS
            ),
            "user": user,
        }
    )
    if secret is None:
        digest = hashlib.sha256(described).hexdigest()
    else:
        digest = hmac.new(secret, described, hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:FINGERPRINT_CHARS]}:"


def secret_of(settings: Settings) -> bytes | None:
    """``SHARED_CACHE_SECRET`` as the key of the shared cache's HMACs."""
    secret = settings.shared_cache_secret
    return None if secret is None else secret.get_secret_value().encode()


def namespace_of(settings: Settings) -> str:
    """The namespace of the deployment ``settings`` describe."""
    return namespace(
        settings.shared_cache_prefix,
        upstreams=[public_url(url) for url in settings.allowed_prometheus_urls],
        label_selector=settings.label_selector,
        headers={
            name: value.get_secret_value() for name, value in settings.prometheus_headers.items()
        },
        user=settings.prometheus_username,
        secret=secret_of(settings),
    )
