"""Every Kubernetes object the program creates, for kde04 and for local, sent to a real API server
as the Pulumi Kubernetes provider sends them (server-side apply), with strict field validation;
then what the server and its controllers made of them: read back, claims bound, pods scheduled on
the node and selected by their Services, every Secret a pod reads present with its key.

Pods are faked by kwok (no container runs): Running and Ready here means scheduled onto the node
with every volume bound and every reference resolved, not that the program inside works."""
from __future__ import annotations

import base64
import json

import pytest

from tests.cluster import program, storage
from tests.harness import kube_control_plane

STACKS = ["kde04", "local"]
DEFAULT_CLASS = "standard"  # as kind names its default StorageClass


def _claims_needing_volumes(objs: list) -> dict:
    """{StorageClass: [size, ...]} for the data claims (the IO claim names its volume)."""
    needs: dict = {}
    for o in objs:
        if o["kind"] == "PersistentVolumeClaim" and not o["spec"].get("volumeName"):
            cls = o["spec"].get("storageClassName") or DEFAULT_CLASS
            needs.setdefault(cls, []).append(o["spec"]["resources"]["requests"]["storage"])
    return needs


@pytest.fixture(scope="module", params=STACKS)
def deployed(request):
    stack = request.param
    objs = program.objects(stack)
    with kube_control_plane.running() as plane:
        for cls, sizes in _claims_needing_volumes(objs).items():
            storage.provide(plane, cls, sizes, default=cls == DEFAULT_CLASS)
        applied = program.apply(plane, objs, check=False)
        yield plane, stack, objs, applied


def _namespace(objs: list) -> str:
    return next(o["metadata"]["name"] for o in objs if o["kind"] == "Namespace")


def test_the_server_accepts_every_object_as_sent(deployed):
    plane, stack, objs, applied = deployed
    assert applied.returncode == 0, f"{stack}: server-side apply refused:\n{applied.stderr}"
    assert applied.stdout.count("serverside-applied") == len(objs), applied.stdout


def test_every_object_reads_back_with_what_was_sent(deployed):
    plane, stack, objs, _ = deployed
    for sent in objs:
        stored = program.read_back(plane, sent)
        if sent["kind"] == "Secret":
            # stringData is write-only: it comes back base64-encoded in data, key for key.
            assert {k: base64.b64decode(v).decode() for k, v in stored["data"].items()} == sent["stringData"]
            sent = {k: v for k, v in sent.items() if k != "stringData"}
        missing = _not_kept(sent, stored)
        assert not missing, f"{stack}: {sent['kind']}/{sent['metadata']['name']} lost or changed {missing}"


def _not_kept(sent, stored, at: str = "") -> list:
    """Paths where `stored` does not hold what `sent` said (the server may add, never drop or change).
    An empty value may come back absent: Go's omitempty drops it (a volume's storageClassName "" is
    stored as no class, which means the same for a PersistentVolume)."""
    if stored is None and sent in ("", [], {}):
        return []
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [at]
        return [p for k, v in sent.items() for p in _not_kept(v, stored.get(k), f"{at}.{k}")]
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [at]
        return [p for i, v in enumerate(sent) for p in _not_kept(v, stored[i], f"{at}[{i}]")]
    return [] if sent == stored else [f"{at}: sent {sent!r}, stored {stored!r}"]


def test_applying_again_changes_nothing(deployed):
    """A second `pulumi up` with the same inputs: the server sees no change in any object."""
    plane, stack, objs, _ = deployed
    before = {(o["kind"], o["metadata"]["name"]): program.read_back(plane, o)["metadata"]["resourceVersion"] for o in objs}
    program.apply(plane, objs)
    after = {(o["kind"], o["metadata"]["name"]): program.read_back(plane, o)["metadata"]["resourceVersion"] for o in objs}
    assert after == before


def test_the_io_claim_binds_to_the_io_volume_by_name(deployed):
    plane, stack, objs, _ = deployed
    claim_sent = next(o for o in objs if o["kind"] == "PersistentVolumeClaim" and o["spec"].get("volumeName"))
    volume_name = claim_sent["spec"]["volumeName"]
    namespace = _namespace(objs)
    claim = plane.wait_for(f"claim {claim_sent['metadata']['name']} Bound", lambda: (
        lambda c: c if c.get("status", {}).get("phase") == "Bound" else None)(
        plane.get("pvc", claim_sent["metadata"]["name"], "-n", namespace)), timeout=60)
    assert claim["spec"]["volumeName"] == volume_name
    volume = plane.get("pv", volume_name)
    assert volume["status"]["phase"] == "Bound"
    assert volume["spec"]["claimRef"]["name"] == claim_sent["metadata"]["name"]
    assert volume["spec"]["claimRef"]["namespace"] == namespace
    # The empty class on both sides: no default StorageClass (the local stack's cluster has one) took it.
    assert claim["spec"]["storageClassName"] == "" and volume["spec"].get("storageClassName", "") == ""


