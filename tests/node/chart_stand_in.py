"""What the Dagster chart renders from the program's Release values, for the real-node tests when no
chart is given: the code server, the Celery workers and the daemon, with the instance, Celery and
env ConfigMaps and the chart's RBAC, modelled on the chart's templates (helm/dagster of
dagster-io/dagster: deployment-user.yaml, service-user.yaml, deployment-celery-queues.yaml,
deployment-daemon.yaml, configmap-instance.yaml and helpers/instance/*, configmap-celery.yaml,
configmap-env-*.yaml, role.yaml). Commands, arguments, probes, init containers, security contexts,
labels, names and the run launcher's configuration are the templates'. Where an older template names `dagster.core`
modules, Dagster 1.13's `dagster._core` ones are used. With a chart given, the tests install
the chart itself instead (test_chart.py).
"""
from __future__ import annotations

import hashlib
import json

from tests.harness import chart_instance

RELEASE = "dagster"
DAGSTER_HOME = "/opt/dagster/dagster_home"
SERVICE_ACCOUNT = RELEASE
USER_SERVICE_ACCOUNT = f"{RELEASE}-dagster-user-deployments-user-deployments"
SELECTOR = {"app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": RELEASE}
# role.yaml: the same four rules in the chart and its user-deployments subchart.
RULES = [
    {"apiGroups": ["batch"], "resources": ["jobs"],
     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs/status"], "verbs": ["get", "watch", "list"]},
    {"apiGroups": [""], "resources": ["pods", "events"],
     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log", "pods/status"], "verbs": ["get", "watch", "list"]},
]


# values.yaml's runLauncher.config.celeryK8sRunLauncher.livenessProbe.
LIVENESS_DEFAULTS = {"initialDelaySeconds": 15, "periodSeconds": 10, "timeoutSeconds": 10, "successThreshold": 1,
                     "failureThreshold": 3}


def _image(image: dict) -> str:
    """dagster.dagsterImage.name: repository@digest when a digest is given, else repository:tag."""
    return f"{image['repository']}@{image['digest']}" if image.get("digest") else f"{image['repository']}:{image['tag']}"


def _meta(name: str, namespace: str, **extra) -> dict:
    return {"name": name, "namespace": namespace, **extra}


def _rbac(namespace: str, account: str, role: str) -> list:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(account, namespace)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(role, namespace), "rules": RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(f"{role}binding", namespace),
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}},
    ]


def instance_yaml(values: dict, namespace: str) -> dict:
    """configmap-instance.yaml's dagster.yaml, for a CeleryK8sRunLauncher and an external PostgreSQL."""
    pg = values["postgresql"]
    storage = {"postgres_db": chart_instance.postgres_db(values, pg["postgresqlHost"], pg["service"]["port"])}
    launcher = values["runLauncher"]["config"]["celeryK8sRunLauncher"]
    run_launcher = {
        "dagster_home": DAGSTER_HOME, "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"], "job_namespace": namespace,
        "broker": {"env": "DAGSTER_CELERY_BROKER_URL"}, "backend": {"env": "DAGSTER_CELERY_BACKEND_URL"},
        **({"config_source": launcher["configSource"]} if launcher.get("configSource") else {}),
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}],
        "env_secrets": [s["name"] for s in launcher.get("envSecrets", [])] + [values["global"]["celeryConfigSecretName"]],
        **({"volume_mounts": launcher["volumeMounts"]} if launcher.get("volumeMounts") else {}),
        **({"volumes": launcher["volumes"]} if launcher.get("volumes") else {}),
        **({"image_pull_secrets": values["imagePullSecrets"]} if values.get("imagePullSecrets") else {}),
        "service_account_name": SERVICE_ACCOUNT,
        **({"image_pull_policy": launcher["imagePullPolicy"]} if launcher.get("imagePullPolicy") else {}),
    }
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    custom_logs = values["computeLogManager"]["config"]["customComputeLogManager"]
    return {
        "scheduler": {"module": "dagster._core.scheduler", "class": "DagsterDaemonScheduler"},
        "schedule_storage": {"module": "dagster_postgres.schedule_storage", "class": "PostgresScheduleStorage", "config": storage},
        "run_launcher": {"module": "dagster_celery_k8s", "class": "CeleryK8sRunLauncher", "config": run_launcher},
        "run_storage": {"module": "dagster_postgres.run_storage", "class": "PostgresRunStorage", "config": storage},
        "event_log_storage": {"module": "dagster_postgres.event_log", "class": "PostgresEventLogStorage", "config": storage},
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator", "config": {
            "max_concurrent_runs": queued.get("maxConcurrentRuns", -1), "dequeue_use_threads": True, "dequeue_num_workers": 4}},
        "compute_logs": {"module": custom_logs["module"], "class": custom_logs["class"], "config": custom_logs["config"]},
        "run_monitoring": {"enabled": True, "start_timeout_seconds": 300, "max_resume_run_attempts": 0,
                           "poll_interval_seconds": 120, "free_slots_after_run_end_seconds": 0},
        "run_retries": {"enabled": True},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }


