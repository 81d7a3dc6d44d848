"""The HTTP edge: pure-ASGI middleware and the exception handlers."""
