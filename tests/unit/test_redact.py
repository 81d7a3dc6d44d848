"""The redactor takes the configuration's secrets out of an engine's text, and nothing else."""

from __future__ import annotations

import base64

import pytest

from app.credentials import known_secrets
from app.promql.redact import REDACTED, Redactor

TOKEN = "eyJhbGciOi.tok3n-value"
PASSWORD = "pa55word!"
TENANT = "t1"


def redactor() -> Redactor:
    return Redactor(
        known_secrets(
            [f"http://admin:{PASSWORD}@prometheus:9090"],
            token=TOKEN,
            basic=None,
            headers={"X-Scope-OrgID": TENANT},
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        f"bad token {TOKEN} given",
        f"user admin password {PASSWORD}",
        "auth " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
        f"no data for tenant {TENANT}.",
        "Authorization: Bearer some-other-token",
        '{"authorization": "Basic c29tZTp0aGluZw=="}',
        "x-scope-orgid=another-tenant",
    ],
)
def test_secrets_and_credential_headers_are_redacted(text: str) -> None:
    redacted = redactor().redact(text)
    assert REDACTED in redacted
    for secret in (TOKEN, PASSWORD, "some-other-token", "c29tZTp0aGluZw==", "another-tenant"):
        assert secret not in redacted
    assert f" {TENANT}." not in redacted


@pytest.mark.parametrize(
    "text",
    [
        'parse error at char 12: unexpected "}" in label matching',
        "1:5: parse error: unexpected <by> in grouping opts, expected label",
        "query processing would load too many samples into memory",
        "found duplicate series for the match group t10 on the right hand-side",
    ],
)
def test_ordinary_engine_text_is_left_alone(text: str) -> None:
    assert redactor().redact(text) == text
