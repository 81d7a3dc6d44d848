#!/usr/bin/env bash
# Start uvicorn with WORKERS worker processes (default 1) on HOST:PORT: the project's .venv
# when there is one, else the uvicorn on PATH (the container image's virtual environment).
# uvicorn replaces this shell (exec), so it receives SIGTERM itself. (ROOT_PATH, behind a
# proxy that strips a path prefix, is a setting the app reads: app/settings.py.)
#
# With WORKERS > 1 (or PROMETHEUS_MULTIPROC_DIR set) each scrape of /metrics reaches one worker, so prometheus-client's
# multiprocess mode is switched on here, before any worker imports prometheus_client:
# PROMETHEUS_MULTIPROC_DIR (default: a directory per port under XDG_RUNTIME_DIR or
# TMPDIR) is created and emptied of earlier runs' *.db files, and every worker writes
# its values there; /metrics sums them. See the README (Observability and health).
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
WORKERS="${WORKERS:-1}"

if [ "$WORKERS" -gt 1 ] || [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  dir="${PROMETHEUS_MULTIPROC_DIR:-${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/model-latency-api-metrics-$PORT}"
  mkdir -p -m 700 "$dir"
  if [ ! -O "$dir" ]; then
    echo "serve.sh: $dir belongs to another user; set PROMETHEUS_MULTIPROC_DIR" >&2
    exit 1
  fi
  # Only the files prometheus-client writes: the variable may name a shared directory.
  find "$dir" -maxdepth 1 -type f -name '*.db' -delete
  export PROMETHEUS_MULTIPROC_DIR="$dir"
fi

uvicorn=.venv/bin/uvicorn
[ -x "$uvicorn" ] || uvicorn=uvicorn
exec "$uvicorn" app.main:app --host "$HOST" --port "$PORT" --workers "$WORKERS" "$@"
