"""`python3 -m status --stack kde04 [--json]` (npm run status), from the repository root.

Read-only: `kubectl get`, and `kubectl exec` of commands that only read, on the stack's kube context
(`kubernetes:context`, else the current one). Exit codes: 0 nothing needs a person, 1 something
does (each with what to do), 2 the stack's settings or the cluster could not be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Optional

from database import history
from takeover import inventory
from takeover.cluster import Clock, Cluster, CommandError, Runner, subprocess_runner
from takeover.context import Context, Stop

from . import judge, read


def on_context(runner: Runner, context: Optional[str]) -> Runner:
    """Every kubectl and helm the report runs, on the stack's kube context."""
    def run(argv, stdin, env, stream):
        if context and argv[0] in ("kubectl", "helm"):
            argv = [argv[0], "--kube-context" if argv[0] == "helm" else "--context", context, *argv[1:]]
        return runner(argv, stdin, env, stream)
    return run


def gather(cluster: Cluster, stack: str, history) -> dict:
    settings = inventory.stack_settings(Context(stack=stack, cluster=cluster, history=history, state=None, out=cluster.out))
    ns = settings["namespace"]
    pods = cluster.list("pods", ns)
    cronjobs, migrations = read.cronjobs(cluster, ns)
    return {"stack": stack, "namespace": ns, "pods": read.pods(pods), "workloads": read.workloads(cluster, ns),
            "cronjobs": cronjobs, "migrations": migrations, "share": read.share(cluster, ns, pods, settings["io_mount_path"]),
            "history": read.history(cluster, ns, history), "versions": read.running_versions(cluster, ns),
            "release": read.release(cluster, ns)}


def main(argv: Optional[list] = None, *, runner: Optional[Runner] = None, clock: Optional[Clock] = None,
         out: Callable[[str], None] = print, repo_root: Optional[Path] = None) -> int:
    p = argparse.ArgumentParser(prog="npm run status --", description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", required=True, help="the Pulumi stack, e.g. kde04")
    p.add_argument("--json", action="store_true", help="the facts and the problems as JSON")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    root = (repo_root or Path.cwd()).resolve()
    clock = clock or Clock()
    runner = runner or subprocess_runner(root)
    try:
        context = Cluster(runner, out, clock).stack_setting(args.stack, "kubernetes:context")
        facts = gather(Cluster(on_context(runner, context), out, clock), args.stack, history)
    except (CommandError, Stop) as e:
        out(f"ERROR: could not read the stack or its cluster: {e}")
        return 2
    problems = judge.findings(facts)
    if args.json:
        out(json.dumps({"facts": facts, "problems": [p.as_dict() for p in problems]}, indent=1))
    else:
        for line in judge.report(facts, problems, clock.now()):
            out(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
