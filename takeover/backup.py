"""The run-history backup: a dump on the operator's machine and the same bytes on the NFS share.

The copy goes through a pod that mounts the share (the old user-code server): uploaded under a
`.partial` name, checked by sha256 on the share, and only then renamed, so a dump interrupted
midway never looks like a backup.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import names
from .cluster import CommandError
from .context import Context, Failed, Stop, describe_summary, summary_to_json
from .inventory import share_location
from .share import io_pod_exec

# In the pod: refuse a path that is not a mounted volume (the bytes would land in the container),
# then write the upload and print its sha256.
_SHA256 = r"""sha() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d" " -f1
  else python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; fi
}
"""
UPLOAD = r"""set -eu
mount="$1"; dir="$2"; name="$3"
grep -qF -- " $mount " /proc/mounts || { echo "$mount is not a mounted volume in this pod" >&2; exit 3; }
mkdir -p "$dir"
cat > "$dir/$name.partial"
""" + _SHA256 + 'sha "$dir/$name.partial"\n'
# Then rename it into place and, as the old pod writes as root, hand the dump and the folders made
# for it to the stack's writer ($3:$4), as everything on the share.
FINISH = r"""set -eu
dir="$1"; name="$2"; owner="$3:$4"; mount="$5"
mv -f "$dir/$name.partial" "$dir/$name"
if [ "$(id -u)" = 0 ]; then
    chown "$owner" "$dir/$name"
    d="$dir"; while [ "$d" != "$mount" ] && [ "$d" != / ]; do chown "$owner" "$d"; d="$(dirname "$d")"; done
fi
""" + _SHA256 + 'sha "$dir/$name"\n'
DISCARD = 'rm -f "$1/$2.partial"'


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def old_db_runner(ctx: Context):
    return ctx.history.PodRunner(ctx.namespace, names.OLD_DB_POD, ctx.inventory["old_db_pod"]["container"])


def copy_to_share(ctx: Context, local: Path, sha: str) -> str:
    """Copies `local` into the share's backup folder; returns its path inside the pod."""
    pod = ctx.inventory["io_pod"]
    mount = ctx.inventory["io_mount_path"]
    folder = f"{mount}/{names.SHARE_BACKUP_DIR}"
    exec_ = io_pod_exec(ctx.namespace, pod)
    uploaded = ctx.cluster.run([*exec_, UPLOAD, "sh", mount, folder, local.name], stdin=local,
                               shown=[*exec_, "<upload to $2/$3.partial, print its sha256>", "sh", mount, folder,
                                      local.name],
                               stdin_note=f"stdin: {local}").decode().strip()
    if uploaded != sha:
        ctx.cluster.run([*exec_, DISCARD, "sh", folder, local.name], quiet=True)
        raise Failed(f"the copy on the NFS share has sha256 {uploaded or '(none)'}, the local dump {sha}; "
                     f"the partial copy was removed. Run the same command again to retry.")
    writer = ctx.inventory["share_writer"]
    owner = [str(writer["uid"]), str(writer["gid"]), mount]
    final = ctx.cluster.run([*exec_, FINISH, "sh", folder, local.name, *owner],
                            shown=[*exec_, "<rename $1/$2.partial to $1/$2, give it to $3:$4, print its sha256>", "sh",
                                   folder, local.name, *owner]).decode().strip()
    if final != sha:
        raise Failed(f"{folder}/{local.name} on the NFS share has sha256 {final}, expected {sha}.")
    return f"{folder}/{local.name}"


def take_backup(ctx: Context, reason: str) -> dict:
    """Dumps the old database (retrying if the history moved during the dump) and copies it to the share."""
    runner = old_db_runner(ctx)
    h = ctx.history
    ctx.backup_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        before = h.summary(runner)
        in_progress = h.runs_in_progress(before)
        if in_progress:
            raise Stop("runs are in progress in the old deployment ("
                       + ", ".join(f"{k}: {v}" for k, v in sorted(dict(in_progress).items()))
                       + "). Wait for them to finish, then run the same command again.")
        local = ctx.backup_dir / f"history-{ctx.cluster.clock.stamp()}.dump"
        while local.exists():  # two dumps within one second: never overwrite a backup
            ctx.cluster.clock.sleep(1)
            local = ctx.backup_dir / f"history-{ctx.cluster.clock.stamp()}.dump"
        ctx.out(f"  pg_dump of the old database ({reason}) -> {local}")
        try:
            reported = h.dump(runner, local)
        except (h.HistoryError, CommandError) as e:
            local.unlink(missing_ok=True)
            raise Failed(f"the dump of the old database failed; nothing was changed: {e}") from e
        os.chmod(local, 0o600)
        sha = sha256_file(local)
        if reported and reported != sha:
            raise Failed(f"{local} has sha256 {sha}, but the dump reported {reported}")
        after = h.summary(runner)
        if summary_to_json(after) == summary_to_json(before):
            break
        ctx.out("  the run history changed during the dump; dumping again")
        local.unlink()
    else:
        raise Stop("the old run history kept changing during three dumps; stop what is starting runs and try again")
    share = share_location((ctx.inventory["io_pv"] or {}).get("source"))
    in_pod = copy_to_share(ctx, local, sha)
    relative = in_pod[len(ctx.inventory["io_mount_path"]):]
    record = {
        "local": str(local.resolve()),
        "share": f"{share}{relative}",
        "share_in_pods": in_pod,
        "sha256": sha,
        "summary": summary_to_json(before),
        "at": ctx.cluster.clock.now().isoformat(timespec="seconds"),
    }
    ctx.state.put("backup", record)
    ctx.out(f"  backup of {describe_summary(record['summary'])}, sha256 {sha}:")
    ctx.out(f"    on this machine: {record['local']}")
    ctx.out(f"    on the NFS share: {record['share']} (in pods: {in_pod})")
    return record


def backup_locations(ctx: Context) -> str:
    b = ctx.state.get("backup")
    if not b:
        return "no backup was taken yet"
    return f"the run-history backup is at {b['local']} and {b['share']} (sha256 {b['sha256']})"
