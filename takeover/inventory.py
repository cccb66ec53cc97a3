"""Step 1: what is on the cluster and in the stack's configuration, read-only.

`gather` returns plain JSON-able data (no secret value: Secrets and env variables by name only)
that the pure `plan.plan` judges. Everything here is `kubectl get`, `helm list`, `helm get values`,
the stack's settings, and read-only queries of the old database.
"""
from __future__ import annotations

import json
from typing import Optional

from . import names, share
from .cluster import CommandError
from .context import Context, describe_summary, summary_to_json

DEFAULT_MOUNT_PATH = "/tmp/imqcam_filesystem_io_data"


def _json_setting(ctx: Context, key: str) -> Optional[object]:
    raw = ctx.cluster.stack_setting(ctx.stack, key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def env_secrets_setting(ctx: Context) -> dict:
    """The stack's envSecrets as {secret: {KEY: placeholder}}: scripts/stackConfig.ts never decrypts."""
    value = _json_setting(ctx, "envSecrets")
    return value if isinstance(value, dict) else {}


def stack_settings(ctx: Context) -> dict:
    io = _json_setting(ctx, "ioVolume") or {}
    env_secrets = env_secrets_setting(ctx)
    return {
        "namespace": ctx.cluster.stack_setting(ctx.stack, "namespace"),
        "dagster_version": ctx.cluster.stack_setting(ctx.stack, "dagsterVersion"),
        "io_source": io_source(io) if isinstance(io, dict) else None,
        "io_mount_path": (io.get("mountPath") if isinstance(io, dict) else None) or DEFAULT_MOUNT_PATH,
        # Names only: stackConfig.ts shows encrypted values as a placeholder.
        "env_secrets_config": {
            name: sorted(keys) if isinstance(keys, dict) else [] for name, keys in env_secrets.items()
        } if isinstance(env_secrets, dict) else {},
    }


def io_source(spec: dict) -> Optional[dict]:
    """Where the IO volume's files are, in the stack's ioVolume or a PersistentVolume's spec alike:
    {"nfs": {server, path}} or {"hostPath": {path}} (the program's two forms), else None."""
    if spec.get("nfs"):
        return {"nfs": {"server": spec["nfs"].get("server"), "path": spec["nfs"].get("path")}}
    if spec.get("hostPath"):
        return {"hostPath": {"path": spec["hostPath"].get("path")}}
    return None


def describe_source(source: Optional[dict]) -> str:
    if source and "nfs" in source:
        return f"NFS {source['nfs']['server']}:{source['nfs']['path']}"
    if source and "hostPath" in source:
        return f"the node's folder {source['hostPath']['path']}"
    return "no NFS share or node folder"


def share_location(source: Optional[dict]) -> str:
    """The share's root as an operator reaches it: server:path, or the node folder's path."""
    if source and "nfs" in source:
        return f"{source['nfs']['server']}:{source['nfs']['path']}"
    return (source or {}).get("hostPath", {}).get("path") or "?"


def _claim(obj: dict) -> dict:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    return {
        "uid": obj["metadata"].get("uid"),
        "phase": status.get("phase"),
        "volume_name": spec.get("volumeName"),
        "storage_class": spec.get("storageClassName"),
        "capacity": (status.get("capacity") or {}).get("storage"),
    }


def _pv(obj: Optional[dict]) -> Optional[dict]:
    if obj is None:
        return None
    spec = obj.get("spec", {})
    ref = spec.get("claimRef") or {}
    return {
        "uid": obj["metadata"].get("uid"),
        "phase": obj.get("status", {}).get("phase"),
        "claim_ref": {"namespace": ref.get("namespace"), "name": ref.get("name")} if ref else None,
        "source": io_source(spec),
        "capacity": (spec.get("capacity") or {}).get("storage"),
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy"),
    }


def pod_ready(pod: dict, container: Optional[str] = None) -> bool:
    status = pod.get("status", {})
    if status.get("phase") != "Running":
        return False
    if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", [])):
        return False
    if container:
        return any(c.get("name") == container and c.get("ready") for c in status.get("containerStatuses", []))
    return True


def _db_pod(pod: Optional[dict]) -> Optional[dict]:
    if pod is None:
        return None
    containers = pod["spec"].get("containers", [])
    chosen = next((c for c in containers if any(e.get("name") == "POSTGRES_USER" for e in c.get("env", []))),
                  containers[0] if containers else {})
    env_names = sorted(e["name"] for e in chosen.get("env", []))
    return {
        "container": chosen.get("name"),
        "phase": pod.get("status", {}).get("phase"),
        "ready": pod_ready(pod, chosen.get("name")),
        "missing_env": [n for n in names.OLD_DB_ENV if n not in env_names],
        "claims": sorted(v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes", [])
                         if "persistentVolumeClaim" in v),
    }


def io_pod(pods: list, claim: str, mount_path: str) -> Optional[dict]:
    """A ready pod that mounts the IO claim at the mount path; the user-code server first."""
    candidates = []
    for pod in pods:
        volumes = {v["name"] for v in pod["spec"].get("volumes", [])
                   if v.get("persistentVolumeClaim", {}).get("claimName") == claim}
        for c in pod["spec"].get("containers", []):
            if any(m["name"] in volumes and m["mountPath"] == mount_path for m in c.get("volumeMounts", [])) \
                    and pod_ready(pod, c["name"]):
                user_code = pod["metadata"].get("labels", {}).get("component") == names.USER_CODE_COMPONENT
                candidates.append((not user_code, pod["metadata"]["name"], c["name"]))
    if not candidates:
        return None
    _, pod_name, container = sorted(candidates)[0]
    return {"pod": pod_name, "container": container}


def _release_env_secrets(values: dict) -> list:
    """Secret names the old release's values attach as envSecrets (user code and run launcher)."""
    found = set()
    for d in (values.get("dagster-user-deployments") or {}).get("deployments") or []:
        found.update(s.get("name") for s in d.get("envSecrets") or [])
    launcher = ((values.get("runLauncher") or {}).get("config") or {}).get("celeryK8sRunLauncher") or {}
    found.update(s.get("name") for s in launcher.get("envSecrets") or [])
    return sorted(n for n in found if n)


def _history(ctx: Context, inv: dict) -> None:
    pod = inv["old_db_pod"]
    if not pod or not pod["ready"] or pod["missing_env"]:
        return
    runner = ctx.history.PodRunner(inv["namespace"], names.OLD_DB_POD, pod["container"])
    try:
        summary = ctx.history.summary(runner)
        in_progress = ctx.history.runs_in_progress(summary)
    except (ctx.history.HistoryError, CommandError) as e:
        inv["history_error"] = str(e)
        return
    inv["history"] = summary_to_json(summary)
    inv["runs_in_progress"] = {str(k): str(v) for k, v in dict(in_progress).items()}
    try:
        inv["run_tag_duplicates"] = ctx.history.run_tag_duplicates(runner)
    except (ctx.history.HistoryError, CommandError) as e:
        inv["history_error"] = str(e)


# Tools the steps after the uninstall need, checked before it: a missing one would otherwise
# leave the namespace without Dagster until it is fixed. (kubectl and helm: the inventory itself.)
PULUMI = (["pulumi", "whoami"], "pulumi is not logged in to a backend (`pulumi login`)")
DOCKER = (["docker", "info", "--format", "{{.ServerVersion}}"],
          "docker cannot reach its daemon; `pulumi up` builds the user-code image with it")
CHECK_STACK = ["ts-node", "--transpile-only", "scripts/checkStack.ts", "--stack"]


def preflight(ctx: Context) -> tuple[list, Optional[dict]]:
    """Everything `pulumi up` would stop at after the uninstall, found now: the program's own checks
    of the stack's settings, its Release values and the cluster (scripts/checkStack.ts), and the
    tools the later steps run; Docker only when `pulumi up` will build an image. With them, who the
    stack will write on the IO share as ({uid, gid}, or None when the settings are not valid)."""
    failed = []
    try:
        check = json.loads(ctx.cluster.run([*CHECK_STACK, ctx.stack], quiet=True))
    except CommandError as e:
        return [f"the program could not check the stack and the cluster: {e}"], None
    for p in check["problems"]:
        failed.append(f"`pulumi up` would stop after the uninstall at {p['key']}: {p['problem']} (fix: {p['fix']})")
    for argv, problem in (PULUMI, *([DOCKER] if check["buildsImages"] else [])):
        try:
            ctx.cluster.run(argv, quiet=True)
        except CommandError as e:
            failed.append(f"{problem}: {e}")
    return failed, check.get("shareWriter")


def gather(ctx: Context) -> dict:
    c = ctx.cluster
    ctx.out("Inventory (read-only) ...")
    failed, writer = preflight(ctx)
    inv = {"stack": ctx.stack, **stack_settings(ctx), "preflight": failed, "share_writer": writer}
    ns = inv["namespace"]
    namespace = c.get("namespace", ns)
    inv["namespace_uid"] = namespace["metadata"].get("uid") if namespace else None
    inv["io_pv"] = _pv(c.get("pv", names.IO_VOLUME))
    inv.update(claims={}, releases=[], release_env_secrets=[], secrets={}, old_db_pod=None, io_pod=None, share_owner=None,
               share_unwritable=None, old_deployments=[], history=None, runs_in_progress={}, history_error=None, run_tag_duplicates=0)
    if namespace is None:
        return inv
    inv["claims"] = {o["metadata"]["name"]: _claim(o) for o in c.list("pvc", ns)}
    inv["releases"] = [{"name": r.get("name"), "chart": r.get("chart"), "status": r.get("status"),
                        "revision": r.get("revision")} for r in c.releases(ns)]
    if any(r["name"] == names.OLD_RELEASE for r in inv["releases"]):
        out = c.run(["helm", "get", "values", names.OLD_RELEASE, "-n", ns, "-o", "json"], quiet=True)
        inv["release_env_secrets"] = _release_env_secrets(json.loads(out or b"{}") or {})
    for secret in names.OLD_SECRETS:
        obj = c.get("secret", secret, ns)
        inv["secrets"][secret] = None if obj is None else sorted((obj.get("data") or {}).keys())
    inv["old_db_pod"] = _db_pod(c.get("pod", names.OLD_DB_POD, ns))
    inv["io_pod"] = io_pod(c.list("pods", ns), names.IO_VOLUME, inv["io_mount_path"])
    inv["share_owner"] = share.read_owner(ctx, ns, inv["io_pod"], inv["io_mount_path"])
    inv["share_unwritable"] = share.read_unwritable(ctx, ns, inv["io_pod"], inv["io_mount_path"], writer)
    inv["old_deployments"] = [{
        "name": d["metadata"]["name"],
        "replicas": d.get("spec", {}).get("replicas", 1),
        "component": d["metadata"].get("labels", {}).get("component"),
        "selector": ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items()),
    } for d in c.list("deployments", ns)]
    _history(ctx, inv)
    if inv["history"]:
        ctx.out(f"  old run history: {describe_summary(inv['history'])}")
    return inv
