"""The labels each kind of pod of the stack really carries, from where each really gets them, for the
NetworkPolicy tests and for the tests' one-shot pods, which stand in for one kind each:

- the program's own pods: their templates in the program's objects;
- the chart's Deployments: what the chart renders (chart_stand_in.py); the webserver, which the
  stand-in does not render, as helm/dagster's templates/helpers/_deployment-webserver.tpl labels it
  (`dagster.selectorLabels` and `component: dagster-webserver`);
- run and step pods: dagster-k8s's own labels for the Jobs the run launcher and the Celery workers
  create (`get_common_labels` and the component each passes).

Role names are those of src/components/parts/networkAccess.ts.
"""
from __future__ import annotations

from dagster_k8s.utils import get_common_labels

from tests.cluster import program
from tests.node import chart_stand_in

LOCATION = "imqcam-example-1"
WEBSERVER = {"app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": chart_stand_in.RELEASE,
             "component": "dagster-webserver"}


def _template(objs: list, kind: str, name: str) -> dict:
    o = program.find(objs, kind, name)
    spec = o["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else o["spec"]
    return dict(spec["template"]["metadata"]["labels"])


def role_labels(objs: list, values: dict, namespace: str) -> dict:
    """{role: labels} for every kind of pod the stack runs."""
    chart = {o["metadata"]["name"]: o for o in chart_stand_in.render(values, namespace) if o["kind"] == "Deployment"}
    chart_labels = lambda name: dict(chart[name]["spec"]["template"]["metadata"]["labels"])  # noqa: E731
    [migration] = [o["metadata"]["name"] for o in objs if o["kind"] == "Job"]
    return {
        "webserver": dict(WEBSERVER),
        "daemon": chart_labels("dagster-daemon"),
        "codeServers": chart_labels(f"dagster-dagster-user-deployments-{LOCATION}"),
        "celeryWorkers": chart_labels("dagster-celery-workers-dagster"),
        "runPods": {**get_common_labels(), "app.kubernetes.io/component": "run_worker"},
        "stepPods": {**get_common_labels(), "app.kubernetes.io/component": "step_worker"},
        "postgresql": _template(objs, "StatefulSet", "dagster-postgresql"),
        "rabbitmq": _template(objs, "StatefulSet", "dagster-rabbitmq"),
        "instanceMigration": _template(objs, "Job", migration),
        "databaseBackups": _template(objs, "CronJob", "dagster-postgresql-backup"),
        "computeLogPruning": _template(objs, "CronJob", "dagster-compute-log-pruning"),
    }


def stand_in_labels(objs: list, values: dict, namespace: str, role: str) -> dict:
    """Labels for a one-shot test pod that connects as `role` does. The chart's ReplicaSets select
    `app.kubernetes.io/name` and `instance` (the Celery workers' those two only, which run and step
    pods carry too): a bare pod carrying both would be adopted, and a pod deleted. So a stand-in of
    a Dagster pod goes without the name; pods are told apart by `instance` and `component`."""
    labels = role_labels(objs, values, namespace)[role]
    if labels.get("app.kubernetes.io/name") in ("dagster", "dagster-user-deployments"):
        labels.pop("app.kubernetes.io/name")
    return labels
