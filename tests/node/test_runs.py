"""Dagster on the real node: the chart's code server, Celery workers and daemon (chart_stand_in.py,
from the program's Release values) beside the program's own objects, and a run of each example job
the whole way a run goes on kde04: submitted from inside the cluster, dequeued by the daemon,
launched by the real CeleryK8sRunLauncher as a run Job, its steps (pod per op) sent through
RabbitMQ to the Celery workers, each a step Job; every pod pinned to the node and on the IO
volume, the run's events in PostgreSQL, step logs in the compute-log folder."""
from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from tests.cluster import program
from tests.node import chart_stand_in, pod_roles, stack_on_node
from tests.node.test_servers import PROCESSES, exec_in, run_pod

RUN_CONFIG = {"ops": {"multiply_the_word": {"inputs": {"word": "imqcam"}, "config": {"factor": 3}}}}
LOCATION = stack_on_node.CODE_LOCATION
# As the chart names them (release `dagster`).
CODE_SERVER = f"dagster-dagster-user-deployments-{LOCATION}"
WORKERS = "dagster-celery-workers-dagster"
DAEMON = "dagster-daemon"
EXAMPLE_RUN = "e0000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def dagster(kde04):
    return stack_on_node.apply_release(kde04.node, kde04.values, kde04.namespace, kde04.patches)


def dagster_pod(kde04, name: str, script: str, timeout: int = 300) -> tuple[str, str]:
    """A pod in the Dagster image with the daemon's instance, workspace and credentials, that connects
    as the webserver does when it launches a run."""
    daemon = program.find(stack_on_node.fit_requests(chart_stand_in.daemon(kde04.values, kde04.namespace)),
                          "Deployment", DAEMON)["spec"]["template"]["spec"]
    container = {**daemon["containers"][0], "name": "main", "command": ["sh", "-c", script]}
    labels = pod_roles.stand_in_labels(kde04.objects, kde04.values, kde04.namespace, "webserver")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": kde04.namespace, "labels": labels},
           "spec": {**{k: v for k, v in daemon.items() if k != "initContainers"}, "restartPolicy": "Never",
                    "containers": [container]}}
    return stack_on_node.run_to_end(kde04.node, pod, timeout)


def test_the_code_server_answers_grpc_by_its_service_name(kde04, dagster):
    phase, log = run_pod(kde04, "grpc-check", stack_on_node.user_code_image(),
                         f"dagster api grpc-health-check --host {LOCATION} --port 3030 && echo healthy", role="webserver")
    assert phase == "Succeeded" and "healthy" in log, log


@pytest.mark.parametrize("selector,container", [
    ("component=dagster-daemon,app.kubernetes.io/name=dagster", "dagster"),
    ("component=celery,app.kubernetes.io/name=dagster", "dagster"),
    ("component=user-deployments,app.kubernetes.io/name=dagster-user-deployments", "dagster-user-deployments")])
