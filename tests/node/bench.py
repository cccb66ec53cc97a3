"""`npm run bench:node`: the stack on the real node, as ratios to a bare pod start on the same node
(a busybox pod from create to Ready), median of ROUNDS rounds (or `--rounds N`), each on a fresh node:
- from an empty node to every pod of the stack Ready (the program's objects and the chart's
  workloads, chart_stand_in.py), the migration Job included;
- from `dagster job launch` to the run's success, for each example job.
Machines here are noisy: read the ratios and their spread, not the seconds."""
from __future__ import annotations

import json
import statistics
import sys
import time

from tests.harness import real_node
from tests.node import stack_on_node, test_runs

ROUNDS = 3


def bare_pod_start(node) -> float:
    busybox = next(i["reference"] for i in stack_on_node.references().values() if "/busybox:" in i["reference"])
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare", "namespace": "default"},
           "spec": {"containers": [{"name": "bare", "image": busybox, "imagePullPolicy": "IfNotPresent",
                                    "command": ["sleep", "3600"]}]}}
    began = time.monotonic()
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    node.kubectl("wait", "--for=condition=Ready", "pod/bare", "--timeout=120s")
    seconds = time.monotonic() - began
    node.kubectl("delete", "pod", "bare", "--wait=true", "--grace-period=0")
    return seconds


def run_seconds(kde04, job: str) -> float:
    began = time.monotonic()
    run_id = f"b{int(began * 1000) % 10**7:07d}-0000-4000-8000-{len(job):012d}"
    phase, log = test_runs.dagster_pod(kde04, "bench-launch", (
        f"dagster job launch -w /dagster-workspace/workspace.yaml -l {test_runs.LOCATION} -j {job} "
        f"--run-id {run_id} --config-json '{json.dumps(test_runs.RUN_CONFIG)}'"))
    assert phase == "Succeeded", log
    status = kde04.node.wait_for("the run", lambda: (lambda s: s if s in ("SUCCESS", "FAILURE") else None)(
        kde04.kubectl("exec", f"deployment/{test_runs.DAEMON}", "-c", "dagster", "--", "python3", "-c",
                      test_runs.RUN_STATUS.format(run_id=run_id)).stdout.strip().splitlines()[-1]),
        timeout=600, interval=1)
    assert status == "SUCCESS", status
    return time.monotonic() - began


def one_round() -> dict:
    with real_node.running() as node:
        bare = statistics.median(bare_pod_start(node) for _ in range(3))
        began = time.monotonic()
        kde04 = stack_on_node.deploy(node)
        stack_on_node.apply_release(node, kde04.values, kde04.namespace, kde04.patches)
        stack = time.monotonic() - began
        runs = {job: run_seconds(kde04, job) for job in ("example_job", "pod_per_op_celery_job")}
        return {"bare_pod_seconds": bare, "stack_ready": stack / bare,
                **{f"{job}_run": seconds / bare for job, seconds in runs.items()}}


def main() -> None:
    count = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else ROUNDS
    rounds = [one_round() for _ in range(count)]
    for key in rounds[0]:
        values = sorted(r[key] for r in rounds)
        print(f"{key}: median {statistics.median(values):.1f} (rounds {values[0]:.1f} to {values[-1]:.1f})")


if __name__ == "__main__":
    main()
