"""What the program sends, for the tests against a real API server: every Kubernetes object a stack
creates and the Release values, from one evaluation of the program's own code under Pulumi's mocks
(scripts/objects.ts), plus the helpers that apply them and read them back."""
from __future__ import annotations

import copy
import functools
import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TS_NODE = [str(REPO / "node_modules" / ".bin" / "ts-node"), "--transpile-only"]
# As the Pulumi Kubernetes provider applies: server-side, under a field manager of its own.
FIELD_MANAGER = "pulumi-kubernetes"


def _script(*args: str) -> str:
    return subprocess.run([*TS_NODE, *args], cwd=REPO, check=True, capture_output=True, text=True).stdout


@functools.lru_cache(maxsize=None)
def _evaluation(stack: str) -> str:
    return _script("scripts/objects.ts", "--stack", stack, "--with-release")


def objects(stack: str) -> list:
    """Every object the program creates for `stack`, Secret values replaced by a stand-in."""
    return json.loads(_evaluation(stack))["objects"]


def release_values(stack: str) -> dict:
    """The Release values of the same evaluation (so they name the same Secrets)."""
    return json.loads(_evaluation(stack))["releaseValues"]


def patches(stack: str) -> list:
    """What the program applies to objects the chart renders (server-side apply patches)."""
    return json.loads(_evaluation(stack))["patches"]


def find(objs: list, kind: str, name: str) -> dict:
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"the program sends {len(matches)} {kind} named {name}"
    return copy.deepcopy(matches[0])


def apply(plane, objs: list, check: bool = True) -> subprocess.CompletedProcess:
    """Server-side apply with strict field validation: an unknown or duplicated field is an error."""
    return plane.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--validate=strict",
                         "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}),
                         check=check)


def apply_patch(plane, patch: dict) -> None:
    """A server-side patch of the program's as the provider applies it: under the field manager its
    annotations name, forced when they say so (the annotations themselves are not sent)."""
    body = copy.deepcopy(patch)
    annotations = body["metadata"].pop("annotations")
    plane.kubectl("apply", "--server-side", f"--field-manager={annotations['pulumi.com/patchFieldManager']}",
                  "--validate=strict", *(["--force-conflicts"] if annotations.get("pulumi.com/patchForce") == "true" else []),
                  "-f", "-", input=json.dumps(body))


def read_back(plane, obj: dict) -> dict:
    namespace = obj["metadata"].get("namespace")
    return plane.get(f"{obj['kind'].lower()}.{group(obj)}/{obj['metadata']['name']}",
                     *(["-n", namespace] if namespace else []))


def group(obj: dict) -> str:
    api_version = obj["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


def pod_specs(objs: list):
    """(owner, pod spec) for every pod template the objects carry."""
    for o in objs:
        spec = o.get("spec", {})
        if o["kind"] in ("StatefulSet", "Deployment", "Job"):
            yield o, spec["template"]["spec"]
        elif o["kind"] == "CronJob":
            yield o, spec["jobTemplate"]["spec"]["template"]["spec"]


def secret_references(objs: list) -> set:
    """(namespace, Secret, key or None) for every Secret a pod template reads."""
    refs = set()
    for owner, spec in pod_specs(objs):
        namespace = owner["metadata"]["namespace"]
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((namespace, ref["name"], ref["key"]))
            for source in c.get("envFrom", []):
                if "secretRef" in source:
                    refs.add((namespace, source["secretRef"]["name"], None))
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                refs.add((namespace, volume["secret"]["secretName"], None))
        for pull in spec.get("imagePullSecrets", []):
            refs.add((namespace, pull["name"], None))
    return refs


def release_secret_references(values: dict, namespace: str) -> set:
    """(namespace, Secret, key or None) for every Secret the Release values name: the chart's pods read them."""
    refs = {(namespace, values["global"]["postgresqlSecretName"], "postgresql-password")}
    refs.add((namespace, values["global"]["celeryConfigSecretName"], None))
    for d in values["dagster-user-deployments"]["deployments"]:
        refs.update((namespace, s["name"], None) for s in d.get("envSecrets", []))
    launcher = values["runLauncher"]["config"]["celeryK8sRunLauncher"]
    refs.update((namespace, s["name"], None) for s in launcher.get("envSecrets", []))
    refs.update((namespace, s["name"], None) for s in values.get("imagePullSecrets", []))
    return refs


def check_cluster(plane, stack: str, overrides: dict | None = None, env: dict | None = None,
                  stack_instance: str | None = None) -> dict:
    """The entry point's checks (scripts/checkCluster.ts) against `plane`: those before the first resource, and
    the stack instance's (as the mocks' state has it unless `stack_instance` names another state's id)."""
    argv = [*TS_NODE, "scripts/checkCluster.ts", "--stack", stack, "--overrides", json.dumps(overrides or {}),
            *(["--stack-instance", stack_instance] if stack_instance else [])]
    done = subprocess.run(argv, cwd=REPO, env={**plane.env, **(env or {})}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def problem_keys(result: dict) -> list:
    return sorted(p["key"] for p in result["problems"])
