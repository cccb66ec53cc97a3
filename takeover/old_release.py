"""Steps 2 to 4, while the old release still runs: back up its run history, carry its Secrets into the
stack's encrypted config, uninstall it (its claims stay). Each step is safe to run again.
"""
from __future__ import annotations

import base64
import binascii
import os

from . import names
from .backup import backup_locations, old_db_runner, take_backup
from .cluster import CommandError
from .context import POD_TIMEOUT, Context, Failed, Stop, summary_to_json
from .inventory import env_secrets_setting

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
