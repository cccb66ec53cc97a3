"""The changes the program treats as a replacement, sent to a real API server as updates: the server
refuses each one, so `pulumi up` could only make them by deleting the object. For the NFS volume
and the claims that delete would drop the data's binding, which is why the program protects them
(protect: true) and the engine stops such an update instead (tests/operations.test.ts)."""
from __future__ import annotations

import json

import pytest

from tests.cluster import program, storage

STACK = "kde04"


@pytest.fixture(scope="module")
def volumes(plane):
    """kde04's namespace, IO volume and claim, and data claims, applied as the program sends them."""
    objs = program.objects(STACK)
    keep = [o for o in objs if o["kind"] in ("Namespace", "PersistentVolume", "PersistentVolumeClaim")]
    storage.provide(plane, "local-storage-kde04", [])
    program.apply(plane, keep)
    return objs


def _refused(plane, obj: dict) -> str:
    result = program.apply(plane, [obj], check=False)
    assert result.returncode != 0, f"the server accepted the change to {obj['kind']}/{obj['metadata']['name']}"
    return result.stderr


@pytest.mark.parametrize("field,value", [("server", "sciserver-fs2"), ("path", "/srv/vc_crypt/IMQCAM/elsewhere")])
def test_a_new_nfs_server_or_path_is_refused(plane, volumes, field, value):
    volume = program.find(volumes, "PersistentVolume", "imqcam-dagster-io-data")
    volume["spec"]["nfs"][field] = value
    assert "spec.persistentvolumesource is immutable after creation" in _refused(plane, volume)
    assert plane.get("pv", "imqcam-dagster-io-data")["spec"]["nfs"] == program.find(
        volumes, "PersistentVolume", "imqcam-dagster-io-data")["spec"]["nfs"]


@pytest.mark.parametrize("claim", ["dagster-postgresql-data", "dagster-rabbitmq-data"])
def test_another_storage_class_for_a_data_claim_is_refused(plane, volumes, claim):
    sent = program.find(volumes, "PersistentVolumeClaim", claim)
    sent["spec"]["storageClassName"] = "nfs-client"
    assert "spec is immutable after creation" in _refused(plane, sent)


def test_the_io_claim_cannot_switch_volumes(plane, volumes):
    sent = program.find(volumes, "PersistentVolumeClaim", "imqcam-dagster-io-data")
    sent["spec"]["volumeName"] = "another-volume"
    assert "spec is immutable after creation" in _refused(plane, sent)


def test_an_object_cannot_move_to_another_namespace(plane, volumes):
    """An update sent for the claim in its namespace, with another namespace in the object: refused.
    (Applied to the new namespace instead, it is a new, empty claim: the old one and its binding stay.)"""
    sent = program.find(volumes, "PersistentVolumeClaim", "dagster-postgresql-data")
    stored = plane.get("pvc", "dagster-postgresql-data", "-n", "imqcam-dagster")
    stored["metadata"]["namespace"] = "imqcam-dagster-2"
    path = f"/api/v1/namespaces/{sent['metadata']['namespace']}/persistentvolumeclaims/dagster-postgresql-data"
    result = plane.kubectl("replace", "--raw", path, "-f", "-", input=json.dumps(stored), check=False)
    assert result.returncode != 0
    assert "does not match the namespace sent on the request" in result.stderr, result.stderr
