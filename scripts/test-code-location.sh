#!/usr/bin/env bash
# Run the imqcam code location's unit tests against an exact Dagster version.
#
# Usage (from anywhere, typically the repo root):
#   DAGSTER_VERSION=1.13.27 bash scripts/test-code-location.sh [extra pytest args]
#
# The virtualenv is cached per Dagster version in .cache/code-location-venv-$DAGSTER_VERSION
# under the repo root. It is built under a temporary name and renamed into place only after
# pip succeeded, so an interrupted install is never reused. Delete the directory to force a
# rebuild. Exit code is pytest's.
set -euo pipefail

PYTEST_VERSION="8.4.2"

if [[ -z "${DAGSTER_VERSION:-}" ]]; then
  echo "error: DAGSTER_VERSION must be set, e.g. DAGSTER_VERSION=1.13.27 bash $0" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
code_location="$repo_root/code-locations/imqcam"

# pins.py validates the version (exit 2 with a message) and holds the core -> library mapping.
requirements="$(python3 "$code_location/pins.py" "$DAGSTER_VERSION")"
requirement_list=()
while IFS= read -r requirement; do
  requirement_list+=("$requirement")
done <<<"$requirements"
requirement_list+=("pytest==$PYTEST_VERSION")

venv="$repo_root/.cache/code-location-venv-$DAGSTER_VERSION"
stamp_name=".imqcam-requirements.txt"
wanted_stamp="$(printf '%s\n' "${requirement_list[@]}")"

# Reuse the cached venv only if it is complete and was built from the same requirement list.
if [[ -d "$venv" ]]; then
  if [[ -x "$venv/bin/python" && -f "$venv/$stamp_name" && "$(cat "$venv/$stamp_name")" == "$wanted_stamp" ]]; then
    echo "Reusing virtualenv $venv"
  else
    echo "Discarding stale or incomplete virtualenv $venv"
    rm -rf "$venv"
  fi
fi

if [[ ! -d "$venv" ]]; then
  mkdir -p "$repo_root/.cache"
  tmp_venv="$(mktemp -d "$repo_root/.cache/.code-location-venv-$DAGSTER_VERSION.tmp.XXXXXX")"
  chmod 755 "$tmp_venv" # mktemp -d creates it 0700
  trap 'rm -rf "$tmp_venv"' EXIT
  echo "Creating virtualenv for Dagster $DAGSTER_VERSION (this takes a minute or two)..."
  start_seconds=$SECONDS
  python3 -m venv "$tmp_venv"
  "$tmp_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "${requirement_list[@]}"
  printf '%s\n' "${requirement_list[@]}" >"$tmp_venv/$stamp_name"
  if [[ -d "$venv" ]]; then
    # A concurrent run finished first; keep its venv.
    rm -rf "$tmp_venv"
  else
    mv "$tmp_venv" "$venv"
  fi
  trap - EXIT
  echo "Virtualenv ready in $((SECONDS - start_seconds))s: $venv"
fi

# Always go through "python -m": console-script shebangs hold the temporary path the venv
# was built under, while the interpreter finds its site-packages relative to itself.
cd "$repo_root"
export PYTHONDONTWRITEBYTECODE=1 # keep __pycache__ out of the source tree
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$code_location/tests" "$@"
status=$?
set -e
exit "$status"
