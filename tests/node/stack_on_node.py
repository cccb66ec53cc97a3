"""The kde04 stack on the real node: every object the program builds for kde04 (scripts/objects.ts,
the program's own code under Pulumi's mocks), applied as the Kubernetes provider applies them, with
three differences, each a setting or a stated transform:

- the IO volume is the program's `ioVolume.hostPath` form on a folder of the node (this kernel has
  no NFS client), set through the `ioVolume` setting, owned by a uid that is not root, which
  `ioVolume.writer` names as an operator names the NFS share's owner; the folder is a small file
  system of its own (a tmpfs of SHARE_SIZE), so that a test can fill it as a share fills up;
- the code location is the image built from the project's Dockerfile and lock, pinned by digest
  through the `codeLocations[0].image` setting (nothing is built or pushed by the program);
- CPU requests are divided by CPU_SHARE, and run and step pods ask for less through the
  `runPodResources`/`stepPodResources` settings, so the stack and a run fit the node's 2 CPUs
  (kde04 has more). Limits, memory and everything else are as the program sends them.

Every third-party image is pinned by its stand-in's own digest through the `images` setting, as
an operator pins the real ones (README, "Pinning images by digest").

Secrets carry the mocks' generated test values (`--secret-values`), so pods really log in.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.cluster import program
from tests.harness import real_node
from tests.node import chart_stand_in

NAMESPACE = "imqcam-dagster"
STORAGE_CLASS = "local-storage-kde04"  # Pulumi.kde04.yaml's postgresqlVolume/rabbitmqVolume class
CODE_LOCATION = "imqcam-example-1"
CPU_SHARE = 4
# Who owns the share, as an NFS export would decide, and so the `ioVolume.writer` setting.
SHARE_WRITER = {"uid": 4321, "gid": 4321}
SHARE_SIZE = "128m"
SMALL_POD = {"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "2Gi"}}


@dataclass
class Deployed:
    node: real_node.RealNode
    objects: list
    values: dict
    io_dir: Path
    # What the program applies to objects the chart renders (the Celery workers' grace period).
    patches: list
    namespace: str = NAMESPACE

    def kubectl(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.node.kubectl("-n", self.namespace, *args, **kwargs)

    def find(self, kind: str, name: str) -> dict:
        return program.find(self.objects, kind, name)


references = real_node.references


def user_code_image() -> str:
    """The user-code image as the program deploys a pushed one: repository@sha256:digest."""
    built = references()["user-code"]
    return f"{built['reference'].rsplit(':', 1)[0]}@{built['digest']}"


# The `images` setting's keys, and the stand-in archive (test-images/build.sh) each one names.
PINNED = {"postgresql": "postgres-", "rabbitmq": "rabbitmq-", "busybox": "busybox-", "chartWait": "glibc-dns-testing-",
          "dagster": "dagster"}


def pinned_images() -> dict:
    """`repository:tag@sha256:…` of each stand-in, by the digest it was built with."""
    built = references()
    pins = {}
    for key, name in PINNED.items():
        [image] = [i for n, i in built.items() if n == name or (name.endswith("-") and n.startswith(name))]
        pins[key] = f"{image['reference']}@{image['digest']}"
    return pins


def settings(io_dir: Path, writer: dict | None = SHARE_WRITER) -> dict:
    """The settings the node needs besides kde04's own (see the module's docstring)."""
    return {
        "ioVolume": {"value": {"hostPath": {"path": str(io_dir)}, "size": "5Gi",
                               "mountPath": "/tmp/imqcam_filesystem_io_data", **({"writer": writer} if writer else {})}},
        "codeLocations": {"value": [{"name": CODE_LOCATION, "module": "imqcam", "attribute": "defs", "port": 3030,
                                     "image": user_code_image()}]},
        "runPodResources": {"value": SMALL_POD},
        "stepPodResources": {"value": SMALL_POD},
        "images": {"value": pinned_images()},
        # The API server's one endpoint, as an operator narrows it (README, "Network isolation").
        "network": {"value": {"apiServer": {"cidrs": [f"{real_node.NODE_IP}/32"], "ports": [real_node.API_PORT]}}},
    }


def evaluation(overrides: dict, stack: str = "kde04") -> dict:
    """{objects, releaseValues, patches} of one evaluation of the program for a stack."""
    done = subprocess.run([*program.TS_NODE, "scripts/objects.ts", "--stack", stack, "--with-release",
                           "--secret-values", "--overrides", json.dumps(overrides)],
                          cwd=program.REPO, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def _millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def fit_requests(objs: list) -> list:
    """CPU requests divided by CPU_SHARE; limits kept, so each process may use as much CPU as on
    kde04 (the database and the broker are then Burstable here, not Guaranteed)."""
    objs = copy.deepcopy(objs)
    for _, spec in program.pod_specs(objs):
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            requests = container.get("resources", {}).get("requests", {})
            if "cpu" in requests:
                requests["cpu"] = f"{max(1, _millicores(requests['cpu']) // CPU_SHARE)}m"
    return objs


def local_volumes(node: real_node.RealNode, claims: list) -> list:
    """kde04's no-provisioner class and, per (claim name, size), one local volume on a folder of the
    node, as its administrators make them."""
    items = [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": STORAGE_CLASS},
              "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
              "reclaimPolicy": "Retain"}]
    for claim, size in claims:
        name = f"{STORAGE_CLASS}-{claim}"
        (node.root / "disks" / name).mkdir(parents=True)
        items.append({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": {
            "capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS, "local": {"path": str(node.root / "disks" / name)},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node.node_name]}]}]}}}})
    return items


def claims_of_the_class(objs: list) -> list:
    """(name, size) of each claim of the program's objects on kde04's class without a provisioner."""
    return [(o["metadata"]["name"], o["spec"]["resources"]["requests"]["storage"]) for o in objs
            if o["kind"] == "PersistentVolumeClaim" and o["spec"].get("storageClassName") == STORAGE_CLASS]


def provide_storage(node: real_node.RealNode, objs: list) -> None:
    """kde04's no-provisioner class, and one local volume on the node for each claim of that class."""
    items = local_volumes(node, claims_of_the_class(objs))
    node.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def logs(node: real_node.RealNode, namespace: str, selector: str) -> str:
    """Every container's log of the pods a selector picks, for failure messages."""
    done = node.kubectl("-n", namespace, "logs", "-l", selector, "--all-containers", "--prefix", "--tail=60",
                        check=False)
    return done.stdout + done.stderr