def _shared_env(values: dict, namespace: str, pipeline_env: str) -> dict:
    return {"DAGSTER_HOME": DAGSTER_HOME, "DAGSTER_K8S_PIPELINE_RUN_NAMESPACE": namespace,
            "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP": pipeline_env}


def _pg_isready(values: dict) -> dict:
    pg = values["postgresql"]
    command = (f'until pg_isready -h "{pg["postgresqlHost"]}" -p {pg["service"]["port"]} -U {pg["postgresqlUsername"]}; '
               "do echo waiting for database; sleep 2; done;")
    return {"name": "check-db-ready", "image": f"{pg['image']['repository']}:{pg['image']['tag']}",
            "imagePullPolicy": pg["image"]["pullPolicy"], "command": ["sh", "-c", command]}


def _pg_password(values: dict) -> dict:
    return {"name": "DAGSTER_PG_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": values["global"]["postgresqlSecretName"], "key": "postgresql-password"}}}


def _secured(container: dict, component: dict) -> dict:
    """An init container under its component's container securityContext, as the templates give it."""
    return {**container, "securityContext": component.get("securityContext", {})}


def wait_for_user_code(values: dict, deployment: dict) -> dict:
    """The webserver's and daemon's init container per code location (the chart's exact command)."""
    image = values["busybox"]["image"]
    return {"name": f"init-user-deployment-{deployment['name']}", "image": f"{image['repository']}:{image['tag']}",
            "command": ["sh", "-c", f"until nslookup {deployment['name']}; do echo waiting for user service; sleep 2; done"]}


def code_server(values: dict, namespace: str, deployment: dict) -> list:
    name, port = deployment["name"], deployment["port"]
    subchart = f"{RELEASE}-dagster-user-deployments"
    labels = {"app.kubernetes.io/name": "dagster-user-deployments", "app.kubernetes.io/instance": RELEASE,
              "component": "user-deployments", "deployment": name}
    checksum = hashlib.sha256(json.dumps(deployment, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    user_env = f"{subchart}-{name}-user-env"
    context = {"k8s": {
        "image_pull_policy": deployment["image"]["pullPolicy"], "env_config_maps": [user_env],
        **({"env_secrets": [s["name"] for s in deployment["envSecrets"]]} if deployment.get("envSecrets") else {}),
        **({"volume_mounts": deployment["volumeMounts"]} if deployment.get("volumeMounts") else {}),
        **({"volumes": deployment["volumes"]} if deployment.get("volumes") else {}),
        **({"resources": deployment["resources"]} if deployment.get("resources") else {}),
        "namespace": namespace, "service_account_name": USER_SERVICE_ACCOUNT,
        **({"env": deployment["env"]} if isinstance(deployment.get("env"), list) else {}),
        "run_k8s_config": {"pod_spec_config": {"automount_service_account_token": True}}}}
    health = {"exec": {"command": ["dagster", "api", "grpc-health-check", "-p", str(port)]},
              "periodSeconds": 20, "timeoutSeconds": 10, "successThreshold": 1, "failureThreshold": 15}
    container = {
        "name": "dagster-user-deployments", "image": _image(deployment["image"]),
        "imagePullPolicy": deployment["image"]["pullPolicy"],
        "args": ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", str(port), "--fixed-server-id", checksum,
                 *deployment["dagsterApiGrpcArgs"]],
        "env": [{"name": "DAGSTER_CURRENT_IMAGE", "value": _image(deployment["image"])}, _pg_password(values),
                {"name": "DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT", "value": json.dumps(context, sort_keys=True)},
                *deployment.get("env", [])],
        "envFrom": [{"configMapRef": {"name": f"{subchart}-user-deployments-shared-env"}},
                    {"configMapRef": {"name": user_env}},
                    *({"secretRef": {"name": s["name"]}} for s in deployment.get("envSecrets", [])),
                    {"secretRef": {"name": values["global"]["celeryConfigSecretName"], "optional": True}}],
        "resources": deployment.get("resources", {}), "volumeMounts": deployment.get("volumeMounts", []),
        "readinessProbe": health, "securityContext": deployment.get("securityContext", {}),
    }
    return [
        *_rbac(namespace, USER_SERVICE_ACCOUNT, f"{subchart}-role"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{subchart}-user-deployments-shared-env", namespace),
         "data": _shared_env(values, namespace, f"{subchart}-pipeline-env")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(user_env, namespace), "data": {}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(f"{subchart}-{name}", namespace, labels=labels),
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels, "annotations": {"checksum/dagster-user-deployment": checksum,
                                                            **deployment.get("annotations", {})}},
             "spec": {"serviceAccountName": USER_SERVICE_ACCOUNT, "automountServiceAccountToken": True,
                      "securityContext": deployment.get("podSecurityContext", {}),
                      "imagePullSecrets": values.get("imagePullSecrets", []),
                      "nodeSelector": deployment.get("nodeSelector", {}), "containers": [container],
                      "volumes": deployment.get("volumes", [])}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace, labels=labels),
         "spec": {"type": "ClusterIP", "ports": [{"port": port, "protocol": "TCP", "name": "grpc"}], "selector": labels}},
    ]


