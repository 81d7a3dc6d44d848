#!/usr/bin/env bash
# Regenerate clients/typescript/src/schema.d.ts from the application's own OpenAPI document.
#
#   scripts/generate-ts-types.sh            # rewrite the committed src/schema.d.ts
#   scripts/generate-ts-types.sh OUT.d.ts   # write elsewhere (tests/clients compares the two)
#
# The document comes from create_app().openapi(), the same one /openapi.json serves, so no
# server or Prometheus is needed. openapi-typescript is the client's pinned devDependency;
# `npm ci` runs first when node_modules is missing or older than package-lock.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLIENT="$ROOT/clients/typescript"
OUT="$(realpath -m "${1:-$CLIENT/src/schema.d.ts}")"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

if [ ! -d "$CLIENT/node_modules" ] || [ "$CLIENT/package-lock.json" -nt "$CLIENT/node_modules/.package-lock.json" ]; then
  (cd "$CLIENT" && npm ci --no-audit --no-fund --loglevel=error)
fi

SPEC="$(mktemp --suffix=.json)"
trap 'rm -f "$SPEC"' EXIT
(cd "$ROOT" && "$PYTHON" -c 'from app.factory import create_app; import json; print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))') >"$SPEC"
(cd "$CLIENT" && ./node_modules/.bin/openapi-typescript "$SPEC" --output "$OUT" --silent)
