"""What the stack's namespace holds now, read-only: the facts `judge.py` reports on.

Every read is a `kubectl get` or a `kubectl exec` of a command that only reads (df, du, stat,
`dagster --version`, psql's counts). A part that cannot be read is recorded as an error, never
guessed, so the report says what it could not see.
"""
from __future__ import annotations

import base64
import gzip
import json
from typing import Optional

from takeover import inventory, names
from takeover.cluster import Cluster, CommandError

MIGRATION_JOB = names.MIGRATION_JOB_LABEL

# df of the share, du of each folder, then each dump's size, mtime and name; one line each. The
# folders are the program's: compute-logs (values.ts), backups/postgresql (databaseBackups.ts).
SHARE_SCRIPT = r"""set -eu
df -Pk "$1" | sed -n '2s/^/df /p'
for d in compute-logs backups; do [ -d "$1/$d" ] && du -sk "$1/$d" | sed "s|^|du $d |"; done
for f in "$1"/backups/postgresql/*.dump; do [ -e "$f" ] && stat -c 'dump %s %Y %n' "$f"; done
exit 0
"""


class ExecRunner:
    """database.history's runner interface, through the cluster's kubectl (and so its kube context)."""

    def __init__(self, cluster: Cluster, namespace: str, pod: str, container: str):
        self.cluster, self.argv = cluster, ["kubectl", "exec", "-i", "-n", namespace, pod, "-c", container, "--"]

    def run(self, script: str, *, stdin=None, stdout=None, step: str = "command") -> bytes:
        return self.cluster.run([*self.argv, "sh", "-c", script], stdin=stdin, quiet=True)


def _condition(obj: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in obj.get("status", {}).get("conditions", []))


def pods(pod_list: list) -> list:
    out = []
    for pod in pod_list:
        status = pod.get("status", {})
        waiting = [s["state"]["waiting"].get("reason", "") for s in status.get("containerStatuses", []) +
                   status.get("initContainerStatuses", []) if "waiting" in s.get("state", {})]
        owners = pod["metadata"].get("ownerReferences", [])
        out.append({"name": pod["metadata"]["name"], "phase": status.get("phase"), "ready": inventory.pod_ready(pod),
                    "job": next((o["name"] for o in owners if o["kind"] == "Job"), None),
                    "restarts": sum(s.get("restartCount", 0) for s in status.get("containerStatuses", [])),
                    "waiting": sorted(set(filter(None, waiting)))})
    return out


def workloads(cluster: Cluster, ns: str) -> list:
    return [{"kind": o["kind"], "name": o["metadata"]["name"], "replicas": o["spec"].get("replicas", 1),
             "ready": o.get("status", {}).get("readyReplicas", 0)}
            for kind in ("deployments", "statefulsets") for o in cluster.list(kind, ns)]


def _job(job: dict) -> dict:
    result = "failed" if _condition(job, "Failed") else "succeeded" if _condition(job, "Complete") else "running"
    status = job.get("status", {})
    return {"name": job["metadata"]["name"], "result": result,
            "started": status.get("startTime") or job["metadata"].get("creationTimestamp"),
            "labels": job["metadata"].get("labels", {})}


def cronjobs(cluster: Cluster, ns: str) -> tuple[list, list]:
    """The CronJobs, each with its Jobs newest first; and the migration Jobs, newest first."""
    jobs = cluster.list("jobs", ns)
    by_owner: dict = {}
    for job in jobs:
        for owner in job["metadata"].get("ownerReferences", []):
            if owner["kind"] == "CronJob":
                by_owner.setdefault(owner["name"], []).append(_job(job))
    out = []
    for cj in cluster.list("cronjobs", ns):
        name, status = cj["metadata"]["name"], cj.get("status", {})
        out.append({"name": name, "app": cj["metadata"].get("labels", {}).get("app.kubernetes.io/name"),
                    "schedule": cj["spec"].get("schedule"), "suspended": bool(cj["spec"].get("suspend")),
                    "last_schedule": status.get("lastScheduleTime"), "last_success": status.get("lastSuccessfulTime"),
                    "jobs": sorted(by_owner.get(name, []), key=lambda j: j["started"] or "", reverse=True)})
    migrations = sorted((_job(j) for j in jobs if j["metadata"].get("labels", {}).get("app.kubernetes.io/name")
                         == MIGRATION_JOB), key=lambda j: j["started"] or "", reverse=True)
    return out, migrations