def celery_workers(values: dict, namespace: str, queue: dict) -> list:
    launcher = values["runLauncher"]["config"]["celeryK8sRunLauncher"]
    config_path = f"{DAGSTER_HOME}/celery-config.yaml"
    celery_yaml = {"execution": {"celery": {"broker": {"env": "DAGSTER_CELERY_BROKER_URL"},
                                            "backend": {"env": "DAGSTER_CELERY_BACKEND_URL"},
                                            "config_source": {**launcher.get("configSource", {}), **queue.get("configSource", {})}}}}
    status = f'dagster-celery status -A dagster_celery_k8s.app -y {config_path} | grep "${{HOSTNAME}}:.*OK"'
    container = {
        "name": "dagster", "image": _image(launcher["image"]), "imagePullPolicy": launcher["image"]["pullPolicy"],
        "command": ["dagster-celery"],
        "args": ["worker", "start", "-A", "dagster_celery_k8s.app", "-y", config_path, "-q", queue["name"]],
        "env": [_pg_password(values)],
        "envFrom": [{"configMapRef": {"name": f"{RELEASE}-celery-worker-env"}},
                    {"secretRef": {"name": values["global"]["celeryConfigSecretName"]}},
                    *({"secretRef": {"name": s["name"]}} for s in launcher.get("envSecrets", []))],
        "volumeMounts": [{"name": "dagster-instance", "mountPath": f"{DAGSTER_HOME}/dagster.yaml", "subPath": "dagster.yaml"},
                         {"name": "dagster-celery", "mountPath": config_path, "subPath": "celery.yaml"},
                         *launcher.get("volumeMounts", [])],
        # The chart's exec command with the values' timing, its own defaults where they give none.
        "livenessProbe": {"exec": {"command": ["/bin/sh", "-c", status]}, **LIVENESS_DEFAULTS,
                          **{k: v for k, v in launcher.get("livenessProbe", {}).items() if k in LIVENESS_DEFAULTS}},
        "resources": launcher.get("resources", {}), "securityContext": launcher.get("securityContext", {}),
    }
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{RELEASE}-celery-{queue['name']}", namespace),
         "data": {"celery.yaml": json.dumps(celery_yaml)}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": _meta(f"{RELEASE}-celery-workers-{queue['name']}", namespace, labels={**SELECTOR, "component": "celery"}),
         "spec": {"replicas": queue["replicaCount"], "selector": {"matchLabels": SELECTOR}, "template": {
             "metadata": {"labels": {**SELECTOR, **queue.get("labels", {})}, "annotations": launcher.get("annotations", {})},
             "spec": {"serviceAccountName": SERVICE_ACCOUNT, "securityContext": launcher.get("podSecurityContext", {}),
                      "initContainers": [_secured(_pg_isready(values), launcher)], "containers": [container],
                      "nodeSelector": queue.get("nodeSelector") or launcher.get("nodeSelector", {}),
                      "volumes": [{"name": "dagster-instance", "configMap": {"name": f"{RELEASE}-instance"}},
                                  {"name": "dagster-celery", "configMap": {"name": f"{RELEASE}-celery-{queue['name']}"}},
                                  *launcher.get("volumes", [])]}}}},
    ]


