"""`npm run bench:cluster` (and the end of `npm run bench`): the control plane's start, and a
server-side apply of every object the program creates for kde04, each as a ratio to a bare
`kubectl apply` of one ConfigMap on the same plane; and the checks' one read of the cluster before
the first resource (src/guards/clusterReads.ts), as a ratio to one bare GET. Several rounds, each on
a fresh plane: read the ratios and their spread, not the seconds."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import time

from tests.cluster import program, storage
from tests.harness import kube_control_plane

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONFIGMAP_APPLIES = 5


def timed(fn) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def configmap(i: int) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"bench-{i}", "namespace": "default"},
                       "data": {"k": "v"}})


def one_round(objs: list) -> tuple:
    plane = kube_control_plane.start()
    try:
        storage.provide(plane, "local-storage-kde04", [])
        bare = statistics.median(timed(lambda i=i: plane.kubectl("apply", "--server-side", "-f", "-", input=configmap(i)))
                                 for i in range(CONFIGMAP_APPLIES))
        whole = timed(lambda: program.apply(plane, objs))
        reads = json.loads(subprocess.run([*program.TS_NODE, "scripts/benchClusterReads.ts", "5"], cwd=program.REPO,
                                          env=plane.env, check=True, capture_output=True, text=True).stdout)
        return plane.started_seconds / bare, whole / bare, bare, reads["readSeconds"] / reads["bareGetSeconds"]
    finally:
        plane.stop()


def main() -> None:
    objs = program.objects("kde04")
    rounds = [one_round(objs) for _ in range(ROUNDS)]
    start, apply_all, bare, reads = zip(*rounds)
    spread = lambda xs: f"{statistics.median(xs):.1f}x (rounds {min(xs):.1f}x to {max(xs):.1f}x)"  # noqa: E731
    print(f"control plane, {ROUNDS} rounds; unit: one bare `kubectl apply` of a ConfigMap "
          f"(median {statistics.median(bare) * 1000:.0f} ms here)")
    print(f"  start, until the node is Ready:      {spread(start)}")
    print(f"  apply of the program's {len(objs)} objects:  {spread(apply_all)}")
    print(f"  the checks' read of the cluster, as a ratio to one bare GET: {spread(reads)}")


if __name__ == "__main__":
    main()
