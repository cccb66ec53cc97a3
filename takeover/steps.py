"""Steps 2 to 9, each a function of the context (state + cluster), safe to run again.

A step returns "done", or "pending" when it deliberately left something for later (the old
objects without --delete-old). Whatever a step needs to resume (replicas, the Job's name, the
backup's paths) is written to the state file before the change that needs it.
"""
from __future__ import annotations

import os

import base64
import binascii
import shlex
from pathlib import Path

from . import names
from .backup import backup_locations, old_db_runner, sha256_file, take_backup
from .cluster import CommandError
from .context import Context, Failed, Stop, normalized, summary_from_json, summary_to_json
from .inventory import env_secrets_setting
from .migration import run_migration

ROLLOUT_TIMEOUT = "10m"
POD_TIMEOUT = 600
ENCRYPTED = "<encrypted in the stack file>"  # scripts/stackConfig.ts's placeholder for a secure value


# 2. Back up the run history before anything changes, and the old release's values and manifest,
#    which the way back needs (README, "The way back").
def backup(ctx: Context) -> str:
    if not ctx.state.get("backup"):
        take_backup(ctx, "before any change")
    if not ctx.state.get("release_saved"):
        ctx.backup_dir.mkdir(parents=True, exist_ok=True)
        saved = []
        for what, argv in (("values", ["helm", "get", "values", names.OLD_RELEASE, "-n", ctx.namespace, "-o", "yaml"]),
                           ("manifest", ["helm", "get", "manifest", names.OLD_RELEASE, "-n", ctx.namespace])):
            path = ctx.backup_dir / f"release-{names.OLD_RELEASE}-{what}.yaml"
            path.write_bytes(ctx.cluster.run(argv, quiet=True))
            os.chmod(path, 0o600)
            saved.append(str(path.resolve()))
        ctx.state.put("release_saved", saved)
        ctx.out("  the old release's values and manifest, for the way back: " + ", ".join(saved))
    return "done"


