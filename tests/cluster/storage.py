"""Storage as the tests' clusters offer it: kde04's StorageClass of pre-made local volumes, and a
default class like kind's. No provisioner runs here, so each class gets volumes made in advance,
as kde04's administrators make them, bound by the controllers when a pod is scheduled."""
from __future__ import annotations

import json

NO_PROVISIONER = "kubernetes.io/no-provisioner"


def storage_class(name: str, default: bool = False) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true" if default else "false"}},
            "provisioner": NO_PROVISIONER, "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Retain"}


def local_volume(name: str, storage_class_name: str, size: str, node: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": storage_class_name,
                     "local": {"path": f"/mnt/disks/{name}"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}


def provide(plane, class_name: str, sizes: list, default: bool = False) -> None:
    """A StorageClass and one local volume per size on the control plane's node."""
    items = [storage_class(class_name, default)] + [
        local_volume(f"{class_name}-{i}", class_name, size, plane.node_name) for i, size in enumerate(sizes)]
    plane.kubectl("apply", "--server-side", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