def test_the_chart_s_pods_run_without_privileges_under_seccomp(kde04, dagster, selector, container):
    """Every process of the daemon, a Celery worker and the code server: no capability, no way to
    gain one, under the runtime's seccomp profile (still their image's user, root)."""
    [pod, *_] = [p for p in kde04.node.get("pods", "-n", kde04.namespace, "-l", selector)["items"]
                 if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
    processes = [line.split() for line in exec_in(kde04, pod["metadata"]["name"], container, PROCESSES).stdout.splitlines()
                 if line.strip()]
    assert len(processes) >= 2, processes
    for f in processes:
        assert dict(zip(f[5::2], f[6::2])) == {"CapEff:": "0" * 16, "NoNewPrivs:": "1", "Seccomp:": "2"}, f


def test_the_daemon_got_past_its_wait_for_the_code_server(kde04, dagster):
    pod = kde04.node.get("pods", "-n", kde04.namespace, "-l", "component=dagster-daemon")["items"][0]
    waits = [s for s in pod["status"]["initContainerStatuses"] if s["name"].startswith("init-user-deployment-")]
    assert waits and all(s["state"].get("terminated", {}).get("exitCode") == 0 for s in waits), waits


RUN_STATUS = "from dagster import DagsterInstance; r = DagsterInstance.get().get_run_by_id('{run_id}'); print(r and r.status.value)"


def submit(deployed, job: str, run_id: str, run_config: dict) -> None:
    """`dagster job launch` from inside the cluster, as the webserver submits a run: into the queue."""
    phase, log = dagster_pod(deployed, f"launch-{job.replace('_', '-')}-{run_id[-2:]}",
                             f"dagster job launch -w /dagster-workspace/workspace.yaml -l {LOCATION} -j {job} "
                             f"--run-id {run_id} --config-json '{json.dumps(run_config)}'")
    assert phase == "Succeeded", log


def wait_run(deployed, run_id: str) -> str:
    """The run's status once it has ended."""
    def finished():
        # In the daemon's container, with its instance: the run's status in PostgreSQL.
        out = deployed.kubectl("exec", f"deployment/{DAEMON}", "-c", "dagster", "--", "python3", "-c",
                               RUN_STATUS.format(run_id=run_id), check=False).stdout
        status = (out.strip().splitlines() or [""])[-1]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None
    return deployed.node.wait_for(f"run {run_id} to finish", finished, timeout=600, interval=5)


def launch_and_wait(deployed, job: str, run_id: str, run_config: dict) -> tuple[str, list]:
    """`dagster job launch` from inside the cluster, then the run's status once it ends, and its Jobs."""
    submit(deployed, job, run_id, run_config)
    status = wait_run(deployed, run_id)
    jobs = deployed.node.get("jobs", "-n", deployed.namespace)["items"]
    run_jobs = [j for j in jobs if j["metadata"].get("labels", {}).get("dagster/run-id") == run_id]
    assert status == "SUCCESS", (status, [deployed.kubectl("logs", f"job/{j['metadata']['name']}", check=False).stdout
                                          for j in run_jobs])
    return status, run_jobs


@pytest.mark.parametrize("job", ["example_job", "pod_per_op_celery_job"])
def test_a_run_goes_through_the_celery_k8s_run_launcher_on_the_node(kde04, dagster, job):
    run_id = {"example_job": EXAMPLE_RUN,
              "pod_per_op_celery_job": "e0000000-0000-4000-8000-000000000002"}[job]
    status, run_jobs = launch_and_wait(kde04, job, run_id, RUN_CONFIG)
    steps = [j for j in run_jobs if "dagster/op" in j["metadata"].get("labels", {})]
    assert len(run_jobs) == (3 if job == "pod_per_op_celery_job" else 1), [j["metadata"]["name"] for j in run_jobs]
    if job == "pod_per_op_celery_job":
        assert len(steps) == 2, [j["metadata"]["name"] for j in run_jobs]
    # The run worker reports success before its process exits: its Job completes a moment later.
    for run_job in run_jobs:
        stack_on_node.wait_job(kde04.node, kde04.namespace, run_job["metadata"]["name"], timeout=120)
    pods = [p for p in kde04.node.get("pods", "-n", kde04.namespace)["items"]
            if p["metadata"].get("labels", {}).get("dagster/run-id") == run_id]
    assert len(pods) == len(run_jobs)
    writer = stack_on_node.SHARE_WRITER  # run and step pods both write on the share
    for pod in pods:
        spec = pod["spec"]
        assert spec["nodeName"] == kde04.node.node_name
        assert spec.get("nodeSelector") == {"kubernetes.io/hostname": kde04.node.node_name}, pod["metadata"]["name"]
        assert any(v.get("persistentVolumeClaim", {}).get("claimName") == "imqcam-dagster-io-data" for v in spec["volumes"])
        assert pod["status"]["phase"] == "Succeeded"
        # Hardened by their dagster-k8s/config; only the run pod, which calls the API, has a token.
        is_run_pod = pod["metadata"]["labels"]["app.kubernetes.io/component"] == "run_worker"
        assert spec["automountServiceAccountToken"] is is_run_pod, pod["metadata"]["name"]
        assert spec["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True,
                                           "runAsUser": writer["uid"], "runAsGroup": writer["gid"]}, pod["metadata"]["name"]
        assert spec["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": False,
                                                            "capabilities": {"drop": ["ALL"]}}, pod["metadata"]["name"]
    # No Celery worker was restarted meanwhile (the chart's default liveness timing did, on this node).
    workers = kde04.node.get("pods", "-n", kde04.namespace, "-l", "component!=dagster-daemon,app.kubernetes.io/name=dagster")
    restarts = {p["metadata"]["name"]: p["status"]["containerStatuses"][0]["restartCount"] for p in workers["items"]
                if p["metadata"]["name"].startswith(WORKERS)}
    assert restarts and not any(restarts.values()), restarts
    # The step's print, kept as its compute log on the IO volume.
    logs = [p for p in (kde04.io_dir / "compute-logs").rglob("*") if p.is_file() and run_id in str(p)]
    # Written as the share's writer (the ioVolume.writer setting), not root.
    assert logs and all((p.stat().st_uid, p.stat().st_gid) == (writer["uid"], writer["gid"]) for p in logs), \
        [(p, p.stat().st_uid) for p in logs]
    assert any("multiplying 'imqcam' by 3" in p.read_text(errors="replace") for p in logs), logs


def test_a_stopped_worker_shuts_down_warm_and_its_pod_ends(kde04, dagster):
    """The program's preStop hook starts Celery's warm shutdown: without it, the worker's PID 1
    (`dagster-celery`, which runs Celery as its child) drops the SIGTERM and the pod waits out its
    grace period, a day, holding up every rollout and the takeover's scale-down."""
    [name, *_] = [p["metadata"]["name"] for p in kde04.node.get("pods", "-n", kde04.namespace)["items"]
                  if p["metadata"]["name"].startswith(WORKERS) and p["status"].get("phase") == "Running"]
    follow = subprocess.Popen([*kde04.node.wrap, str(kde04.node.bin / "kubectl"), "-n", kde04.namespace, "logs", "-f",
                               name], env=kde04.node.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        kde04.kubectl("delete", "pod", name, "--wait=false")
        kde04.node.wait_for(f"worker pod {name} to end", lambda: not kde04.kubectl(
            "get", "pod", name, "--ignore-not-found", "-o", "name").stdout.strip(), timeout=180, interval=2)
        log = follow.communicate(timeout=60)[0]
    finally:
        follow.kill()
    assert "Warm shutdown" in log, log[-3000:]


def test_what_the_stack_may_do_in_the_cluster_is_named_verb_by_verb(kde04, dagster):
    """Every Role and RoleBinding of the namespace, as the API server holds them once the stack and
    the chart's objects are in: no wildcard verb, resource or API group, each binding a Role of the
    namespace to its own ServiceAccounts, and nothing cluster-wide bound to them."""
    ns = kde04.namespace
    roles = kde04.node.get("roles", "-n", ns)["items"]
    assert roles, "the chart's Roles (the run launcher creates Jobs)"
    for role in roles:
        for rule in role["rules"]:
            for field in ("verbs", "resources", "apiGroups"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
    accounts = {a["metadata"]["name"] for a in kde04.node.get("serviceaccounts", "-n", ns)["items"]}
    for binding in kde04.node.get("rolebindings", "-n", ns)["items"]:
        assert binding["roleRef"]["kind"] == "Role", binding["metadata"]["name"]
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount" and subject["name"] in accounts, subject
            assert subject.get("namespace", ns) == ns, subject
    cluster_wide = [b["metadata"]["name"] for b in kde04.node.get("clusterrolebindings")["items"]
                    if any(s.get("namespace") == ns for s in b.get("subjects") or [])]
    assert cluster_wide == [], cluster_wide


def test_readme_s_log_commands_show_each_part(kde04, dagster):
    """README's "Logs" block, run as written after the runs above: each shows its part, and each
    workload it names selects only its own pods (the chart's worker Deployment selects every pod of
    the release, so `deploy/` of it could show the daemon's log: workers go by label). The webserver
    runs on no node here (its stand-in is a bare pod); its name is the chart's, as in README's
    port-forward."""
    readme = (program.REPO / "README.md").read_text()
    lines = [line.strip() for line in readme.split("\n### Logs\n")[1].split("\n#")[0].splitlines()
             if line.startswith("    kubectl")]
    shows = {"deploy/dagster-daemon": "dagster.daemon", f"deploy/{CODE_SERVER}": "Started Dagster code server",
             "-l component=celery": "ready.", "statefulset/dagster-postgresql": "ready to accept connections",
             "statefulset/dagster-rabbitmq": "startup complete", "dagster/run-id=": EXAMPLE_RUN}
    webserver = [line for line in lines if "deploy/dagster-dagster-webserver" in line]
    assert len(lines) == len(shows) + 1 and len(webserver) == 1, lines
    assert "svc/dagster-dagster-webserver" in readme  # the chart's Deployment and Service share the name
    # The worker stopped by the test above has a successor, which says "ready." once Celery is up.
    kde04.kubectl("rollout", "status", f"deployment/{WORKERS}", "--timeout=180s")
    for line in (line for line in lines if line not in webserver):
        [part] = [k for k in shows if k in line]
        argv = shlex.split(line.replace("<run id>", EXAMPLE_RUN))
        assert argv[:3] == ["kubectl", "-n", "imqcam-dagster"] == ["kubectl", "-n", kde04.namespace], argv
        workload = next((a for a in argv if a.startswith(("deploy/", "statefulset/"))), None)
        if workload:
            kind, name = workload.split("/")
            selector = kde04.node.get("deployment" if kind == "deploy" else kind, name, "-n", kde04.namespace)["spec"]["selector"]
            labels = ",".join(f"{k}={v}" for k, v in selector["matchLabels"].items())
            pods = [p["metadata"]["name"] for p in kde04.node.get("pods", "-n", kde04.namespace, "-l", labels)["items"]]
            assert pods and all(p.startswith(f"{name}-") for p in pods), (line, pods)

        def showing_its_part():
            out = kde04.node.kubectl(*argv[1:]).stdout
            return out if shows[part] in out else None
        out = kde04.node.wait_for(f"`{line}` to show {shows[part]!r}", showing_its_part, timeout=120, interval=3)
        if part == "-l component=celery":
            assert all(row.startswith(f"[pod/{WORKERS}-") for row in out.splitlines()), out[-2000:]