# 3. The two fixed-name Secrets' values into the stack's encrypted config.
def _secret_values(ctx: Context, secret: str) -> dict:
    obj = ctx.cluster.get("secret", secret, ctx.namespace)
    if obj is None:
        raise Stop(f"Secret {secret} is gone from {ctx.namespace}; re-create it, then run the same command again")
    values = {}
    for key, encoded in (obj.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Stop(f"the value of {secret}/{key} is not UTF-8 text; set envSecrets.{secret}.{key} by hand with "
                       f"`pulumi config set --secret --path 'envSecrets.{secret}.{key}' --stack {ctx.stack}`, "
                       f"then run this again") from None
    return values


def copy_secrets(ctx: Context) -> str:
    c = ctx.cluster
    for secret, keys in names.OLD_SECRETS.items():
        configured = set(env_secrets_setting(ctx).get(secret) or {})
        if configured - set(keys):
            raise Stop(f"the stack's envSecrets.{secret} has keys {', '.join(sorted(configured - set(keys)))} that "
                       f"Secret {secret} does not have; remove them from the stack's config first")
        if configured == set(keys):
            ctx.out(f"  envSecrets.{secret} already set in the stack with keys {', '.join(keys)}: left as it is")
            continue
        values = _secret_values(ctx, secret)
        if sorted(values) != sorted(keys):
            raise Stop(f"Secret {secret} now has keys {', '.join(sorted(values))}, expected {', '.join(keys)}")
        for key in keys:
            if key in configured:
                continue
            path = f"envSecrets.{secret}.{key}"
            # The value goes on stdin; `pulumi config set` strips exactly one trailing newline.
            c.run(["pulumi", "config", "set", "--secret", "--path", path, "--stack", ctx.stack],
                  stdin=(values[key] + "\n").encode(), stdin_note="value on stdin, from the cluster's Secret")
    encrypted = env_secrets_setting(ctx)
    for secret, keys in names.OLD_SECRETS.items():
        entry = encrypted.get(secret) or {}
        not_encrypted = [k for k in keys if entry.get(k) != ENCRYPTED]
        if not_encrypted:
            raise Failed(f"after `pulumi config set`, envSecrets.{secret} keys {', '.join(not_encrypted)} are not "
                         f"encrypted in Pulumi.{ctx.stack}.yaml; check the stack file")
    return "done"


# 4. Uninstall the old release; its claims stay.
def _old_release_present(ctx: Context) -> bool:
    return any(r.get("name") == names.OLD_RELEASE for r in ctx.cluster.releases(ctx.namespace))


def _freeze_old_deployment(ctx: Context) -> None:
    """Stops what can start a run, then makes sure the backup still holds every run."""
    frozen = ctx.state.get("frozen") or {}
    for d in ctx.inventory["old_deployments"]:
        if d["component"] in names.RUN_STARTING_COMPONENTS and d["name"] not in frozen:
            frozen[d["name"]] = d["replicas"]
    if not frozen:
        ctx.out(f"  no Deployment labelled component={' or '.join(names.RUN_STARTING_COMPONENTS)}: nothing to stop")
    ctx.state.put("frozen", frozen)
    try:
        for name in frozen:
            ctx.cluster.scale(name, ctx.namespace, 0)
        for d in ctx.inventory["old_deployments"]:
            if d["name"] in frozen:
                ctx.cluster.wait_for(f"the pods of {d['name']} to stop",
                                     lambda s=d["selector"]: not ctx.cluster.list("pods", ctx.namespace, s),
                                     timeout=POD_TIMEOUT)
        runner = old_db_runner(ctx)
        now = ctx.history.summary(runner)
        if ctx.history.runs_in_progress(now):
            raise Stop("a run started in the old deployment after the inventory; its daemon and webserver were "
                       "scaled back. Wait for the run to finish, then run the same command again.")
        if summary_to_json(now) != ctx.state.get("backup")["summary"]:
            ctx.out("  the old run history changed since the backup; taking a new one")
            take_backup(ctx, "the history changed since the first backup")
    except BaseException:
        for name, replicas in frozen.items():
            try:
                ctx.cluster.scale(name, ctx.namespace, replicas)
            except CommandError as e:
                ctx.out(f"  could not scale {name} back to {replicas}: {e}")
        ctx.state.put("frozen", {})
        raise


def _check_kept(ctx: Context) -> None:
    ns, c = ctx.namespace, ctx.cluster
    pv = c.get("pv", names.IO_VOLUME)
    claims = {o["metadata"]["name"]: o for o in c.list("pvc", ns)}
    missing = [f"PersistentVolume {names.IO_VOLUME}"] if pv is None else []
    missing += [f"PersistentVolumeClaim {n}" for n in (names.IO_VOLUME, names.OLD_DB_CLAIM, names.OLD_MQ_CLAIM)
                if n not in claims]
    if missing:
        raise Stop("!!! After `helm uninstall`, these are GONE: " + ", ".join(missing) + ". Do NOT run `pulumi up`. "
                   "Nothing else will be changed. Check `kubectl get pv,pvc -A` and the volumes' reclaim policy; "
                   + backup_locations(ctx) + ".")


def uninstall(ctx: Context) -> str:
    c, ns = ctx.cluster, ctx.namespace
    if not ctx.state.get("uninstall_started"):
        if not _old_release_present(ctx):
            raise Stop(f"Helm release {names.OLD_RELEASE} vanished from {ns} before the takeover uninstalled it; "
                       f"find out who removed it")
        _freeze_old_deployment(ctx)
        ctx.state.put("uninstall_started", c.clock.now().isoformat(timespec="seconds"))
    if _old_release_present(ctx):
        c.run(["helm", "uninstall", names.OLD_RELEASE, "-n", ns, "--wait", "--timeout", "10m"])

    def old_db_gone() -> bool:
        pod = c.get("pod", names.OLD_DB_POD, ns)
        return pod is None or all(x["name"] != ctx.inventory["old_db_pod"]["container"]
                                  for x in pod["spec"]["containers"])
    c.wait_for(f"the old pod {names.OLD_DB_POD} to go", old_db_gone, timeout=POD_TIMEOUT)
    _check_kept(ctx)
    ctx.out(f"  the old release is uninstalled; the NFS volume and claims {names.IO_VOLUME}, "
            f"{names.OLD_DB_CLAIM}, {names.OLD_MQ_CLAIM} are still there")
    return "done"


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


STEPS = [
    ("backup", backup),
    ("secrets", copy_secrets),
    ("uninstall", uninstall),
    ("deploy", deploy),
    ("quiesce", quiesce),
    ("restore", restore),
    ("scale-up", scale_up),
    ("old-objects", old_objects),
]
