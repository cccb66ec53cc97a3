#!/usr/bin/env bash
# Regenerate the hashed locks of the Dagster versions the database tests write histories with, and of
# the manual deployment's Dagster image (its stand-in in test-images/build.sh):
#   bash database/tests/lock.sh
# dagster-<version>.in -> dagster-<version>.lock, resolved by the same pinned uv as `npm run lock`,
# for Python 3.11 on linux/amd64. The code location's own Dagster is not here: the tests use its
# lock (code-locations/imqcam/requirements.lock) and its virtualenv.
set -euo pipefail

UV_VERSION="0.13.9"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$repo_root/.cache/lock-tools-uv-$UV_VERSION"
if [[ ! -x "$tools/bin/uv" ]]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

cd "$repo_root"
# The manual deployment's image as it was built: resolved with what PyPI had on 1.7.5's release day.
declare -A as_of=([test-images/manual-deployment/dagster-celery-k8s-1.7.5.in]=2024-05-10T00:00:00Z)
for input in database/tests/dagster-*.in test-images/manual-deployment/dagster-celery-k8s-1.7.5.in; do
  "$tools/bin/uv" pip compile --quiet "$input" ${as_of[$input]:+--exclude-newer "${as_of[$input]}"} --generate-hashes \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "bash database/tests/lock.sh" \
    -o "${input%.in}.lock"
  echo "locked ${input%.in}.lock"
done
