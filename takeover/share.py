"""The IO share as the pod that mounts it sees it: who owns it, and what its new writer may not write.

The manual deployment's pods wrote there as root. After the takeover everything the stack runs
writes there as one non-root user (`ioVolume.writer`, by default the user-code image's), so every
file and folder already there must be writable by that user before the old release goes.
"""
from __future__ import annotations

from typing import Optional

from .cluster import CommandError
from .context import Context


def io_pod_exec(namespace: str, pod: dict) -> list:
    """`kubectl exec` into the pod that mounts the share, for a `sh -c` script and its arguments."""
    return ["kubectl", "exec", "-i", "-n", namespace, pod["pod"], "-c", pod["container"], "--", "sh", "-c"]


# The share's top folder: owner uid:gid and mode.
OWNER = 'stat -c "%u:%g %a" "$1"'

# Everything under the share that uid $2, gid $3 may not write: the first three paths, then how
# many (nothing when there are none). A `find` that fails (a folder it may not read) fails the script.
UNWRITABLE = r"""set -eu
out="$(find "$1" ! \( \( -uid "$2" -perm -u=w \) -o \( -gid "$3" -perm -g=w \) -o -perm -o=w \) -print)"
[ -z "$out" ] || printf '%s\n' "$out" | sed -n '1,3p;$='
"""

# Scripts that only read the share, which a dry run may exec.
READS = (OWNER, UNWRITABLE)


def _read(ctx: Context, namespace: str, pod: Optional[dict], script: str, *args: str) -> Optional[str]:
    """What a read-only script prints in the pod that mounts the share, or None: no pod, or it failed."""
    if pod is None:
        return None
    try:
        return ctx.cluster.run([*io_pod_exec(namespace, pod), script, "sh", *args], quiet=True).decode()
    except CommandError:
        return None


def read_owner(ctx: Context, namespace: str, pod: Optional[dict], mount: str) -> Optional[dict]:
    """{uid, gid, mode} of the share's top folder (`stat`'s `uid:gid mode`), or None when it was not read."""
    out = (_read(ctx, namespace, pod, OWNER, mount) or "").strip()
    if not out:
        return None
    ids, _, mode = out.partition(" ")
    uid, _, gid = ids.partition(":")
    return {"uid": uid, "gid": gid, "mode": mode}


def read_unwritable(ctx: Context, namespace: str, pod: Optional[dict], mount: str,
                    writer: Optional[dict]) -> Optional[dict]:
    """{count, examples} of the files and folders `writer` may not write, or None when not checked."""
    out = _read(ctx, namespace, pod, UNWRITABLE, mount, str(writer["uid"]), str(writer["gid"])) if writer else None
    if out is None:
        return None
    lines = out.splitlines()
    return {"count": int(lines[-1]), "examples": lines[:-1][:3]} if lines else {"count": 0, "examples": []}


def give_to_writer_command(namespace: str, pod: dict, mount: str, writer: dict) -> str:
    """What the operator runs to hand the share to its writer, from the old pod (which runs as root)."""
    return (f"kubectl exec -n {namespace} {pod['pod']} -c {pod['container']} -- "
            f"chown -R {writer['uid']}:{writer['gid']} {mount}")
