"""Pausing Dagster for an upgrade (README, "Pausing schedules, sensors and the run queue"), against a
real API server and the real Helm: the daemon scaled to 0 by hand, then the upgrade's `helm upgrade`
(what `pulumi up` runs when the chart version moves) puts it back at the chart's replicas, so it
starts again only at the new version. A stand-in chart
holds the daemon Deployment as the Dagster chart names and sizes it."""
from __future__ import annotations

NS = "imqcam-dagster"
DAEMON = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: dagster-daemon
spec:
  replicas: 1
  selector:
    matchLabels: {component: dagster-daemon}
  template:
    metadata:
      labels: {component: dagster-daemon}
    spec:
      containers:
        - name: dagster
          image: docker.io/dagster/dagster-celery-k8s:{{ .Chart.Version }}
"""


def daemon(plane) -> dict:
    return plane.get("deployment", "dagster-daemon", "-n", NS)["spec"]


def chart_at(root, version: str):
    chart = root / f"dagster-{version}"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: dagster\nversion: {version}\n")
    (chart / "templates" / "daemon.yaml").write_text(DAEMON)
    return chart


def test_the_upgrade_brings_a_paused_daemon_back_at_the_new_version(plane, tmp_path):
    plane.kubectl("create", "namespace", NS)
    plane.helm("install", "dagster", str(chart_at(tmp_path, "1.13.27")), "-n", NS)
    plane.kubectl("-n", NS, "scale", "deployment/dagster-daemon", "--replicas=0")  # README's pause
    assert daemon(plane)["replicas"] == 0

    upgraded = chart_at(tmp_path, "1.13.28")
    plane.helm("upgrade", "dagster", str(upgraded), "-n", NS)
    spec = daemon(plane)
    assert spec["replicas"] == 1, "Helm's three-way merge puts back the chart's replicas"
    assert spec["template"]["spec"]["containers"][0]["image"].endswith(":1.13.28")
