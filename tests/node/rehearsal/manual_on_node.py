"""kde04's manual deployment running for real on the real node, for the takeover rehearsal: made
the way it was made (kubectl for the namespace, the IO volume and claim and the two Secrets, then
`helm install dagster` of a chart named dagster 1.7.5, whose templates are the recorded workloads:
tests/cluster/manual_deployment.py), on the manual deployment's images' stand-ins
(test-images/manual-deployment, README's stand-in table).

The recording keeps what the takeover reads (names, labels, claims, the database's environment) and
leaves out what only running needs. For its pods to run here, the chart also gets what chart 1.7.5
renders beside them, with its default values: the instance, workspace and Celery ConfigMaps, the
Celery broker Secret, the Services, the webserver's, daemon's and workers' commands, and the
PostgreSQL password in the Dagster pods. Three transforms are this node's, not kde04's:
- the IO volume is a folder of the node (hostPath), not NFS (this kernel has no NFS client);
- images are never pulled (`IfNotPresent`: no registry here);
- CPU requests are divided as for the stack (stack_on_node.fit_requests).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.cluster import manual_deployment
from tests.harness import real_node
from tests.node import stack_on_node

NAMESPACE = manual_deployment.NAMESPACE
OLD_CLASS = manual_deployment.OLD_CLASS
DAGSTER_HOME = "/opt/dagster/dagster_home"
# Chart 1.7.5's defaults, which the manual values kept: database, role and broker user.
OLD_USER = "test"
PG_SECRET = "dagster-postgresql"
CELERY_SECRET = "dagster-celery-config-secret"
IO_MOUNT = "/tmp/imqcam_filesystem_io_data"
CODE_SERVER = "dagster-dagster-user-deployments-imqcam-example-1"
LOCATION = "imqcam-example-1"
WORKSPACE = "/dagster-workspace/workspace.yaml"
CELERY_CONFIG = f"{DAGSTER_HOME}/celery-config.yaml"


def _postgres_db() -> dict:
    return {"postgres_db": {"username": OLD_USER, "password": {"env": "DAGSTER_PG_PASSWORD"},
                            "hostname": "dagster-postgresql", "db_name": OLD_USER, "port": 5432, "params": {}}}


def instance_yaml() -> dict:
    """configmap-instance.yaml of chart 1.7.5 for the manual values (Dagster 1.7's module paths)."""
    io = manual_deployment.fixture("helm-values.json")["runLauncher"]["config"]["celeryK8sRunLauncher"]
    return {
        "scheduler": {"module": "dagster.core.scheduler", "class": "DagsterDaemonScheduler"},
        "schedule_storage": {"module": "dagster_postgres.schedule_storage", "class": "PostgresScheduleStorage",
                             "config": _postgres_db()},
        "run_launcher": {"module": "dagster_celery_k8s", "class": "CeleryK8sRunLauncher", "config": {
            "dagster_home": DAGSTER_HOME, "instance_config_map": "dagster-instance",
            "postgres_password_secret": PG_SECRET, "job_namespace": NAMESPACE, "service_account_name": "dagster",
            "broker": {"env": "DAGSTER_CELERY_BROKER_URL"}, "backend": {"env": "DAGSTER_CELERY_BACKEND_URL"},
            "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}],
            "env_secrets": [s["name"] for s in io["envSecrets"]] + [CELERY_SECRET],
            "volume_mounts": io["volumeMounts"], "volumes": io["volumes"], "image_pull_policy": "IfNotPresent"}},
        "run_storage": {"module": "dagster_postgres.run_storage", "class": "PostgresRunStorage", "config": _postgres_db()},
        "event_log_storage": {"module": "dagster_postgres.event_log", "class": "PostgresEventLogStorage",
                              "config": _postgres_db()},
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"},
        "compute_logs": {"module": "dagster.core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"},
        "telemetry": {"enabled": False},
    }


def _chart_objects() -> list:
    """What chart 1.7.5 renders beside the recorded workloads, which they need to run."""
    def config_map(name: str, data: dict) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}

    def service(name: str, port: int, selector: dict) -> dict:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"type": "ClusterIP", "ports": [{"port": port, "protocol": "TCP"}], "selector": selector}}
    pipeline_env = {"DAGSTER_HOME": DAGSTER_HOME, "DAGSTER_K8S_PIPELINE_RUN_NAMESPACE": NAMESPACE,
                    "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP": "dagster-pipeline-env"}
    workspace = {"load_from": [{"grpc_server": {"host": LOCATION, "port": 3030, "location_name": LOCATION}}]}
    celery = {"execution": {"celery": {"broker": {"env": "DAGSTER_CELERY_BROKER_URL"},
                                       "backend": {"env": "DAGSTER_CELERY_BACKEND_URL"}}}}
    return [
        config_map("dagster-instance", {"dagster.yaml": json.dumps(instance_yaml())}),
        config_map("dagster-workspace-yaml", {"workspace.yaml": json.dumps(workspace)}),
        config_map("dagster-celery-config", {"celery.yaml": json.dumps(celery)}),
        config_map("dagster-pipeline-env", pipeline_env),
        config_map(f"{CODE_SERVER}-user-env", {}),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": CELERY_SECRET}, "stringData": {
            "DAGSTER_CELERY_BROKER_URL": f"pyamqp://{OLD_USER}:{OLD_USER}@dagster-rabbitmq:5672//",
            "DAGSTER_CELERY_BACKEND_URL": "rpc://"}},
        service("dagster-postgresql", 5432, {"app": "postgresql", "release": "dagster", "role": "master"}),
        service("dagster-rabbitmq", 5672, {"app.kubernetes.io/name": "rabbitmq", "app.kubernetes.io/instance": "dagster"}),
        service(LOCATION, 3030, {"app.kubernetes.io/name": "dagster-user-deployments",
                                 "app.kubernetes.io/instance": "dagster", "deployment": LOCATION}),
        service("dagster-dagster-webserver", 80, {"app.kubernetes.io/name": "dagster",
                                                  "app.kubernetes.io/instance": "dagster", "component": "dagster-webserver"}),
    ]


