#!/usr/bin/env bash
# `make run`.
#   PROMETHEUS_URL set:   only the service, on HOST:PORT (default 127.0.0.1:8000), against it.
#   PROMETHEUS_URL unset: the local demo on 127.0.0.1 (demo/launcher.py): synthetic model
#                         traffic, Debian's Prometheus scraping it, and the service; it prints
#                         the URLs and Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PROMETHEUS_URL:-}" ]; then
  if [ -x scripts/serve.sh ]; then
    exec ./scripts/serve.sh
  fi
  exec .venv/bin/uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
fi
command -v prometheus >/dev/null || ./scripts/install-system.sh prometheus
exec .venv/bin/python -m demo.launcher --port "${PORT:-8000}"
