"""The manual deployment as it stands on kde04, seeded into a control plane: made the way it was made
(kubectl for the namespace, the NFS volume and claim and the two Secrets; `helm install dagster`
for the release), from the takeover's recorded objects (takeover/tests/fixtures).

The release is a stand-in chart named dagster 1.7.5, installed with the real helm and the
recorded values: its templates are the recorded workloads (the PostgreSQL and RabbitMQ
StatefulSets, whose claims data-dagster-*-0 their controllers create, and the Deployments), so
Helm's own release records, `helm list` and `helm get values` are real."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.cluster import storage

FIXTURES = Path(__file__).resolve().parents[2] / "takeover" / "tests" / "fixtures"
NAMESPACE = "imqcam-dagster"
OLD_CLASS = "local-storage-kde04"
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "ownerReferences",
                 "generateName")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _as_created(obj: dict) -> dict:
    """A recorded object as it was sent: without what the server adds."""
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    for f in SERVER_FIELDS:
        obj["metadata"].pop(f, None)
    obj["metadata"].get("annotations", {}).pop("pv.kubernetes.io/bind-completed", None)
    return obj


def _pod_template(pod: dict, drop_volumes: tuple = ()) -> dict:
    spec = copy.deepcopy(pod["spec"])
    for f in ("nodeName", "hostname", "subdomain"):
        spec.pop(f, None)
    # The token volume is the API server's addition; the claim volume comes from the claim template.
    spec["volumes"] = [v for v in spec.get("volumes", []) if not v["name"].startswith("kube-api-access")
                       and v["name"] not in drop_volumes]
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if not m["name"].startswith("kube-api-access")]
    labels = {k: v for k, v in pod["metadata"]["labels"].items()
              if k not in ("controller-revision-hash", "statefulset.kubernetes.io/pod-name", "pod-template-hash")}
    return {"metadata": {"labels": labels}, "spec": spec}


def _claim_template(claim: dict) -> dict:
    spec = {k: v for k, v in claim["spec"].items() if k != "volumeName"}
    return {"metadata": {"name": "data"}, "spec": spec}


def chart_templates(postgresql_password: str) -> list:
    pods = {p["metadata"]["name"]: p for p in fixture("pods.json")["items"]}
    claims = {c["metadata"]["name"]: c for c in fixture("pvcs.json")["items"]}
    workloads = []
    for name in ("dagster-postgresql", "dagster-rabbitmq"):
        template = _pod_template(pods[f"{name}-0"], drop_volumes=("data",))
        workloads.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
                          "spec": {"serviceName": name, "replicas": 1,
                                   "selector": {"matchLabels": template["metadata"]["labels"]}, "template": template,
                                   "volumeClaimTemplates": [_claim_template(claims[f"data-{name}-0"])]}})
    for deployment in fixture("deployments-old.json")["items"]:
        component = deployment["metadata"]["labels"]["component"]
        pod = next(p for p in pods.values() if p["metadata"]["labels"].get("component") == component)
        created = _as_created(deployment)
        template = _pod_template(pod)
        template["metadata"]["labels"] = created["spec"]["template"]["metadata"]["labels"]
        created["spec"]["template"] = template
        workloads.append(created)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dagster-postgresql"},
              "stringData": {"postgresql-password": postgresql_password}}
    # What the chart made beside them, which the pods name: its ServiceAccount and instance ConfigMap.
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dagster"}}
    instance = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dagster-instance"},
                "data": {"dagster.yaml": "# the chart's instance configuration\n"}}
    return workloads + [secret, account, instance]


def write_chart(root: Path, postgresql_password: str) -> Path:
    chart = root / "dagster"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: dagster\nversion: 1.7.5\nappVersion: 1.7.5\n")
    for i, obj in enumerate(chart_templates(postgresql_password)):
        (chart / "templates" / f"{i:02d}-{obj['metadata']['name']}.yaml").write_text(json.dumps(obj, indent=1))
    return chart


def seed(plane, work: Path, postgresql_password: str) -> None:
    """Everything the manual procedure made, in its order, and waits until its pods are Ready."""
    claims = {c["metadata"]["name"]: c for c in fixture("pvcs.json")["items"]}
    # kde04's local volumes for the release's claims, as its administrators made them.
    items = [storage.storage_class(OLD_CLASS)] + [
        storage.local_volume(claims[c]["spec"]["volumeName"], OLD_CLASS, claims[c]["spec"]["resources"]["requests"]["storage"],
                             plane.node_name) for c in ("data-dagster-postgresql-0", "data-dagster-rabbitmq-0")]
    namespace = _as_created(fixture("namespace.json"))
    volume = _as_created(fixture("pv-imqcam-dagster-io-data.json"))
    volume["spec"].pop("claimRef")
    claim = _as_created(claims["imqcam-dagster-io-data"])
    secrets = [_as_created(fixture(f"secret-{n}.json")) for n in ("girder-connection-info", "globus-compute-creds")]
    for s in secrets:
        s["metadata"].pop("annotations", None)
    for obj in items + [namespace, volume, claim, *secrets]:
        plane.kubectl("apply", "-f", "-", input=json.dumps(obj))  # client-side, as the manual steps did
    values = work / "values.json"
    values.write_text(json.dumps(fixture("helm-values.json")))
    try:
        plane.helm("install", "dagster", str(write_chart(work, postgresql_password)), "-n", NAMESPACE,
                   "-f", str(values), "--wait", "--timeout", "3m")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{plane.kubectl('get', 'all,pvc', '-n', NAMESPACE).stdout}") from None
