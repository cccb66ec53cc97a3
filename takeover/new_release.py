"""Steps 5 to 9, after the uninstall: deploy the program, quiesce it, restore and migrate the run
history, scale back up, and deal with the old objects. Each step is safe to run again.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from . import names
from .backup import backup_locations, sha256_file
from .context import POD_TIMEOUT, Context, Failed, Stop, normalized, summary_from_json, summary_to_json
from .migration import run_migration

ROLLOUT_TIMEOUT = "10m"


# 5. Deploy the program, which adopts the namespace, the NFS volume and its claim.
def deploy(ctx: Context) -> str:
    c, inv = ctx.cluster, ctx.inventory
    c.run(["pulumi", "up", "--stack", ctx.stack, "--yes"], env={names.TAKE_OVER_ENV: "1"}, stream=True)
    now = {
        "Namespace " + ctx.namespace: ((c.get("namespace", ctx.namespace) or {}).get("metadata", {}).get("uid"),
                                       inv["namespace_uid"]),
        "PersistentVolume " + names.IO_VOLUME: ((c.get("pv", names.IO_VOLUME) or {}).get("metadata", {}).get("uid"),
                                                (inv["io_pv"] or {}).get("uid")),
        "PersistentVolumeClaim " + names.IO_VOLUME: (
            (c.get("pvc", names.IO_VOLUME, ctx.namespace) or {}).get("metadata", {}).get("uid"),
            inv["claims"][names.IO_VOLUME]["uid"]),
    }
    replaced = [what for what, (uid, before) in now.items() if uid != before]
    if replaced:
        raise Stop("!!! `pulumi up` did not adopt in place: " + ", ".join(replaced) + " has a new uid (or is gone). "
                   "Check the NFS volume's binding with `kubectl get pv,pvc -A` before anything else; "
                   + backup_locations(ctx) + ".")
    return "done"


# 6. Quiesce the new Dagster.
def quiesce(ctx: Context) -> str:
    c, ns = ctx.cluster, ctx.namespace
    deployments = c.list("deployments", ns, names.RELEASE_SELECTOR)
    if not deployments:
        raise Failed(f"no Deployment labelled {names.RELEASE_SELECTOR} in {ns} after `pulumi up`")
    replicas = ctx.state.get("replicas") or {}
    for d in deployments:  # recorded once, before the first scale-down, so a re-run never records 0
        replicas.setdefault(d["metadata"]["name"], d["spec"].get("replicas", 1))
    ctx.state.put("replicas", replicas)
    for d in deployments:
        if d["spec"].get("replicas", 1) != 0:
            c.scale(d["metadata"]["name"], ns, 0)
    for d in deployments:
        selector = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
        c.wait_for(f"the pods of {d['metadata']['name']} to stop",
                   lambda s=selector: not c.list("pods", ns, s), timeout=POD_TIMEOUT)
    ctx.out(f"  scaled to 0: {', '.join(sorted(replicas))} (replicas recorded in {ctx.state.path})")
    return "done"


# 7. Restore, migrate and verify the run history.
def restore(ctx: Context) -> str:
    c, ns, h = ctx.cluster, ctx.namespace, ctx.history
    record = ctx.state.get("backup")
    before = summary_from_json(h, record["summary"])
    r = ctx.state.get("restore") or {}
    ctx.state.put("restore", r)

    def ready() -> bool:
        pod = c.get("pod", names.NEW_DB_POD, ns) or {}
        return any(s.get("name") == names.NEW_DB_CONTAINER and s.get("ready")
                   for s in (pod.get("status") or {}).get("containerStatuses", []))
    c.wait_for(f"the program's PostgreSQL pod {names.NEW_DB_POD}", ready, timeout=POD_TIMEOUT)
    runner = h.PodRunner(ns, names.NEW_DB_POD, names.NEW_DB_CONTAINER)

    if not r.get("restored"):
        current = normalized(h, h.summary(runner))
        if current.run_ids:
            try:
                h.verify(before, current)
            except h.HistoryError:
                raise Stop(f"the new database already holds {len(current.run_ids)} runs that are not the backup's; "
                           f"nothing was restored. Find out where they came from; {backup_locations(ctx)}.") from None
            ctx.out("  the new database already holds the backup's runs (restored before)")
        else:
            dump = Path(record["local"])
            if not dump.exists() or sha256_file(dump) != record["sha256"]:
                raise Stop(f"{dump} is missing or changed; copy it back from {record['share']} "
                           f"(sha256 {record['sha256']}), then run the same command again")
            ctx.out(f"  restoring {dump} into {names.NEW_DB_POD} ...")
            h.restore(runner, dump, log=lambda message: ctx.out(f"  {message}"))
        r["restored"] = True
        ctx.state.save()
    if not r.get("migrated"):
        run_migration(ctx, r)
        r["migrated"] = True
        ctx.state.save()
    after = normalized(h, h.summary(runner))
    try:
        h.verify(before, after)
    except h.HistoryError as e:
        raise Stop(f"the restored run history differs from the backup:\n{e}\nNothing was deleted and the new Dagster "
                   f"stays scaled to 0; the old history's claim {names.OLD_DB_CLAIM} is kept; "
                   f"{backup_locations(ctx)}.") from None
    r["verified"] = summary_to_json(after)
    ctx.state.save()
    ctx.out(f"  verified: {len(after.run_ids)} runs with the same ids and {after.event_log_rows} event log rows, "
            f"as before the switch")
    return "done"


# 8. Scale back to the recorded replicas.
def scale_up(ctx: Context) -> str:
    c, ns = ctx.cluster, ctx.namespace
    replicas = ctx.state.get("replicas") or {}
    for name, count in sorted(replicas.items()):
        c.scale(name, ns, count)
    for name in sorted(replicas):
        c.run(["kubectl", "rollout", "status", f"deployment/{name}", "-n", ns, f"--timeout={ROLLOUT_TIMEOUT}"])
    return "done"


# 9. The old objects: deleted with --delete-old, otherwise listed.
def old_object_commands(namespace: str) -> list:
    return [
        ["kubectl", "delete", "secret", *names.OLD_SECRETS, "-n", namespace, "--ignore-not-found"],
        ["kubectl", "delete", "pvc", names.OLD_DB_CLAIM, names.OLD_MQ_CLAIM, "-n", namespace, "--ignore-not-found"],
    ]


def old_objects(ctx: Context) -> str:
    if not ctx.state.is_done("scale-up"):
        raise Failed("the old objects are only deleted after the new release is healthy (step scale-up)")
    commands = old_object_commands(ctx.namespace)
    volumes = [f"{n} -> {(ctx.inventory['claims'].get(n) or {}).get('volume_name')}"
               for n in (names.OLD_DB_CLAIM, names.OLD_MQ_CLAIM)]
    if not ctx.delete_old:
        ctx.out("  The old Secrets and claims are still there. When you are satisfied, delete them with:")
        for argv in commands:
            ctx.out(f"    {shlex.join(argv)}")
        ctx.out(f"  or run the same take-over command again with --delete-old. Their volumes ({', '.join(volumes)}) "
                f"then follow their reclaim policy.")
        return "pending"
    for argv in commands:
        ctx.cluster.run(argv)
    ctx.out(f"  deleted; the volumes behind the old claims ({', '.join(volumes)}) follow their reclaim policy")
    return "done"
