"""`python3 -m takeover --stack kde04 [--dry-run] [--yes] [--delete-old]`, from the repository root.

Exit codes: 0 done (or the dry run found nothing wrong), 2 stopped because something is not as
expected (before the first change: nothing changed), 1 a step failed part-way (run the same
command again to continue).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Optional

from database import history as run_history

from . import inventory, names, plan
from .cluster import Clock, Cluster, CommandError, Runner, subprocess_runner
from .context import Context, Failed, Stop
from .state import Locked, State
from .steps import STEPS

DESCRIPTIONS = {
    "backup": "2. back up the run history (pg_dump) to this machine and to the NFS share",
    "secrets": "3. copy the two fixed-name Secrets into the stack's encrypted envSecrets",
    "uninstall": f"4. stop the old daemon and webserver, `helm uninstall {names.OLD_RELEASE}`, check the claims stayed",
    "deploy": f"5. `pulumi up` with {names.TAKE_OVER_ENV}=1 (adopts the namespace, NFS volume and claim)",
    "quiesce": "6. scale the new Dagster's Deployments to 0 (replicas recorded)",
    "restore": "7. restore the history into the new PostgreSQL, migrate it, verify it",
    "scale-up": "8. scale the Deployments back and wait for their rollouts",
    "old-objects": "9. delete the old Secrets and claims (--delete-old) or print the commands",
}


def parse(argv: list) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 -m takeover", description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", required=True, help="the Pulumi stack, e.g. kde04")
    p.add_argument("--dry-run", action="store_true", help="inventory and plan only; change nothing")
    p.add_argument("--yes", action="store_true", help="proceed without the interactive confirmation")
    p.add_argument("--delete-old", action="store_true",
                   help="after the new release is healthy, delete the old Secrets and claims")
    return p.parse_args(argv)


def main(argv: Optional[list] = None, *, runner: Optional[Runner] = None, history: Optional[ModuleType] = None,
         clock: Optional[Clock] = None, out: Callable[[str], None] = print,
         ask: Callable[[str], str] = input, repo_root: Optional[Path] = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    root = (repo_root or Path.cwd()).resolve()
    clock = clock or Clock()
    state = State(root / ".takeover" / args.stack, args.stack)
    history = history or run_history
    cluster = Cluster(runner or subprocess_runner(root), out, clock)
    ctx = Context(stack=args.stack, cluster=cluster, history=history, state=state, out=out,
                  delete_old=args.delete_old)
    try:
        if not args.dry_run:
            state.lock()
        return _run(ctx, args, ask)
    except Locked as e:
        out(f"STOP: {e}")
        return 2
    except (CommandError, TimeoutError) as e:
        out(f"ERROR: {e}")
        return 1
    finally:
        state.unlock()


def _inventory_and_plan(ctx: Context, args: argparse.Namespace) -> bool:
    inv = inventory.gather(ctx)
    rows, problems = plan.plan(inv)
    ctx.inventory = inv
    if rows:
        ctx.out(f"\nPlan for stack {args.stack}, namespace {inv['namespace']}:")
        for line in plan.format_rows(rows):
            ctx.out(line)
    if problems:
        ctx.out(f"\nSTOP: the cluster is not as the takeover expects ({len(problems)} problem(s)); this run changed "
                f"nothing.")
        for p in problems:
            ctx.out(f"  - {p}")
        return False
    return True


def _run(ctx: Context, args: argparse.Namespace, ask: Callable[[str], str]) -> int:
    state = ctx.state
    if not state.get("uninstall_started"):
        # Nothing irreversible has happened: look at the cluster afresh every time.
        if not _inventory_and_plan(ctx, args):
            return 2
        if not args.dry_run:
            state.put("inventory", ctx.inventory)
    else:
        ctx.inventory = state.get("inventory")
        ctx.out(f"Resuming the takeover of stack {args.stack}: the old release was uninstalled at "
                f"{state.get('uninstall_started')}; inventory from the state file {state.path}.")
    ctx.out("\nSteps:")
    for name, _ in STEPS:
        ctx.out(f"  [{state.status(name) or 'to do'}] {DESCRIPTIONS[name]}")
    if args.dry_run:
        ctx.out("\nDry run: nothing was changed. Run again without --dry-run to take over.")
        return 0
    if not args.yes:
        try:
            answer = ask(f"\nTake over stack {args.stack} now? Type 'yes' to go on: ").strip()
        except EOFError:  # no terminal: only --yes proceeds
            answer = ""
        if answer != "yes":
            ctx.out("Nothing was changed.")
            return 2
    for name, step in STEPS:
        if state.is_done(name):
            continue
        ctx.out(f"\n== {DESCRIPTIONS[name]}")
        state.mark(name, "started", ctx.cluster.clock.now().isoformat(timespec="seconds"))
        try:
            result = step(ctx)
        except Stop as e:
            state.mark(name, "stopped", ctx.cluster.clock.now().isoformat(timespec="seconds"), str(e))
            ctx.out(f"\nSTOP at step {name}: {e}")
            return 2
        except (Failed, CommandError, TimeoutError, ctx.history.HistoryError) as e:
            state.mark(name, "failed", ctx.cluster.clock.now().isoformat(timespec="seconds"), str(e))
            ctx.out(f"\nFAILED at step {name}: {e}\nProgress is in {state.path}; run the same command again "
                    f"to continue from this step.")
            return 1
        state.mark(name, result, ctx.cluster.clock.now().isoformat(timespec="seconds"))
    backup = state.get("backup")
    ctx.out(f"\nThe takeover of stack {args.stack} is complete. Run-history backup: {backup['local']} and "
            f"{backup['share']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
