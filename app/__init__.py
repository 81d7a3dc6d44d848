"""Model Latency API: per-model latency percentiles from Prometheus, as JSON."""

__version__ = "0.1.0"