def share(cluster: Cluster, ns: str, pod_list: list, mount: str) -> dict:
    """Space on the IO share, per folder, and the backups in it, read in a pod that mounts it."""
    pod = inventory.io_pod(pod_list, names.IO_VOLUME, mount)
    if pod is None:
        return {"error": f"no ready pod mounts the claim {names.IO_VOLUME} at {mount}"}
    try:
        out = cluster.run(["kubectl", "exec", "-n", ns, pod["pod"], "-c", pod["container"], "--", "sh", "-c",
                           SHARE_SCRIPT, "sh", mount], quiet=True).decode()
    except CommandError as e:
        return {"error": str(e), "pod": pod["pod"]}
    facts: dict = {"pod": pod["pod"], "mount": mount, "folders": {}, "dumps": []}
    for line in out.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "df":
            _, size, used, avail, _ = rest.split(None, 4)
            facts.update(size_kb=int(size), used_kb=int(used), available_kb=int(avail))
        elif kind == "du":
            folder, kb, _ = rest.split(None, 2)
            facts["folders"][folder] = int(kb)
        elif kind == "dump":
            size, mtime, path = rest.split(None, 2)
            facts["dumps"].append({"name": path.rsplit("/", 1)[-1], "bytes": int(size), "mtime": int(mtime)})
    facts["dumps"].sort(key=lambda d: d["mtime"], reverse=True)
    return facts


def history(cluster: Cluster, ns: str, history_module) -> dict:
    """The run history's size and runs by status, counted by psql in the database pod."""
    try:
        s = history_module.summary(ExecRunner(cluster, ns, names.NEW_DB_POD, names.NEW_DB_CONTAINER))
    except (CommandError, history_module.HistoryError) as e:
        return {"error": str(e)}
    return {"runs": s.run_count, "by_status": s.runs_by_status, "event_log_rows": s.event_log_rows,
            "schema_revision": s.alembic_version, "database_bytes": s.database_bytes,
            "in_progress": history_module.runs_in_progress(s)}


def dagster_version(cluster: Cluster, ns: str, pod: str, container: str) -> Optional[str]:
    """`dagster --version` where it runs: "dagster, version 1.13.27" -> "1.13.27"; None if unread."""
    try:
        out = cluster.run(["kubectl", "exec", "-n", ns, pod, "-c", container, "--", "dagster", "--version"], quiet=True)
    except CommandError:
        return None
    return out.decode().strip().rsplit(" ", 1)[-1] or None


def running_versions(cluster: Cluster, ns: str) -> dict:
    """The Dagster version each running daemon and code server imports, by pod."""
    versions = {}
    for selector in ("component=dagster-daemon", f"component={names.USER_CODE_COMPONENT}"):
        for pod in cluster.list("pods", ns, selector):
            if inventory.pod_ready(pod):
                container = pod["spec"]["containers"][0]["name"]
                versions[pod["metadata"]["name"]] = dagster_version(cluster, ns, pod["metadata"]["name"], container)
    return versions


def release(cluster: Cluster, ns: str) -> Optional[dict]:
    """The newest record Helm keeps of the Release (a Secret per revision), or None."""
    records = cluster.list("secrets", ns, f"owner=helm,name={names.RELEASE}")
    if not records:
        return None
    newest = max(records, key=lambda s: int(s["metadata"]["labels"].get("version", "0")))
    labels = newest["metadata"]["labels"]
    chart = None
    try:  # Helm's payload: base64 of gzip'd JSON, inside the Secret's own base64
        payload = base64.b64decode(base64.b64decode(newest["data"]["release"]))
        body = json.loads(gzip.decompress(payload) if payload[:2] == b"\x1f\x8b" else payload)
        meta = body["chart"]["metadata"]
        chart = f"{meta['name']}-{meta['version']}"
    except (KeyError, ValueError, OSError):
        pass
    return {"revision": int(labels.get("version", "0")), "status": labels.get("status"), "chart": chart}
