"""Where the run history's database steps run: each is a small `sh -c` script, run inside the
database's pod (`kubectl exec`) or, in the tests, locally. The script reads POSTGRES_USER,
POSTGRES_PASSWORD and POSTGRES_DB from the container's environment, so no password is ever on a
command line, and uses the pod's own pg_dump/pg_restore/psql, which match its server. Standard
library only.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import BinaryIO

# libpq reads the password from PGPASSWORD: set it from the container's variable inside the
# script, so it never appears in an argument list (ours, kubectl's or the pod's).
CONNECT = 'PGPASSWORD="$POSTGRES_PASSWORD"; export PGPASSWORD; '
AS_OWNER = '--no-password --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"'
# One psql session reading SQL on stdin, unaligned and quiet, stopping at the first error.
PSQL = CONNECT + f'exec psql -X -q -A -t -v ON_ERROR_STOP=1 {AS_OWNER} -f -'


class HistoryError(Exception):
    """A step failed; the message says which step and what the database tools said."""


def _run(argv: list[str], env: dict | None, step: str, stdin, stdout) -> bytes:
    """Run argv, streaming stdin/stdout through files; raise HistoryError with stderr on failure."""
    data = None
    if stdin is None:
        stdin_arg = subprocess.DEVNULL
    elif isinstance(stdin, (bytes, bytearray)):
        stdin_arg, data = subprocess.PIPE, bytes(stdin)
    else:
        stdin_arg = stdin  # a real file: the child reads it directly, however large
    # stderr to a file, not a pipe: a chatty tool can then never block on a full pipe.
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                argv, env=env, stdin=stdin_arg, stdout=subprocess.PIPE if stdout is None else stdout, stderr=err
            )
        except OSError as exc:
            raise HistoryError(f"{step}: cannot start {argv[0]}: {exc}") from exc
        out, _ = proc.communicate(data)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip() or "(no error output)"
            how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
            raise HistoryError(f"{step} failed ({how}): {message}")
    return out or b""


class LocalRunner:
    """Runs the scripts on this machine with exactly `env` (the tests' stand-in for a pod's
    environment), plus this machine's PATH when env has none."""

    def __init__(self, env: dict):
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}

    def run(self, script: str, *, stdin: bytes | BinaryIO | None = None, stdout: BinaryIO | None = None,
            step: str = "command") -> bytes:
        return _run(["sh", "-c", script], self.env, f"{step} ({self})", stdin, stdout)

    def __str__(self) -> str:
        return f"locally, database {self.env.get('POSTGRES_DB')}"


class PodRunner:
    """Runs the scripts in a container of a pod: `kubectl exec -i ... -- sh -c SCRIPT`."""

    def __init__(self, namespace: str, pod: str, container: str, kubectl: str = "kubectl"):
        self.namespace, self.pod, self.container, self.kubectl = namespace, pod, container, kubectl

    def run(self, script: str, *, stdin: bytes | BinaryIO | None = None, stdout: BinaryIO | None = None,
            step: str = "command") -> bytes:
        argv = [self.kubectl, "exec", "-i", "-n", self.namespace, self.pod, "-c", self.container,
                "--", "sh", "-c", script]
        return _run(argv, None, f"{step} ({self})", stdin, stdout)

    def __str__(self) -> str:
        return f"in pod {self.namespace}/{self.pod}, container {self.container}"