def wait_ready(node: real_node.RealNode, namespace: str, kind_name: str, timeout: int = 300) -> None:
    done = node.kubectl("-n", namespace, "rollout", "status", kind_name, f"--timeout={timeout}s", check=False,
                        timeout=timeout + 30)
    if done.returncode != 0:
        pods = node.kubectl("-n", namespace, "get", "pods", "-o", "wide").stdout
        events = node.kubectl("-n", namespace, "get", "events", "--sort-by=.lastTimestamp").stdout[-3000:]
        # A server that crash-loops says why in its previous container's log.
        previous = node.kubectl("-n", namespace, "logs", kind_name, "--previous", "--all-containers", "--tail=40",
                                check=False) if kind_name.startswith("statefulset/") else None
        said = f"\nits previous container's log:\n{previous.stdout}{previous.stderr}" if previous else ""
        raise AssertionError(f"{kind_name} not ready: {done.stderr}\n{pods}\n{events}{said}")


def run_to_end(node: real_node.RealNode, pod: dict, timeout: int = 300) -> tuple:
    """Runs a one-shot pod (replacing one of its name) and returns (its final phase, its log)."""
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    node.kubectl("-n", namespace, "delete", "pod", name, "--ignore-not-found", "--wait=true")
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))

    def finished():
        phase = node.get("pod", name, "-n", namespace).get("status", {}).get("phase")
        return phase if phase in ("Succeeded", "Failed") else None
    phase = node.wait_for(f"pod {name} to finish", finished, timeout=timeout, interval=1)
    return phase, node.kubectl("-n", namespace, "logs", name).stdout


