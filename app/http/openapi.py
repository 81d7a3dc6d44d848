"""The one place the app's OpenAPI document is adjusted, built once on first use:
invalid parameters answer 400 here, so FastAPI's 422 is dropped, and every response
body carries an example (``app/schemas/examples.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.schemas.examples import with_examples

_UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError")


def without_422(schema: dict[str, Any]) -> dict[str, Any]:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in _UNUSED_SCHEMAS:
        components.pop(name, None)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            built = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = with_examples(without_422(built))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
