"""The plan, object by object, and every reason to stop: a pure function of the inventory."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import names, share
from .context import describe_summary
from .inventory import describe_source

ADOPT, KEEP, REPLACE, DELETE_LATER = "adopt", "keep", "replace", "delete later"


@dataclass(frozen=True)
class Row:
    action: str
    kind: str
    name: str
    what: str


def describe_owner(owner: Optional[dict]) -> str:
    """The share's top folder as `stat` saw it: who may write there is the NFS export's to decide."""
    if not owner:
        return "its top folder's owner was not read"
    return f"its top folder belongs to uid {owner['uid']}, gid {owner['gid']} (mode {owner['mode']})"


def describe_writer(inv: dict) -> str:
    """Whether the stack's writer may write everything on the share (share.py's `find`)."""
    writer, unwritable = inv.get("share_writer"), inv.get("share_unwritable")
    if not writer or unwritable is None:
        return "whether the stack's writer may write everything on it was not checked"
    who = f"uid {writer['uid']}, gid {writer['gid']}"
    if unwritable["count"]:
        return f"{unwritable['count']} files and folders on it are not writable by the stack's writer ({who})"
    return f"everything on it is writable by the stack's writer ({who})"


def _check_share_writer(inv: dict, problems: list) -> None:
    """After the switch every pod writes the share as `ioVolume.writer`: what it may not write would
    fail runs, backups and the log pruning, with the old release already gone."""
    writer, unwritable, pod = inv.get("share_writer"), inv.get("share_unwritable"), inv.get("io_pod")
    if not writer or not unwritable or not unwritable["count"] or not pod:
        return
    mount, stack = inv["io_mount_path"], inv["stack"]
    fix = f"`{share.give_to_writer_command(inv['namespace'], pod, mount, writer)}`"
    owner = inv.get("share_owner")
    if owner and owner["uid"] not in ("0", str(writer["uid"])):
        fix += (f", or, to keep the share's owner, make it the writer: `pulumi config set --path 'ioVolume.writer.uid' "
                f"{owner['uid']} --stack {stack} && pulumi config set --path 'ioVolume.writer.gid' {owner['gid']} --stack {stack}`")
    problems.append(
        f"{unwritable['count']} files and folders on the IO share may not be written by uid {writer['uid']}, "
        f"gid {writer['gid']}, who writes there after the takeover (ioVolume.writer; unset, the user-code image's "
        f"user), e.g. {', '.join(unwritable['examples'])}. Runs, backups and the log pruning would fail on them once "
        f"the old release is gone. Give them to that user from the old pod that mounts the share, which runs as root "
        f"(where the NFS export squashes root, run the same chown on the NFS server): {fix}.")


def _check_claim(inv: dict, name: str, purpose: str, problems: list) -> None:
    claim = inv["claims"].get(name)
    if claim is None:
        problems.append(f"PersistentVolumeClaim {name} ({purpose}) was not found in namespace {inv['namespace']}. "
                        f"It is part of the manual deployment; find out where it went before going on "
                        f"(`kubectl get pvc -n {inv['namespace']}`).")
    elif claim["phase"] != "Bound":
        problems.append(f"PersistentVolumeClaim {name} ({purpose}) is {claim['phase']}, not Bound. "
                        f"Check `kubectl describe pvc {name} -n {inv['namespace']}`.")


def _check_io_volume(inv: dict, problems: list) -> None:
    ns, pv, claim = inv["namespace"], inv["io_pv"], inv["claims"].get(names.IO_VOLUME)
    if pv is None:
        problems.append(f"PersistentVolume {names.IO_VOLUME} (the NFS share for job inputs and outputs) was not "
                        f"found. Re-create it from the manual deployment's YAML, then run this again.")
        return
    ref = pv["claim_ref"] or {}
    if ref.get("namespace") != ns or ref.get("name") != names.IO_VOLUME or pv["phase"] != "Bound":
        problems.append(
            f"PersistentVolume {names.IO_VOLUME} is {pv['phase']} with claimRef "
            f"{ref.get('namespace')}/{ref.get('name')}; expected Bound to {ns}/{names.IO_VOLUME}. "
            f"Adopting a volume bound elsewhere could hand the share to the wrong claim; fix the binding first.")
    if claim is not None and claim["volume_name"] != names.IO_VOLUME:
        problems.append(f"PersistentVolumeClaim {names.IO_VOLUME} is bound to volume {claim['volume_name']}, "
                        f"not to the NFS PersistentVolume {names.IO_VOLUME}.")
    if claim is not None and claim["storage_class"]:
        # The program's claim names the empty class; a claim's class cannot change, so `pulumi up`
        # would want to replace the protected claim and fail after the old release is gone.
        problems.append(f"PersistentVolumeClaim {names.IO_VOLUME} has storage class {claim['storage_class']}; "
                        f"the program's IO claim has none (\"\"), and a claim's class cannot change, so "
                        f"`pulumi up` would stop at it after the uninstall. Stop here and ask for the takeover "
                        f"to be extended for this cluster.")
    want, have = inv.get("io_source"), pv.get("source")
    if have != want:
        problems.append(
            f"PersistentVolume {names.IO_VOLUME} points at {describe_source(have)}, but the stack's ioVolume "
            f"is {describe_source(want)}. A volume's source cannot change, so `pulumi up` would replace it. "
            f"Make the stack's ioVolume say what the volume holds.")


def _check_release(inv: dict, problems: list) -> None:
    ns = inv["namespace"]
    release = next((r for r in inv["releases"] if r["name"] == names.OLD_RELEASE), None)
    if release is None:
        found = ", ".join(f"{r['name']} ({r['chart']})" for r in inv["releases"]) or "none"
        problems.append(f"No Helm release {names.OLD_RELEASE} in namespace {ns} (releases there: {found}). "
                        f"The takeover replaces the manual deployment's release; without it there is nothing to "
                        f"take over (on a new cluster, run `pulumi up --stack {inv['stack']}` instead).")
        return
    if release["chart"] != names.OLD_CHART:
        problems.append(f"Helm release {names.OLD_RELEASE} runs chart {release['chart']}, expected "
                        f"{names.OLD_CHART}. This takeover knows only the manual deployment's objects and names; "
                        f"stop here and check what changed.")
    if release["status"] != "deployed":
        problems.append(f"Helm release {names.OLD_RELEASE} is {release['status']}, not deployed. Finish or roll back "
                        f"that operation first (`helm history {names.OLD_RELEASE} -n {ns}`).")
    extra = [s for s in inv["release_env_secrets"] if s not in names.OLD_SECRETS]
    if extra:
        problems.append(f"The old release attaches envSecrets {', '.join(extra)} besides "
                        f"{', '.join(names.OLD_SECRETS)}; the takeover would not carry them. Add them to the "
                        f"stack's envSecrets by hand and to this takeover's names, or remove them from the release.")


def _check_secrets(inv: dict, problems: list) -> None:
    ns = inv["namespace"]
    for secret, keys in names.OLD_SECRETS.items():
        found = inv["secrets"].get(secret)
        if found is None:
            problems.append(f"Secret {secret} was not found in namespace {ns}; the user code needs "
                            f"{', '.join(keys)}. Re-create it as the manual deployment did, then run this again.")
        elif sorted(found) != sorted(keys):
            problems.append(f"Secret {secret} has keys {', '.join(sorted(found)) or '(none)'}; expected exactly "
                            f"{', '.join(keys)}. The takeover copies exactly those keys; decide what the others are "
                            f"for first.")
        configured = inv["env_secrets_config"].get(secret, [])
        stray = [k for k in configured if k not in keys]
        if stray:
            problems.append(f"The stack's envSecrets.{secret} has keys {', '.join(stray)} that Secret {secret} does "
                            f"not have. Remove them (`pulumi config rm --path 'envSecrets.{secret}.{stray[0]}' "
                            f"--stack {inv['stack']}`) or stop here.")


def _check_database(inv: dict, problems: list) -> None:
    ns, pod = inv["namespace"], inv["old_db_pod"]
    if pod is None:
        problems.append(f"The old PostgreSQL pod {names.OLD_DB_POD} was not found in {ns}: the run history cannot "
                        f"be backed up. Bring it back (`kubectl get statefulset -n {ns}`) and run this again.")
        return
    if not pod["ready"]:
        problems.append(f"The old PostgreSQL pod {names.OLD_DB_POD} is {pod['phase']} and not ready; the run history "
                        f"can only be backed up from a running database. Check `kubectl describe pod "
                        f"{names.OLD_DB_POD} -n {ns}`.")
    if pod["missing_env"]:
        problems.append(f"Container {pod['container']} of {names.OLD_DB_POD} has no environment variable "
                        f"{', '.join(pod['missing_env'])}; the backup connects with them.")
    if names.OLD_DB_CLAIM not in pod["claims"]:
        problems.append(f"Pod {names.OLD_DB_POD} does not use claim {names.OLD_DB_CLAIM}; it is not the manual "
                        f"deployment's database.")
    if inv["history_error"]:
        problems.append(f"The old run history could not be read: {inv['history_error']}")
    elif pod["ready"] and not pod["missing_env"]:
        history = inv["history"] or {}
        if not history.get("has_dagster_schema"):
            problems.append(f"The database in {names.OLD_DB_POD} has no Dagster schema; it is not the run history.")
        if inv["run_tag_duplicates"]:
            problems.append(
                f"The old run history has {inv['run_tag_duplicates']} duplicate run_tags rows (same key, value and "
                f"run). Dagster {inv['dagster_version']}'s migration adds a unique index there and would fail on "
                f"them after the uninstall, leaving the index broken. Remove them in the old database first "
                f"(README, \"Duplicate run tags\"), then run this again.")
        if inv["runs_in_progress"]:
            runs = ", ".join(f"{status}: {n}" for status, n in sorted(inv["runs_in_progress"].items()))
            problems.append(f"Runs are in progress in the old deployment ({runs}). Wait for them to finish (or "
                            f"terminate them in the webserver), then run this again.")


def plan(inv: dict) -> tuple[list, list]:
    """(rows, problems): what happens to each object, and why the takeover must not start."""
    problems: list[str] = []
    ns = inv["namespace"]
    if not ns:
        return [], [f"The stack {inv['stack']} has no namespace setting."]
    if inv["namespace_uid"] is None:
        return [], [f"Namespace {ns} was not found on the cluster of the current kube context. The takeover is for "
                    f"the cluster that runs the manual deployment; check `kubectl config current-context`, or run "
                    f"`pulumi up --stack {inv['stack']}` on a new cluster."]
    problems.extend(inv["preflight"])
    _check_release(inv, problems)
    _check_io_volume(inv, problems)
    _check_claim(inv, names.IO_VOLUME, "the NFS share's claim", problems)
    _check_claim(inv, names.OLD_DB_CLAIM, "the old run history", problems)
    _check_claim(inv, names.OLD_MQ_CLAIM, "the old broker's data", problems)
    if names.NEW_DB_CLAIM in inv["claims"]:
        problems.append(f"PersistentVolumeClaim {names.NEW_DB_CLAIM} already exists. The program creates the new "
                        f"database's claim itself and never adopts one; find out what made it before going on.")
    _check_secrets(inv, problems)
    _check_database(inv, problems)
    _check_share_writer(inv, problems)
    if inv["io_pod"] is None:
        problems.append(f"No ready pod mounts claim {names.IO_VOLUME} at {inv['io_mount_path']}; the backup is "
                        f"copied to the NFS share through the user-code server. Check its pod "
                        f"(`kubectl get pods -n {ns} -l component={names.USER_CODE_COMPONENT}`).")

    pv = inv["io_pv"] or {}
    history = describe_summary(inv["history"]) if inv["history"] else "unread"
    version = inv["dagster_version"]
    chart = next((r["chart"] for r in inv["releases"] if r["name"] == names.OLD_RELEASE), "none")
    rows = [
        Row(ADOPT, "Namespace", ns, "the stack takes it over in place (never deleted and re-created)"),
        Row(ADOPT, "PersistentVolume", names.IO_VOLUME,
            f"{describe_source(pv.get('source'))}, {pv.get('capacity')}, reclaim {pv.get('reclaim_policy')}: "
            f"taken over in place, files and binding untouched; {describe_owner(inv.get('share_owner'))}; "
            f"{describe_writer(inv)}"),
        Row(ADOPT, "PersistentVolumeClaim", names.IO_VOLUME, f"taken over in place, still bound to PersistentVolume {names.IO_VOLUME}"),
        Row(KEEP, "PersistentVolumeClaim", names.OLD_DB_CLAIM,
            "the old run history's data stays until the restored history is verified"),
        Row(REPLACE, "HelmRelease", names.OLD_RELEASE,
            f"chart {chart}: backed up, then `helm uninstall`; the program's release {names.OLD_RELEASE} "
            f"(chart {version}) replaces it"),
        Row(REPLACE, "PostgreSQL", names.OLD_DB_POD,
            f"history {history}: dumped, restored into the program's PostgreSQL StatefulSet on claim "
            f"{names.NEW_DB_CLAIM}, migrated to Dagster {version}, verified"),
        Row(REPLACE, "RabbitMQ", "dagster-rabbitmq",
            "the program's broker replaces the chart's; no run is in progress, so no message is lost"),
    ]
    for secret, keys in names.OLD_SECRETS.items():
        rows.append(Row(REPLACE, "Secret", secret,
                        f"keys {', '.join(keys)} -> encrypted stack config envSecrets.{secret} and the program's "
                        f"Secret dagster-{secret}"))
    for secret in names.OLD_SECRETS:
        rows.append(Row(DELETE_LATER, "Secret", secret, "after the new release is healthy (--delete-old)"))
    rows.append(Row(DELETE_LATER, "PersistentVolumeClaim", names.OLD_DB_CLAIM,
                    "after the restored history is verified and the new release is healthy (--delete-old)"))
    rows.append(Row(DELETE_LATER, "PersistentVolumeClaim", names.OLD_MQ_CLAIM,
                    "after the new release is healthy (--delete-old)"))
    return rows, problems


def format_rows(rows: list) -> list:
    width = max((len(r.action) for r in rows), default=0)
    kind_width = max((len(r.kind) for r in rows), default=0)
    return [f"  {r.action:<{width}}  {r.kind:<{kind_width}}  {r.name}: {r.what}" for r in rows]
