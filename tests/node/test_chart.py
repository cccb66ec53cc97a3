"""With the real Dagster chart given, the same run through the chart's own workloads: `helm install`
with the program's Release values, a run launched from the chart's webserver (GraphQL, from inside
the cluster), and a run whose run pod is killed mid-run marked failed by the daemon's run
monitoring. The chart is in no registry these machines reach, so the test takes it from
IMQCAM_DAGSTER_CHART (a chart folder or packaged .tgz of the stack's dagsterVersion, e.g. from
`helm pull dagster --repo https://dagster-io.github.io/helm --version <dagsterVersion>`); without it
the module is skipped, saying so."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.cluster import program
from tests.node import chart_stand_in, stack_on_node
from tests.node.test_runs import DAEMON, LOCATION, RUN_CONFIG, RUN_STATUS

CHART_ENV = "IMQCAM_DAGSTER_CHART"
pytestmark = pytest.mark.skipif(
    not os.environ.get(CHART_ENV),
    reason=f"no Dagster chart: set {CHART_ENV} to the chart of the stack's dagsterVersion (a folder or .tgz) to "
           "run the chart's own webserver, daemon and Celery workers on the node")
WEBSERVER = "dagster-dagster-webserver"
LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def fitted_values(values: dict) -> dict:
    """The Release values with every CPU request divided as the program's objects are (stack_on_node)."""
    values = json.loads(json.dumps(values))

    def walk(node):
        if isinstance(node, dict):
            cpu = node.get("requests", {}).get("cpu") if isinstance(node.get("requests"), dict) else None
            if cpu:
                node["requests"]["cpu"] = f"{max(1, stack_on_node._millicores(cpu) // stack_on_node.CPU_SHARE)}m"
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(values)
    return values


@pytest.fixture(scope="module")
def chart(kde04):
    # The chart renders the stand-in's names: the stand-in goes first (test_runs may have made it).
    stand_in = chart_stand_in.render(kde04.values, kde04.namespace)
    for obj in stand_in:
        kde04.kubectl("delete", obj["kind"].lower(), obj["metadata"]["name"], "--ignore-not-found", "--wait=true")
    values = kde04.node.root / "release-values.json"
    values.write_text(json.dumps(fitted_values(kde04.values)))
    kde04.node.helm("install", "dagster", os.environ[CHART_ENV], "-n", kde04.namespace, "-f", str(values),
                    "--wait", "--timeout", "10m")
    for patch in kde04.patches:
        program.apply_patch(kde04.node, patch)
    for deployment in (f"dagster-dagster-user-deployments-{LOCATION}", "dagster-celery-workers-dagster", DAEMON, WEBSERVER):
        stack_on_node.wait_ready(kde04.node, kde04.namespace, f"deployment/{deployment}", timeout=600)
    yield values
    # The other modules run the stand-in under the same names.
    kde04.node.helm("uninstall", "dagster", "-n", kde04.namespace, "--wait", "--timeout", "5m")


def launch_from_webserver(kde04, job: str) -> str:
    """launchRun through the webserver's GraphQL API, as an operator reaches it: `kubectl port-forward`
    (no pod may reach the webserver; README, "Network isolation")."""
    variables = {"params": {"selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                                         "jobName": job}, "runConfigData": RUN_CONFIG}}
    with stack_on_node.port_forward(kde04.node, kde04.namespace, f"service/{WEBSERVER}", 80) as port:
        script = ("import json, sys, urllib.request; "
                  "body = json.dumps({'query': sys.argv[1], 'variables': json.loads(sys.argv[2])}).encode(); "
                  f"print(urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:{port}/graphql', body, "
                  "{'Content-Type': 'application/json'}), timeout=60).read().decode())")
        done = subprocess.run([*kde04.node.wrap, "python3", "-c", script, LAUNCH, json.dumps(variables)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])["data"]["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def run_status(kde04, run_id: str) -> str:
    return kde04.kubectl("exec", f"deployment/{DAEMON}", "-c", "dagster", "--", "python3", "-c",
                         RUN_STATUS.format(run_id=run_id)).stdout.strip().splitlines()[-1]


def test_a_run_launched_from_the_charts_webserver_succeeds(kde04, chart):
    run_id = launch_from_webserver(kde04, "pod_per_op_celery_job")
    status = kde04.node.wait_for("the run", lambda: (lambda s: s if s in ("SUCCESS", "FAILURE", "CANCELED") else None)(
        run_status(kde04, run_id)), timeout=600, interval=5)
    assert status == "SUCCESS"


def test_a_run_whose_run_pod_is_killed_is_marked_failed_by_run_monitoring(kde04, chart):
    run_id = launch_from_webserver(kde04, "pod_per_op_celery_job")
    selector = f"dagster/run-id={run_id}"
    kde04.node.wait_for("the run pod running", lambda: any(
        p["status"].get("phase") == "Running" for p in kde04.node.get("pods", "-n", kde04.namespace, "-l", selector)["items"]
        if "dagster/op" not in p["metadata"].get("labels", {})), timeout=300)
    kde04.kubectl("delete", "pods", "-l", f"{selector},!dagster/op", "--grace-period=0", "--force")
    # Run monitoring polls every 120 s by default: within a few polls the run is failed.
    status = kde04.node.wait_for("run monitoring", lambda: (lambda s: s if s in ("SUCCESS", "FAILURE", "CANCELED") else None)(
        run_status(kde04, run_id)), timeout=600, interval=10)
    assert status == "FAILURE"
