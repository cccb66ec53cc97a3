#!/usr/bin/env bash
# Run the Python tests: the imqcam code location's, in exactly the image's locked packages, on the
# image's Python minor version, against a real PostgreSQL they start themselves; the check of
# every Kubernetes object the program creates against the Kubernetes schemas (tests/schemas); the
# broker's configuration in a real RabbitMQ with a real Celery worker (tests/broker); and the
# Jobs' and CronJobs' own commands (tests/jobs).
#
# Usage (npm run test:code-location does this):
#   DAGSTER_VERSION=1.13.27 bash scripts/test-code-location.sh [extra pytest args]
#
# The virtualenv holds requirements.lock plus requirements-test.lock, installed with hashes and
# without resolution. It is cached in .cache/code-location-venv-<digest of the locks and
# Python>, built in place and marked complete only once installed and checked (an earlier
# lock's environment is removed only then). Exit code is pytest's.
set -euo pipefail

if [[ -z "${DAGSTER_VERSION:-}" ]]; then
  echo "error: DAGSTER_VERSION must be set, e.g. DAGSTER_VERSION=1.13.27 bash $0" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"
use_image_python

venv="$(tests_venv)"

# The program's own Release values for the production stack: the tests build the pods'
# dagster.yaml from them, so what the program tells the chart is what they exercise.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ts-node --transpile-only "$repo_root/scripts/values.ts" --stack kde04 >"$work/release-values.yaml"
export IMQCAM_RELEASE_VALUES="$work/release-values.yaml"
# And every Kubernetes object the program sends, for each stack.
mkdir "$work/objects"
for stack in kde04 local; do
  ts-node --transpile-only "$repo_root/scripts/objects.ts" --stack "$stack" >"$work/objects/$stack.json"
done
export IMQCAM_KUBERNETES_OBJECTS="$work/objects"

# Through the environment's own interpreter (`python -m`, from the repository root, whose packages the
# tests import); its console scripts run too (database/tests/test_console_scripts.py). The code
# location's package is found as in its image, where PYTHONPATH is its folder.
cd "$repo_root"
export PYTHONPATH="$code_location"
export PYTHONDONTWRITEBYTECODE=1 # keep __pycache__ out of the source tree
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$code_location/tests" "$repo_root/tests/schemas" "$repo_root/tests/broker" \
  "$repo_root/tests/jobs" "$@"
status=$?
set -e
exit "$status"
