"""Thin routers: parse parameters (``app.deps``), call one service function, return a schema."""