# The commands chart 1.7.5 gives the Dagster containers (the recording keeps the code server's only).
COMMANDS = {
    "dagster-webserver": ["/bin/bash", "-c", f"dagster-webserver -h 0.0.0.0 -p 80 -w {WORKSPACE}"],
    "dagster-daemon": ["/bin/bash", "-c", f"dagster-daemon run -w {WORKSPACE}"],
    "celery": ["dagster-celery", "worker", "start", "-A", "dagster_celery_k8s.app", "-y", CELERY_CONFIG, "-q", "dagster"],
}


def _runnable(obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    spec = obj["spec"]["template"]["spec"]
    for c in spec.get("initContainers", []) + spec["containers"]:
        c["imagePullPolicy"] = "IfNotPresent"
    component = obj["metadata"].get("labels", {}).get("component")
    if obj["metadata"]["name"] == "dagster-rabbitmq":
        # Bitnami's RABBITMQ_USERNAME/RABBITMQ_PASSWORD from the chart's values, in the stand-in's names.
        spec["containers"][0]["env"] = [{"name": "RABBITMQ_DEFAULT_USER", "value": OLD_USER},
                                        {"name": "RABBITMQ_DEFAULT_PASS", "value": OLD_USER}]
    if obj["kind"] != "Deployment":
        return obj
    container = spec["containers"][0]
    container.setdefault("env", []).append({"name": "DAGSTER_PG_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": PG_SECRET, "key": "postgresql-password"}}})
    container.setdefault("envFrom", []).append({"secretRef": {"name": CELERY_SECRET}})
    if component in COMMANDS:
        container.pop("args", None)
        container["command"] = COMMANDS[component]
    if component in ("dagster-webserver", "dagster-daemon"):
        container["volumeMounts"].append({"name": "dagster-workspace-yaml", "mountPath": "/dagster-workspace/"})
        spec["volumes"].append({"name": "dagster-workspace-yaml", "configMap": {"name": "dagster-workspace-yaml"}})
    if component == "celery":
        container["volumeMounts"].append({"name": "dagster-celery", "mountPath": CELERY_CONFIG, "subPath": "celery.yaml"})
        spec["volumes"].append({"name": "dagster-celery", "configMap": {"name": "dagster-celery-config"}})
    return obj


def chart_templates(postgresql_password: str) -> list:
    recorded = [o for o in manual_deployment.chart_templates(postgresql_password)
                if not (o["kind"] == "ConfigMap" and o["metadata"]["name"] == "dagster-instance")]
    objs = [_runnable(o) if o["kind"] in ("StatefulSet", "Deployment") else o for o in recorded]
    return stack_on_node.fit_requests(objs + _chart_objects())


def io_volume(path: Path) -> dict:
    """The recorded IO volume on a folder of the node, in the program's hostPath form (a volume's
    source cannot change, so it must match the stack's ioVolume exactly for the adoption)."""
    volume = manual_deployment._as_created(manual_deployment.fixture("pv-imqcam-dagster-io-data.json"))
    volume["spec"].pop("claimRef")
    del volume["spec"]["nfs"]
    volume["spec"]["hostPath"] = {"path": str(path), "type": "DirectoryOrCreate"}
    return volume


def seed(node: real_node.RealNode, work: Path, postgresql_password: str, io_dir: Path) -> None:
    """Everything the manual procedure made, in its order; returns when every pod is Ready."""
    claims = {c["metadata"]["name"]: c for c in manual_deployment.fixture("pvcs.json")["items"]}
    old = [(c, claims[c]["spec"]["resources"]["requests"]["storage"])
           for c in ("data-dagster-postgresql-0", "data-dagster-rabbitmq-0")]
    namespace = manual_deployment._as_created(manual_deployment.fixture("namespace.json"))
    claim = manual_deployment._as_created(claims["imqcam-dagster-io-data"])
    secrets = [manual_deployment._as_created(manual_deployment.fixture(f"secret-{n}.json"))
               for n in ("girder-connection-info", "globus-compute-creds")]
    for s in secrets:
        s["metadata"].pop("annotations", None)
    # The old claims name their volumes (bound on kde04); here the controller binds them afresh.
    for obj in stack_on_node.local_volumes(node, old) + [namespace, io_volume(io_dir), claim, *secrets]:
        node.kubectl("apply", "-f", "-", input=json.dumps(obj))  # client-side, as the manual steps did
    chart = work / "dagster"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: dagster\nversion: 1.7.5\nappVersion: 1.7.5\n")
    for i, obj in enumerate(chart_templates(postgresql_password)):
        (chart / "templates" / f"{i:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml").write_text(json.dumps(obj))
    values = work / "values.json"
    values.write_text(json.dumps(manual_deployment.fixture("helm-values.json")))
    done = node.kubectl("version", check=False)  # the node answers before Helm waits on it
    assert done.returncode == 0, done.stderr
    try:
        node.helm("install", "dagster", str(chart), "-n", NAMESPACE, "-f", str(values), "--wait", "--timeout", "8m", timeout=540)
    except AssertionError as e:
        pods = node.kubectl("get", "pods,pvc", "-n", NAMESPACE, "-o", "wide").stdout
        raise AssertionError(f"{e}\n{pods}\n{stack_on_node.logs(node, NAMESPACE, 'app.kubernetes.io/instance=dagster')}") \
            from None