def _ready_pod(plane, namespace: str, name: str):
    pod = plane.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False)
    if pod.returncode != 0:
        return None
    obj = json.loads(pod.stdout)
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))
    return obj if obj["status"].get("phase") == "Running" and ready else None


@pytest.mark.parametrize("statefulset", ["dagster-rabbitmq", "dagster-postgresql"])
def test_the_broker_and_the_database_run_on_the_node_and_their_service_selects_them(deployed, statefulset):
    plane, stack, objs, _ = deployed
    namespace = _namespace(objs)
    pod = plane.wait_for(f"pod {statefulset}-0 Running and Ready", lambda: _ready_pod(plane, namespace, f"{statefulset}-0"),
                         timeout=90)
    assert pod["spec"]["nodeName"] == plane.node_name
    # Its data claim bound on that node, to a volume of the class the stack names.
    claim_name = next(v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v)
    claim = plane.get("pvc", claim_name, "-n", namespace)
    assert claim["status"]["phase"] == "Bound"
    sent_claim = program.find(objs, "PersistentVolumeClaim", claim_name)
    assert claim["spec"]["storageClassName"] == (sent_claim["spec"].get("storageClassName") or DEFAULT_CLASS)

    def endpoint():
        slices = plane.get("endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={statefulset}")["items"]
        return [e for s in slices for e in s.get("endpoints") or []
                if e.get("targetRef", {}).get("name") == f"{statefulset}-0" and e["conditions"].get("ready")]
    assert plane.wait_for(f"Service {statefulset} selecting its pod", endpoint, timeout=60)


def test_every_secret_a_pod_or_the_chart_reads_exists_with_its_key(deployed):
    plane, stack, objs, _ = deployed
    namespace = _namespace(objs)
    refs = program.secret_references(objs) | program.release_secret_references(program.release_values(stack), namespace)
    names = {name for _, name, _ in refs}
    assert {"dagster-postgresql-credentials", "dagster-rabbitmq-credentials", "dagster-celery-config"} <= names
    for ns, name, key in sorted(refs, key=str):
        found = plane.kubectl("get", "secret", name, "-n", ns, "-o", "json", check=False)
        assert found.returncode == 0, f"{stack}: Secret {ns}/{name} is read but does not exist"
        if key is not None:
            assert key in json.loads(found.stdout).get("data", {}), f"{stack}: Secret {ns}/{name} has no key {key}"


def test_the_migration_job_is_scheduled_and_completes(deployed):
    """Its pod (backup init container, then the migration) is placed on the node with every volume
    and Secret resolved; kwok then reports it Succeeded, and the Job controller counts it."""
    plane, stack, objs, _ = deployed
    job = next(o for o in objs if o["kind"] == "Job")
    namespace = job["metadata"]["namespace"]

    def complete():
        status = plane.get("job", job["metadata"]["name"], "-n", namespace).get("status", {})
        return status if status.get("succeeded") == 1 else None
    assert plane.wait_for(f"Job {job['metadata']['name']} complete", complete, timeout=90)


def test_pod_security_admits_every_pod_and_every_one_passes_restricted(deployed):
    """The namespace enforces `baseline` (every object above was admitted under it) and warns at
    `restricted`: each pod-carrying object sent again alone (a server-side dry run) shows what
    `restricted` would say of it. Every one of the program's passes it: the database and the broker
    as their images' users, the Jobs as the share's writer."""
    plane, stack, objs, _ = deployed
    namespace = plane.get("namespace", _namespace(objs))
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    warned = {}
    for owner, _ in program.pod_specs(objs):
        done = plane.kubectl("apply", "--server-side", "--dry-run=server", f"--field-manager={program.FIELD_MANAGER}",
                             "-f", "-", input=json.dumps(owner))
        warned[f"{owner['kind']} {owner['metadata']['name']}"] = [
            line for line in done.stderr.splitlines() if "would violate PodSecurity" in line]
    assert len(warned) == 5 and sum(k.startswith("StatefulSet") for k in warned) == 2, warned
    assert not any(warned.values()), warned
    # The check is live: the same Job without its user is held against restricted.
    job = next(o for o, _ in program.pod_specs(objs) if o["kind"] == "Job")
    rootless = json.loads(json.dumps(job))
    for key in ("runAsNonRoot", "runAsUser"):
        rootless["spec"]["template"]["spec"]["securityContext"].pop(key)
    rootless["metadata"]["name"] += "-as-root"
    done = plane.kubectl("apply", "--server-side", "--dry-run=server", f"--field-manager={program.FIELD_MANAGER}",
                         "-f", "-", input=json.dumps(rootless))
    assert '"restricted:latest": runAsNonRoot != true' in done.stderr, done.stderr
