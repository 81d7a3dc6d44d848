"""PromQL building and the Prometheus HTTP client. Never imports FastAPI."""
