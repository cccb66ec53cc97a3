"""The entry point's checks before the first resource, against a real API server: index.ts runs
(under Pulumi's mocks, as in `pulumi preview`) with kubectl pointed at the control plane, and
stops, registering nothing, when the cluster cannot hold the stack or holds objects the stack did
not create. Each test arranges the cluster it needs."""
from __future__ import annotations

import json

import pytest

from tests.cluster import program, storage

KDE04_CLASS = "local-storage-kde04"
# kde04's data claims (Pulumi.kde04.yaml): two of 100Gi on its class without a provisioner.
KDE04_VOLUMES = ["100Gi", "100Gi"]


def without_class(plane, name: str) -> None:
    plane.kubectl("delete", "storageclass", name, "--ignore-not-found")


def test_deploys_on_a_cluster_that_holds_the_stack(plane):
    storage.provide(plane, KDE04_CLASS, KDE04_VOLUMES)
    result = program.check_cluster(plane, "kde04")
    assert result["error"] is None, result["message"]
    assert result["resources"] > 20


def test_stops_at_a_storage_class_the_cluster_lacks(plane):
    without_class(plane, KDE04_CLASS)
    result = program.check_cluster(plane, "kde04")
    assert result["error"] == "ClusterPreflightError", result["message"]
    assert result["resources"] == 0
    assert program.problem_keys(result) == ["postgresqlVolume.storageClass", "rabbitmqVolume.storageClass"]
    assert 'is "local-storage-kde04", and the cluster has no such StorageClass' in result["problems"][0]["problem"]


def test_stops_at_a_node_the_cluster_lacks(plane):
    storage.provide(plane, KDE04_CLASS, KDE04_VOLUMES)
    result = program.check_cluster(plane, "kde04", {"nodeHostname": {"value": "kde05.idies.jhu.edu"}})
    assert result["error"] == "ClusterPreflightError" and result["resources"] == 0
    # And kde04's local volumes are no use to pods pinned elsewhere.
    assert program.problem_keys(result) == ["nodeHostname", "postgresqlVolume.storageClass", "rabbitmqVolume.storageClass"]
    # The cluster's one node, in a command that runs as pasted.
    assert result["problems"][0]["fix"] == f"pulumi config set nodeHostname {plane.node_name}"
    assert "no free volume of it on kde05.idies.jhu.edu" in result["problems"][1]["problem"]


@pytest.mark.parametrize("free, refused", [
    ([], ["postgresqlVolume.storageClass", "rabbitmqVolume.storageClass"]),  # the takeover's case on kde04
    (["100Gi"], ["rabbitmqVolume.storageClass"]),
    (["100Gi", "50Gi"], ["rabbitmqVolume.storageClass"]),
    (["100Gi", "100Gi"], []),
])
def test_stops_when_a_class_without_provisioner_has_no_free_volume_for_a_claim(plane, free, refused):
    """The manual deployment's claims hold two volumes of kde04's class (reserved for them by their
    claimRef); what else is free decides."""
    without_class(plane, KDE04_CLASS)
    plane.kubectl("delete", "pv", "--all", "--wait=true")
    storage.provide(plane, KDE04_CLASS, free + ["100Gi", "100Gi"])
    held = [f"{KDE04_CLASS}-{len(free)}", f"{KDE04_CLASS}-{len(free) + 1}"]
    for volume, claim in zip(held, ["data-dagster-postgresql-0", "data-dagster-rabbitmq-0"]):
        plane.kubectl("patch", "pv", volume, "--type=merge", "-p", json.dumps(
            {"spec": {"claimRef": {"namespace": "imqcam-dagster", "name": claim}}}))
    result = program.check_cluster(plane, "kde04")
    assert program.problem_keys(result) == refused, result["message"]
    if refused:
        assert result["error"] == "ClusterPreflightError" and result["resources"] == 0
        assert "a class without a provisioner, and no free volume of it on kde04.idies.jhu.edu has 100Gi" in \
            result["problems"][-1]["problem"]
    else:
        assert result["error"] is None, result["message"]


def test_stops_at_claims_without_class_on_a_cluster_without_default(plane):
    without_class(plane, "standard")
    result = program.check_cluster(plane, "local")
    assert program.problem_keys(result) == ["postgresqlVolume.storageClass", "rabbitmqVolume.storageClass"]
    assert "no default StorageClass" in result["problems"][0]["problem"]
    storage.provide(plane, "standard", [], default=True)
    assert program.check_cluster(plane, "local")["error"] is None


def test_stops_at_its_namespace_being_deleted(plane):
    storage.provide(plane, KDE04_CLASS, KDE04_VOLUMES)
    # The stack's own namespace (so the ownership check passes), held in Terminating by a finalizer.
    plane.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "imqcam-dagster", "annotations": {"imqcam-dagster/stack": "imqcam-dagster/kde04"}}}))
    plane.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "held", "namespace": "imqcam-dagster", "finalizers": ["imqcam.test/hold"]}}))
    plane.kubectl("delete", "namespace", "imqcam-dagster", "--wait=false")
    try:
        plane.wait_for("namespace Terminating", lambda: plane.get("namespace", "imqcam-dagster")["status"]["phase"] == "Terminating")
        result = program.check_cluster(plane, "kde04")
        assert program.problem_keys(result) == ["namespace"] and result["resources"] == 0
        assert "is being deleted" in result["problems"][0]["problem"]
    finally:
        plane.kubectl("patch", "configmap", "held", "-n", "imqcam-dagster", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        plane.wait_for("namespace gone", lambda: plane.kubectl("get", "namespace", "imqcam-dagster", check=False).returncode != 0)


@pytest.mark.parametrize("take_over", [False, True])
def test_stops_at_a_namespace_it_did_not_create_unless_taking_over(plane, take_over):
    storage.provide(plane, "standard", [], default=True)
    plane.kubectl("create", "namespace", "dagster")
    try:
        result = program.check_cluster(plane, "local", env={"IMQCAM_TAKE_OVER": "1"} if take_over else None)
        if take_over:
            assert result["error"] is None, result["message"]
        else:
            assert result["error"] == "ClusterOwnershipError" and result["resources"] == 0
            assert program.problem_keys(result) == ["Namespace dagster"]
    finally:
        plane.kubectl("delete", "namespace", "dagster", "--wait=false")
        plane.wait_for("namespace gone", lambda: plane.kubectl("get", "namespace", "dagster", check=False).returncode != 0)
