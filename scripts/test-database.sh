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
# Each is cached in .cache/ under a digest of its locks and the Python version, built under a
# temporary name and moved into place only once installed and checked. Exit code is pytest's.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"
python="$(find_image_python)"
python_version="$("$python" -c 'import sys; print(sys.version.split()[0])')"
mkdir -p "$repo_root/.cache"

# install_locks <dir> <lock>... : a new virtualenv in dir holding exactly the locked packages.
install_locks() {
  local dir="$1" lock
  shift
  "$python" -m venv "$dir" || return 1
  for lock in "$@"; do
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --require-hashes --no-deps -r "$lock" || return 1
  done
  "$dir/bin/python" -m pip check
}

# ensure_venv <prefix> <lock>... : prints the path of .cache/<prefix><digest>, building it if needed.
ensure_venv() {
  local prefix="$1"
  shift
  local digest venv tmp_venv start_seconds
  digest="$( (echo "$python_version"; cat "$@") | sha256sum | cut -c1-16)"
  venv="$repo_root/.cache/$prefix$digest"
  if [[ -x "$venv/bin/python" ]]; then
    echo "Reusing virtualenv $venv" >&2
  else
    tmp_venv="$(mktemp -d "$repo_root/.cache/.${prefix}tmp.XXXXXX")"
    chmod 755 "$tmp_venv" # mktemp -d creates it 0700
    echo "Creating virtualenv $prefix$digest with Python $python_version (a minute or so)..." >&2
    start_seconds=$SECONDS
    if ! install_locks "$tmp_venv" "$@" >&2; then
      rm -rf "$tmp_venv"
      echo "error: could not install $*" >&2
      return 1
    fi
    # Only now replace the environments of earlier locks.
    rm -rf "$repo_root/.cache/$prefix"*
    mv "$tmp_venv" "$venv"
    echo "Virtualenv ready in $((SECONDS - start_seconds))s: $venv" >&2
  fi
  echo "$venv"
}

tests="$repo_root/database/tests"
current="$(ensure_venv code-location-venv- "$code_location/requirements.lock" "$code_location/requirements-test.lock")"
manual="$(ensure_venv database-venv-dagster-1.7.5- "$tests/dagster-1.7.5.lock")"
earlier="$(ensure_venv database-venv-dagster-1.13.0- "$tests/dagster-1.13.0.lock")"
# Always "python -m": console-script shebangs hold the temporary path a venv was built under.
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
  "$IMQCAM_DAGSTER_PYTHON" database/bench.py "$@"
  exit
fi
set +e
"$IMQCAM_DAGSTER_PYTHON" -m pytest -q -p no:cacheprovider "$tests" "$@"
status=$?
set -e
exit "$status"
