"""The command layer: the only place the takeover starts a process.

`Cluster.run` runs one command and returns its stdout, or raises `CommandError` naming the
command and its stderr. Tests hand `Cluster` a fake runner with the same signature. Nothing
secret is ever an argument: values go on stdin, and commands are printed without stdin.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional, Union

Stdin = Union[bytes, Path, None]
# runner(argv, stdin, env, stream) -> stdout; env holds only the variables added to the caller's.
Runner = Callable[[list, Stdin, Optional[dict], bool], bytes]


class CommandError(Exception):
    def __init__(self, argv: list, returncode: int, stderr: str):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        tail = stderr.strip()[-2000:]
        super().__init__(f"`{shlex.join(argv)}` failed (exit {returncode})" + (f":\n{tail}" if tail else ""))


def subprocess_runner(repo_root: Path) -> Runner:
    """Runs commands for real, with the project's node_modules/.bin first on PATH (ts-node)."""
    def run(argv: list, stdin: Stdin, env: Optional[dict], stream: bool) -> bytes:
        full_env = dict(os.environ)
        full_env["PATH"] = f"{repo_root / 'node_modules' / '.bin'}{os.pathsep}{full_env.get('PATH', '')}"
        full_env.update(env or {})
        stdin_file = open(stdin, "rb") if isinstance(stdin, Path) else None
        try:
            proc = subprocess.run(
                argv, cwd=repo_root, env=full_env,
                input=stdin if isinstance(stdin, bytes) else None,
                stdin=stdin_file if stdin_file else (None if isinstance(stdin, bytes) else subprocess.DEVNULL),
                stdout=None if stream else subprocess.PIPE,
                stderr=None if stream else subprocess.PIPE,
            )
        except FileNotFoundError:
            raise CommandError(argv, 127, f"{argv[0]} is not installed or not on PATH") from None
        finally:
            if stdin_file:
                stdin_file.close()
        if proc.returncode != 0:
            stderr = "" if stream else proc.stderr.decode("utf-8", "replace")
            raise CommandError(argv, proc.returncode, stderr or "(its output is above)")
        return b"" if stream else proc.stdout
    return run


class Clock:
    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def stamp(self) -> str:
        """UTC, usable in file names and in Kubernetes names (lower case, no colon)."""
        return self.now().strftime("%Y%m%d-%H%M%S")


class Cluster:
    def __init__(self, runner: Runner, out: Callable[[str], None], clock: Clock):
        self._runner = runner
        self.out = out
        self.clock = clock

    def run(self, argv: list, *, stdin: Stdin = None, env: Optional[dict] = None,
            stream: bool = False, quiet: bool = False, stdin_note: str = "", shown: Optional[list] = None) -> bytes:
        """Runs `argv`; prints it first (or `shown`, a shorter form) unless `quiet`."""
        if not quiet:
            prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
            note = f"  ({stdin_note})" if stdin_note else ""
            self.out(f"  $ {prefix + ' ' if prefix else ''}{shlex.join(shown or argv)}{note}")
        return self._runner(list(argv), stdin, env, stream)

    # kubectl
    def get(self, kind: str, name: str, namespace: Optional[str] = None, *, quiet: bool = True) -> Optional[dict]:
        """One object as JSON, or None when it does not exist."""
        ns = ["-n", namespace] if namespace else []
        out = self.run(["kubectl", "get", kind, name, *ns, "--ignore-not-found", "-o", "json"], quiet=quiet)
        return json.loads(out) if out.strip() else None

    def list(self, kind: str, namespace: str, selector: Optional[str] = None, *, quiet: bool = True) -> list:
        sel = ["-l", selector] if selector else []
        out = self.run(["kubectl", "get", kind, "-n", namespace, *sel, "-o", "json"], quiet=quiet)
        return json.loads(out).get("items", [])

    def scale(self, deployment: str, namespace: str, replicas: int) -> None:
        self.run(["kubectl", "scale", "deployment", deployment, "-n", namespace, f"--replicas={replicas}"])

    # helm
    def releases(self, namespace: str) -> list:
        out = self.run(["helm", "list", "-n", namespace, "--all", "-o", "json"], quiet=True)
        return json.loads(out or b"[]") or []

    # the stack's configuration, as the program reads it (secret values show as a placeholder)
    def stack_setting(self, stack: str, key: str) -> Optional[str]:
        argv = ["ts-node", "--transpile-only", "scripts/stackConfig.ts", stack, key]
        try:
            return self.run(argv, quiet=True).decode().strip()
        except CommandError as e:
            if e.returncode == 2 and "has no setting" in e.stderr:
                return None
            raise

    def wait_for(self, what: str, ready: Callable[[], bool], *, timeout: float, interval: float = 5) -> None:
        """Polls `ready` until it is true; raises TimeoutError naming `what` after `timeout` seconds."""
        deadline = self.clock.now() + _dt.timedelta(seconds=timeout)
        while not ready():
            if self.clock.now() >= deadline:
                raise TimeoutError(f"timed out after {int(timeout)} s waiting for {what}")
            self.clock.sleep(interval)
