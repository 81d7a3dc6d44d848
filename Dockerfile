# Model Latency API: the service (`uvicorn app.main:app`) and, with another command, the
# demo traffic source (`python -m demo.traffic`). deploy/docker-compose.yml runs both.
#
#   docker build -t model-latency-api .
#   docker run -p 8000:8000 -e PROMETHEUS_URL=http://prometheus:9090 model-latency-api
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/model-latency-api

# Dependencies before the code: this layer is rebuilt only when pyproject.toml changes.
# The runtime dependencies are read from [project] dependencies (the dev extra is not
# installed); the code below is imported from the working directory, not installed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install --no-compile -r requirements.txt \
    && rm requirements.txt

COPY app/ ./app/
COPY demo/ ./demo/

# An unprivileged user with no home and no shell; the code stays owned by root (read-only).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER app

EXPOSE 8000

# Liveness only: /health/live answers while the process does, whatever Prometheus's state
# (slim images have no curl, so Python asks; any non-2xx or error exits non-zero).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]

# One worker per container: scale with replicas (each one its own scrape target).
# More workers per container need PROMETHEUS_MULTIPROC_DIR (see scripts/serve.sh).
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
