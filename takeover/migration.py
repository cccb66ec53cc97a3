"""Re-running the program's own migration Job against the restored history.

`pulumi up` ran `dagster-migrate-<version>` on the new, empty database. After the restore the
very same Job runs again under another name: the copy keeps the image, command, environment,
volumes and placement, and drops what the API server owns or generates.
"""
from __future__ import annotations

import copy
import json

from . import names
from .context import Context, Failed

MIGRATION_TIMEOUT = 60 * 60  # the program's own limit for a migration (src/components/instanceMigration.ts)
GENERATED_LABELS = ("controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name")
GENERATED_ANNOTATION_PREFIXES = ("batch.kubernetes.io/", "pulumi.com/", "meta.helm.sh/")
GENERATED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


def _labels(labels: dict) -> dict:
    return {k: v for k, v in (labels or {}).items() if k not in GENERATED_LABELS}


def _annotations(annotations: dict) -> dict:
    return {k: v for k, v in (annotations or {}).items()
            if k not in GENERATED_ANNOTATIONS and not k.startswith(GENERATED_ANNOTATION_PREFIXES)}


def copy_job(job: dict, name: str) -> dict:
    """A creatable copy of `job` named `name` (pure)."""
    meta = job["metadata"]
    spec = copy.deepcopy(job["spec"])
    spec.pop("selector", None)
    spec.pop("manualSelector", None)
    template_meta = spec.get("template", {}).get("metadata", {})
    template_meta["labels"] = _labels(template_meta.get("labels"))
    template_meta.pop("creationTimestamp", None)
    new_meta = {"name": name, "namespace": meta["namespace"], "labels": _labels(meta.get("labels"))}
    annotations = _annotations(meta.get("annotations"))
    annotations["imqcam-dagster/copy-of"] = meta["name"]
    new_meta["annotations"] = annotations
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": new_meta, "spec": spec}


def _condition(job: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions", []))


def run_migration(ctx: Context, restore_state: dict) -> None:
    c, ns = ctx.cluster, ctx.namespace
    name = restore_state.get("migrate_job")
    existing = c.get("job", name, ns) if name else None
    if existing is not None and _condition(existing, "Failed"):
        c.run(["kubectl", "delete", "job", name, "-n", ns, "--ignore-not-found", "--wait=true"])
        existing = None
    if existing is None:
        source_name = names.migration_job_name(ctx.inventory["dagster_version"])
        source = c.get("job", source_name, ns)
        if source is None:
            raise Failed(f"the program's migration Job {source_name} was not found in {ns}; `pulumi up` creates it. "
                         f"Check `pulumi stack --stack {ctx.stack}` and run the same command again.")
        name = f"dagster-takeover-migrate-{c.clock.stamp()}"
        restore_state["migrate_job"] = name
        ctx.state.save()
        c.run(["kubectl", "create", "-n", ns, "-f", "-"], stdin=json.dumps(copy_job(source, name)).encode(),
              stdin_note=f"stdin: a copy of Job {source_name} named {name}")
    ctx.out(f"  waiting for Job {name} (dagster instance migrate) ...")
    state = {}

    def finished() -> bool:
        job = c.get("job", name, ns) or {}
        state["job"] = job
        return _condition(job, "Complete") or _condition(job, "Failed") or not job

    c.wait_for(f"Job {name}", finished, timeout=MIGRATION_TIMEOUT, interval=5)
    job = state["job"]
    if not job:
        raise Failed(f"Job {name} disappeared before it completed; run the same command again")
    if _condition(job, "Failed"):
        logs = c.run(["kubectl", "logs", f"job/{name}", "-n", ns, "--all-containers=true"], quiet=True)
        ctx.out(f"  logs of Job {name}:")
        for line in logs.decode("utf-8", "replace").splitlines()[-200:]:
            ctx.out(f"    {line}")
        raise Failed(f"the migration Job {name} failed (logs above; the Job is kept: "
                     f"`kubectl describe job {name} -n {ns}`). Running the same command again starts a new one.")
    c.run(["kubectl", "delete", "job", name, "-n", ns, "--ignore-not-found", "--wait=true"])
