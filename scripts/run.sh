#!/usr/bin/env bash
# Start the service on port 8000 against PROMETHEUS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
