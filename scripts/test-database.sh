#!/usr/bin/env bash
# Run the database tests (database/tests): backups, the takeover's dump and restore, and
# `dagster instance migrate`, with real Dagster versions against a real PostgreSQL they start.
#
# Usage (npm run test:database does this):   bash scripts/test-database.sh [extra pytest args]
#        (npm run bench:database does this):  bash scripts/test-database.sh --bench [bench args]
#
# Three virtualenvs, each installed from a hashed lock with --require-hashes --no-deps:
#   - the code location's Dagster (requirements.lock + requirements-test.lock): the very
#     virtualenv `npm run test:code-location` uses, same name and digest, built here the same
#     way if it is missing. pytest runs in it.
#   - Dagster 1.7.5 (database/tests/dagster-1.7.5.lock), the manual deployment's version.
#   - Dagster 1.13.0 (database/tests/dagster-1.13.0.lock), an earlier supported version.
# Each is cached in .cache/ under a digest of its locks and the Python version, built in place
# and marked complete only once installed and checked. Exit code is pytest's.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"
use_image_python

tests="$repo_root/database/tests"
current="$(tests_venv)"
manual="$(ensure_venv database-venv-dagster-1.7.5- "$tests/dagster-1.7.5.lock")"
earlier="$(ensure_venv database-venv-dagster-1.13.0- "$tests/dagster-1.13.0.lock")"
# Each environment's own interpreter; their console scripts run too (database/tests/test_console_scripts.py).
export IMQCAM_DAGSTER_PYTHON="$current/bin/python"
export IMQCAM_MANUAL_DAGSTER_PYTHON="$manual/bin/python"
export IMQCAM_EARLIER_DAGSTER_PYTHON="$earlier/bin/python"

# The program's own Release values for the production stack: the restored database, its role
# and the dagster.yaml the new Dagster reads are the ones the program gives the chart.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ts-node --transpile-only "$repo_root/scripts/values.ts" --stack kde04 >"$work/release-values.yaml"
export IMQCAM_RELEASE_VALUES="$work/release-values.yaml"

cd "$repo_root"
export PYTHONDONTWRITEBYTECODE=1 # keep __pycache__ out of the source tree
if [[ "${1:-}" == "--bench" ]]; then
  shift
  "$IMQCAM_DAGSTER_PYTHON" -m database.bench "$@"
  exit
fi
set +e
"$IMQCAM_DAGSTER_PYTHON" -m pytest -q -p no:cacheprovider "$tests" "$@"
status=$?
set -e
exit "$status"
