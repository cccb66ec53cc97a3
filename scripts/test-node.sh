#!/usr/bin/env bash
# Run the tests with real pods on a real node (tests/node, and the takeover rehearsal in
# tests/node/rehearsal): builds the cluster's binaries once into
# a cache outside the repository (control-plane/build.sh, kubelet, kube-proxy and CoreDNS
# included), then the stand-in images (test-images/build.sh, cached the same way), then pytest,
# which starts one node for the session (tests/harness/real_node.py) inside a network namespace of
# its own. Needs root, and Debian's containerd, runc, containernetworking-plugins, iptables and
# buildah (.ci/run installs them).
#
# Usage (npm run test:node does this):   bash scripts/test-node.sh [--bench] [extra pytest args]
# Exit code is pytest's. Set IMQCAM_KEEP_CONTROL_PLANE=1 to keep the node's folder and logs.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-tools.sh
source "$repo_root/scripts/python-tools.sh"
use_image_python
venv="$(tests_venv)"

IMQCAM_CONTROL_PLANE_BIN="$(bash "$repo_root/control-plane/build.sh")"
dagster_version="$("$repo_root/node_modules/.bin/ts-node" --transpile-only "$repo_root/scripts/dagsterVersion.ts")"
IMQCAM_NODE_IMAGES="$(bash "$repo_root/test-images/build.sh" "$IMQCAM_CONTROL_PLANE_BIN" "$dagster_version")"
export IMQCAM_CONTROL_PLANE_BIN IMQCAM_NODE_IMAGES

cd "$repo_root"
export PYTHONDONTWRITEBYTECODE=1
if [[ "${1:-}" == "--bench" ]]; then
  shift
  exec "$venv/bin/python" -m tests.node.bench "$@"
fi
# Two sessions, each on a node of its own: the stack's tests, then the takeover rehearsal, which
# needs the namespace the stack's tests deploy into. A session whose tests were all deselected (5)
# does not fail the run, unless both were.
status=5
for session in "tests/node --ignore=tests/node/rehearsal" "tests/node/rehearsal"; do
  set +e
  # shellcheck disable=SC2086 # the session is two words on purpose
  "$venv/bin/python" -m pytest -q -p no:cacheprovider $session "$@"
  code=$?
  set -e
  if ((code != 5 && (status == 0 || status == 5))); then status=$code; fi
done
exit "$status"