@contextlib.contextmanager
def port_forward(node: real_node.RealNode, namespace: str, target: str, remote_port: int):
    """`kubectl port-forward` as an operator runs it (inside the node's network namespace, where the
    port opens); yields the local port."""
    proc = subprocess.Popen([*node.wrap, str(node.bin / "kubectl"), "-n", namespace, "port-forward", target,
                             f":{remote_port}"], env=node.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # Forwarding from 127.0.0.1:40123 -> 80
        if not line.startswith("Forwarding from 127.0.0.1:"):
            raise AssertionError(f"kubectl port-forward {target}: {line}{proc.stderr.read() if proc.poll() is not None else ''}")
        yield int(line.split(":")[1].split()[0])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_job(node: real_node.RealNode, namespace: str, name: str, timeout: int = 300) -> dict:
    """Waits until the Job completes and returns it; fails with its pods' logs when it fails."""
    def finished():
        job = node.get("job", name, "-n", namespace)
        conditions = {c["type"]: c["status"] for c in job.get("status", {}).get("conditions", [])}
        if conditions.get("Failed") == "True":
            raise AssertionError(f"Job {name} failed:\n{logs(node, namespace, f'job-name={name}')}")
        return job if conditions.get("Complete") == "True" else None
    return node.wait_for(f"Job {name} to complete", finished, timeout=timeout, interval=1)


def apply_program(node: real_node.RealNode, objs: list, timeout: int = 300) -> None:
    """The program's objects in the engine's order: the migration Job only once the database and
    the broker are ready (it waits for the StatefulSet), everything else at once."""
    namespace = next(o for o in objs if o["kind"] == "Namespace")["metadata"]["name"]
    migration = next(o for o in objs if o["kind"] == "Job")
    program.apply(node, [o for o in objs if o is not migration])
    for server in ("dagster-postgresql", "dagster-rabbitmq"):
        wait_ready(node, namespace, f"statefulset/{server}", timeout=timeout)
    program.apply(node, [migration])
    wait_job(node, namespace, migration["metadata"]["name"], timeout=timeout)


def apply_release(node: real_node.RealNode, values: dict, namespace: str, patches: list) -> list:
    """What the chart renders from the Release values (chart_stand_in.py), then the program's
    patches of it, as the program applies them; returns once every Deployment is ready."""
    objs = fit_requests(chart_stand_in.render(values, namespace))
    program.apply(node, objs)
    for patch in patches:  # after the release, as the program patches it
        program.apply_patch(node, patch)
    for o in objs:
        if o["kind"] == "Deployment":
            wait_ready(node, namespace, f"deployment/{o['metadata']['name']}", timeout=400)
    # The patch rolls the workers once; the first ones, under the chart's template, still consume
    # from the broker until they are killed, and would take a step with them (README, "What a
    # change restarts": roll them when no run is in progress). So: only once they are gone.
    node.wait_for("the pods the patch replaced to go", lambda: not [
        p for p in node.get("pods", "-n", namespace)["items"] if p["metadata"].get("deletionTimestamp")],
        timeout=180, interval=2)
    return objs


def deploy(node: real_node.RealNode) -> Deployed:
    io_dir = node.root / "io"
    io_dir.mkdir()
    # Unmounted with the node's other mounts under its folder when it stops.
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SHARE_SIZE},mode=0755", "tmpfs", str(io_dir)], check=True)
    os.chown(io_dir, SHARE_WRITER["uid"], SHARE_WRITER["gid"])
    result = evaluation(settings(io_dir))
    objs = fit_requests(result["objects"])
    provide_storage(node, objs)
    apply_program(node, objs)
    return Deployed(node=node, objects=objs, values=result["releaseValues"], io_dir=io_dir, patches=result["patches"])
