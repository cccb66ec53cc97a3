#!/usr/bin/env bash
# Regenerate the code location's locks for the project's Dagster version (Pulumi.yaml's
# dagsterVersion, one for every stack):
#   npm run lock                                   (the version Pulumi.yaml has)
#   npm run lock -- --dagster-version 1.13.28      (an upgrade: sets it in Pulumi.yaml first)
#
# requirements.lock: every package the image installs, exact versions and hashes, resolved by
# uv for the image's platform and Python (linux/amd64, the Dockerfile's Python version) from
# requirements.in, with the Dagster libraries constrained by pins.py.
# requirements-test.lock: what the tests add, resolved against requirements.lock.
set -euo pipefail

UV_VERSION="0.13.9"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"

version_args=()
if [[ "${1:-}" == "--dagster-version" && -n "${2:-}" && $# -eq 2 ]]; then
  version_args=(--set "$2")
elif [[ $# -gt 0 ]]; then
  echo "usage: npm run lock [-- --dagster-version <version>]   (the version is the project's, for every stack)" >&2
  exit 2
fi
dagster_version="$(ts-node --transpile-only "$repo_root/scripts/dagsterVersion.ts" "${version_args[@]}")"

# The resolver lives in its own cached environment, pinned, outside the repository.
tools="$repo_root/.cache/lock-tools-uv-$UV_VERSION"
if [[ ! -x "$tools/bin/uv" ]]; then
  python="$(find_image_python)"
  rm -rf "$tools"
  "$python" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# A fixed path, because the lock's annotations name the constraints file.
work="$repo_root/.cache/lock"
rm -rf "$work" && mkdir -p "$work"
python3 "$code_location/pins.py" "$dagster_version" >"$work/dagster-pins.txt"

compile() { # <input> <output> [extra uv args]
  local input="$1" output="$2"
  shift 2
  (cd "$code_location" && "$tools/bin/uv" pip compile --quiet "$input" \
    --generate-hashes --python-version "$image_python_version" \
    --python-platform x86_64-manylinux_2_28 \
    --custom-compile-command "npm run lock" \
    "$@" -o "$work/$output")
  mv "$work/$output" "$code_location/$output"
}
compile requirements.in requirements.lock -c ../../.cache/lock/dagster-pins.txt
compile requirements-test.in requirements-test.lock -c requirements.lock
echo "Locked the code location for Dagster $dagster_version (every stack, Python $image_python_version):"
echo "  code-locations/imqcam/requirements.lock, code-locations/imqcam/requirements-test.lock"
