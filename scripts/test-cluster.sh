#!/usr/bin/env bash
# Run the tests against a real Kubernetes API server (tests/cluster): builds the control plane
# once into a cache outside the repository (control-plane/build.sh, about 15 minutes cold), then
# each test module starts its own on loopback (tests/harness/kube_control_plane.py).
#
# Usage (npm run test:cluster does this):   bash scripts/test-cluster.sh [extra pytest args]
# Exit code is pytest's. Set IMQCAM_KEEP_CONTROL_PLANE=1 to keep each plane's folder and logs.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"
use_image_python
# pytest and PyYAML, from the code location's test virtualenv (the same one the other suites use).
venv="$(tests_venv)"

IMQCAM_CONTROL_PLANE_BIN="$(bash "$repo_root/control-plane/build.sh")"
export IMQCAM_CONTROL_PLANE_BIN

cd "$repo_root"
export PYTHONDONTWRITEBYTECODE=1
if [[ "${1:-}" == "--bench" ]]; then
  shift
  exec "$venv/bin/python" -m tests.cluster.bench "$@"
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/cluster "$@"
