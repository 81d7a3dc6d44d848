# Model Latency API: the service (scripts/serve.sh: uvicorn app.main:app) and, with another
# command, the demo traffic source (`python -m demo.traffic`). docs/deploy.md has the rest.
#
#   docker build -t model-latency-api .
#   docker run -p 8000:8000 -e PROMETHEUS_URL=http://prometheus:9090 model-latency-api
#
# Where no image registry is reachable, build on a local Debian base instead
# (scripts/build-base-image.sh) and let the build use the host's network for pip:
#
#   docker build --network host --build-arg BASE_IMAGE=mla-base:bookworm .
#
# Environment: HOST (default 0.0.0.0), PORT (8000), WORKERS (1), ROOT_PATH (behind a proxy
# that strips a path prefix), and every setting of app/settings.py (PROMETHEUS_URL, ...).
# Runs unprivileged and with a read-only root file system (`--read-only --tmpfs /tmp`):
# the only writes are prometheus-client's multiprocess files under /tmp when WORKERS > 1.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

WORKDIR /srv/model-latency-api

# Dependencies before the code: this layer is rebuilt only when the lock changes. Exactly
# the pinned, hash-checked runtime dependencies (requirements.lock, `make lock`), in a
# virtual environment so the base image's own Python packages stay out of the way.
COPY requirements.lock ./
RUN python3 -m venv /opt/venv \
    && pip install --no-compile --require-hashes --no-deps -r requirements.lock \
    && rm requirements.lock

COPY app/ ./app/
COPY demo/ ./demo/
COPY scripts/serve.sh ./scripts/serve.sh

# An unprivileged user with no home and no shell; the code stays owned by root (read-only).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER 10001

ENV HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1 \
    TMPDIR=/tmp
EXPOSE 8000

# Liveness only: /health/live answers while the process does, whatever Prometheus's state
# (slim images have no curl, so Python asks, on the PORT the server listens on; any
# non-2xx or error exits non-zero).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=4)"]

# serve.sh reads HOST, PORT and WORKERS, switches on prometheus-client's
# multiprocess mode under /tmp when WORKERS > 1, and `exec`s uvicorn: uvicorn is PID 1 and
# gets `docker stop`'s SIGTERM itself (exec form here, no shell in between). Scale with
# replicas (each one its own scrape target) or with WORKERS.
STOPSIGNAL SIGTERM
CMD ["./scripts/serve.sh", "--timeout-graceful-shutdown", "5"]