def daemon(values: dict, namespace: str) -> list:
    d = values["dagsterDaemon"]
    labels = {**SELECTOR, "component": "dagster-daemon", "deployment": "daemon"}
    deployments = values["dagster-user-deployments"]["deployments"]
    container = {
        "name": "dagster", "image": _image(d["image"]), "imagePullPolicy": d["image"]["pullPolicy"],
        "command": ["/bin/bash", "-c", "dagster-daemon run -w /dagster-workspace/workspace.yaml"],
        "env": [_pg_password(values), {"name": "DAGSTER_DAEMON_HEARTBEAT_TOLERANCE", "value": "1800"}],
        "envFrom": [{"configMapRef": {"name": f"{RELEASE}-daemon-env"}},
                    {"secretRef": {"name": values["global"]["celeryConfigSecretName"]}}],
        "volumeMounts": [{"name": "dagster-instance", "mountPath": f"{DAGSTER_HOME}/dagster.yaml", "subPath": "dagster.yaml"},
                         {"name": "dagster-workspace-yaml", "mountPath": "/dagster-workspace/"}, *d.get("volumeMounts", [])],
        "resources": d.get("resources", {}), "securityContext": d.get("securityContext", {}),
    }
    return [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(f"{RELEASE}-daemon", namespace, labels=labels),
             "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": labels}, "template": {
                 "metadata": {"labels": labels, "annotations": d.get("annotations", {})},
                 "spec": {"serviceAccountName": SERVICE_ACCOUNT, "securityContext": d.get("podSecurityContext", {}),
                          "initContainers": [_secured(c, d) for c in (_pg_isready(values),
                                                                      *(wait_for_user_code(values, u) for u in deployments))],
                          "containers": [container], "nodeSelector": d.get("nodeSelector", {}),
                          "volumes": [{"name": "dagster-instance", "configMap": {"name": f"{RELEASE}-instance"}},
                                      {"name": "dagster-workspace-yaml", "configMap": {"name": f"{RELEASE}-workspace-yaml"}},
                                      *d.get("volumes", [])]}}}}]


def render(values: dict, namespace: str) -> list:
    """Every object the stand-in renders, in an order a List apply accepts."""
    launcher = values["runLauncher"]["config"]["celeryK8sRunLauncher"]
    deployments = values["dagster-user-deployments"]["deployments"]
    run_image = _image(deployments[0]["image"])
    shared = {**_shared_env(values, namespace, f"{RELEASE}-pipeline-env"), "DAGSTER_K8S_PIPELINE_RUN_IMAGE": run_image,
              "DAGSTER_K8S_PIPELINE_RUN_IMAGE_PULL_POLICY": "Always"}
    workspace = {"load_from": [{"grpc_server": {"host": u["name"], "port": u["port"], "location_name": u["name"]}}
                               for u in deployments]}
    config_maps = {
        f"{RELEASE}-instance": {"dagster.yaml": json.dumps(instance_yaml(values, namespace))},
        f"{RELEASE}-workspace-yaml": {"workspace.yaml": json.dumps(workspace)},
        f"{RELEASE}-pipeline-env": {**shared, **launcher.get("env", {})},
        f"{RELEASE}-celery-worker-env": {**shared, **launcher.get("env", {})},
        f"{RELEASE}-daemon-env": shared,
    }
    return [
        *_rbac(namespace, SERVICE_ACCOUNT, f"{RELEASE}-role"),
        *({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, namespace), "data": data}
          for name, data in config_maps.items()),
        *(o for u in deployments for o in code_server(values, namespace, u)),
        *(o for q in launcher["workerQueues"] for o in celery_workers(values, namespace, q)),
        *daemon(values, namespace),
    ]
