"""Local processes shared by the tests, the benchmark and the demo tooling.

Free loopback ports, the service under a real uvicorn, and a real Prometheus started
on generated data. Nothing here imports from ``tests/``.
"""
