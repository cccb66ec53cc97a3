#!/usr/bin/env bash
# Runs the takeover's and the status report's tests (no cluster): `bash takeover/tests/run.sh [pytest args]`.
# In the tests' one Python environment, built from the hashed locks as every Python suite's is
# (scripts/python-tools.sh; the code location's lock and requirements-test.lock, which holds
# pytest and kubernetes-validate for the Job copy's schema check).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"
use_image_python
venv="$(tests_venv)"

cd "$repo_root"
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider takeover/tests status/tests "$@"
