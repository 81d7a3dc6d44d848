"""Local processes shared by the tests, the benchmark and the demo tooling.

Free loopback ports and process helpers (``processes.py``), the service under a real
uvicorn, a real Prometheus started on generated data (``prometheus.py``; native
histograms fed by remote write, ``remote_write.py``), Redis (``redis.py``) and
VictoriaMetrics (``victoria.py``). Nothing here imports from ``tests/``.
"""
