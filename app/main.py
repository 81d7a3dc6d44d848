"""The default app for ``uvicorn app.main:app``, configured from the environment."""

from __future__ import annotations

import re

from fastapi import FastAPI
from pydantic import ValidationError
from pydantic_settings import SettingsError

from app.factory import create_app
from app.observability.logs import configure_logging
from app.profiles.loader import ProfilesError
from app.settings import Settings


def describe(error: ValidationError) -> str:
    """One line per bad setting, named as the environment variable."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "SETTINGS"
        lines.append(f"  {name}: {item['msg']}")
    return "Invalid configuration, the service did not start:\n" + "\n".join(lines)


def unreadable(error: SettingsError) -> str:
    """A variable pydantic-settings could not decode (JSON of ``PROMETHEUS_HEADERS``); its
    message names the field, never the value."""
    found = re.search(r'field "(\w+)"', str(error))
    name = found.group(1).upper() if found else "SETTINGS"
    return f"Invalid configuration, the service did not start:\n  {name}: is not valid JSON"


def load_settings() -> Settings:
    """The settings from the environment; a bad one stops start-up with a line naming the
    variable and the problem, never its value (which may be a secret)."""
    try:
        return Settings()
    except ValidationError as error:
        raise SystemExit(describe(error)) from None
    except SettingsError as error:
        raise SystemExit(unreadable(error)) from None


def build() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_format)
    try:
        return create_app(settings)
    except ProfilesError as error:
        lines = "\n".join(f"  {line}" for line in error.lines)
        raise SystemExit(f"Invalid model profiles, the service did not start:\n{lines}") from None


app = build()
