#!/usr/bin/env bash
# Runs the takeover's and the status report's tests (no cluster): `bash takeover/tests/run.sh [pytest args]`.
# Prefers the code location's test virtualenv, which `npm run test:code-location` builds from
# requirements-test.lock (pytest, and kubernetes-validate for the Job copy's schema check);
# otherwise python3 with pytest (that schema check is then skipped).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"
python="$(ls -td .cache/code-location-venv-*/bin/python 2>/dev/null | head -n 1 || true)"
if [[ -z "$python" ]]; then
  if ! python3 -c 'import pytest' 2>/dev/null; then
    echo "error: no .cache/code-location-venv-* and no pytest for python3: run npm run test:code-location first, or install pytest" >&2
    exit 2
  fi
  python=python3
fi
export PYTHONDONTWRITEBYTECODE=1
exec "$python" -m pytest -q -p no:cacheprovider takeover/tests status/tests "$@"
