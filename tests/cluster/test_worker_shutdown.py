"""The Celery workers' grace period against a real API server and the real Helm: the program's patch
(src/components/celeryWorkerShutdown.ts), applied server-side under its own field manager as the
Pulumi provider applies a patch, onto a worker Deployment that `helm install` made; then Helm
upgrades that change the workers' pod template, as a new Dagster version or instance
configuration does, and a rollback. The chart is a stand-in whose worker Deployment has the
Dagster chart's name and container name (the chart's own name, `dagster`) and sets no grace period
and no hook, as the Dagster chart's does not."""
from __future__ import annotations

import json

import pytest

from tests.cluster import program

NS = "imqcam-dagster"
CHART = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: dagster-celery-workers-dagster
spec:
  replicas: 2
  selector:
    matchLabels: {component: celery}
  template:
    metadata:
      labels: {component: celery}
      annotations:
        checksum/dagster-instance: {{ .Values.instanceChecksum | quote }}
    spec:
      containers:
        - name: dagster
          image: docker.io/dagster/dagster-celery-k8s:{{ .Values.version }}
"""


def grace(plane) -> int | None:
    return plane.get("deployment", "dagster-celery-workers-dagster", "-n", NS)["spec"]["template"]["spec"].get(
        "terminationGracePeriodSeconds")


def pre_stop(plane) -> list | None:
    """The worker container's preStop command, or None; the container keeps the chart's image."""
    [container] = plane.get("deployment", "dagster-celery-workers-dagster", "-n", NS)["spec"]["template"]["spec"][
        "containers"]
    assert container["image"].startswith("docker.io/dagster/dagster-celery-k8s:"), container
    return container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")


@pytest.fixture(scope="module")
def workers(plane, tmp_path_factory):
    chart = tmp_path_factory.mktemp("chart") / "dagster"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: dagster\nversion: 1.13.27\n")
    (chart / "templates" / "workers.yaml").write_text(CHART)
    plane.kubectl("create", "namespace", NS)
    plane.helm("install", "dagster", str(chart), "--set", "version=1.13.26,instanceChecksum=a", "--wait", "-n", NS)
    [patch] = program.patches("kde04")
    return chart, patch


def test_the_patch_applies_over_helms_worker_deployment(plane, workers):
    chart, patch = workers
    assert grace(plane) == 30, "Kubernetes' default, which the chart leaves"
    body = json.loads(json.dumps(patch))
    annotations = body["metadata"].pop("annotations")  # read by the provider, not sent
    apply = ["apply", "--server-side", f"--field-manager={annotations['pulumi.com/patchFieldManager']}",
             "--validate=strict", "-f", "-"]
    # Helm's update owns the defaulted 30 s: unforced, the server refuses the patch as a conflict,
    # which is why the program forces it (pulumi.com/patchForce).
    unforced = plane.kubectl(*apply, input=json.dumps(body), check=False)
    assert unforced.returncode != 0 and 'conflict with "helm"' in unforced.stderr, unforced.stderr
    assert annotations.get("pulumi.com/patchForce") == "true"
    assert pre_stop(plane) is None
    plane.kubectl(*apply, "--force-conflicts", input=json.dumps(body))
    assert grace(plane) == patch["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop(plane) == patch["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]


@pytest.mark.parametrize("values", ["version=1.13.27,instanceChecksum=a", "version=1.13.27,instanceChecksum=b"])
def test_helm_upgrades_that_roll_the_workers_keep_it(plane, workers, values):
    chart, patch = workers
    before = plane.get("deployment", "dagster-celery-workers-dagster", "-n", NS)["metadata"]["generation"]
    plane.helm("upgrade", "dagster", str(chart), "--set", values, "--wait", "-n", NS)
    deployment = plane.get("deployment", "dagster-celery-workers-dagster", "-n", NS)
    assert deployment["metadata"]["generation"] > before, "the upgrade changed the workers' pod template"
    assert grace(plane) == patch["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # And the pods the rollout made carry it.
    pods = plane.get("pods", "-n", NS, "-l", "component=celery")["items"]
    newest = [p for p in pods if p["metadata"].get("deletionTimestamp") is None
              and p["metadata"]["annotations"]["checksum/dagster-instance"] == values.split("=")[-1]]
    assert newest and all(p["spec"]["terminationGracePeriodSeconds"] == grace(plane) for p in newest)
    assert pre_stop(plane) == patch["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]


def test_a_helm_rollback_keeps_it(plane, workers):
    chart, patch = workers
    plane.helm("rollback", "dagster", "1", "--wait", "-n", NS)
    assert plane.get("deployment", "dagster-celery-workers-dagster", "-n", NS)["spec"]["template"]["spec"][
        "containers"][0]["image"].endswith(":1.13.26")
    assert grace(plane) == patch["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop(plane) == patch["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
