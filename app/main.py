"""The default app for ``uvicorn app.main:app``, configured from the environment."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import ValidationError

from app.factory import create_app
from app.profiles.loader import ProfilesError
from app.settings import Settings


def describe(error: ValidationError) -> str:
    """One line per bad setting, named as the environment variable."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "SETTINGS"
        lines.append(f"  {name}: {item['msg']}")
    return "Invalid configuration, the service did not start:\n" + "\n".join(lines)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SystemExit(describe(error)) from None


def build() -> FastAPI:
    settings = load_settings()
    try:
        return create_app(settings)
    except ProfilesError as error:
        lines = "\n".join(f"  {line}" for line in error.lines)
        raise SystemExit(f"Invalid model profiles, the service did not start:\n{lines}") from None


app = build()
