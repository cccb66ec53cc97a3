"""A real PostgreSQL server for the tests: Debian's binaries, a throw-away cluster, loopback only.

The server refuses to run as root, so under root (as in CI) it runs as the `postgres` user that
Debian's package creates. The superuser connects through a Unix socket in the cluster's folder;
everyone else connects over TCP on 127.0.0.1 with a password, as Dagster's pods do.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from tests.harness.ports import free_port

BINDIR_ENV = "IMQCAM_PG_BINDIR"
HOST = "127.0.0.1"


def find_bindir() -> Path:
    """The newest Debian PostgreSQL server folder, or IMQCAM_PG_BINDIR."""
    if os.environ.get(BINDIR_ENV):
        return Path(os.environ[BINDIR_ENV])
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server found under /usr/lib/postgresql; install it with "
            "`apt-get install postgresql` (or set IMQCAM_PG_BINDIR to a folder holding initdb)"
        )
    return Path(candidates[-1]).parent


@dataclass
class PostgresServer:
    root: Path
    port: int
    bindir: Path
    _as_user: list[str]

    @property
    def socket_dir(self) -> str:
        return str(self.root)

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, text=True)

    def superuser_connection(self, dbname: str = "postgres"):
        conn = psycopg2.connect(host=self.socket_dir, port=self.port, user="postgres", dbname=dbname)
        conn.autocommit = True
        return conn

    def create_role_and_database(self, role: str, password: str, database: str) -> None:
        """What the postgres image does on first boot with POSTGRES_USER/PASSWORD/DB."""
        # Not `with conn`: psycopg2 opens a transaction there, and CREATE DATABASE refuses one.
        conn = self.superuser_connection()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)), (password,)
                )
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role))
                )
        finally:
            conn.close()

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start() -> PostgresServer:
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="imqcam-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    root.chmod(0o700)
    server = PostgresServer(root=root, port=free_port(), bindir=bindir, _as_user=as_user)
    data = root / "data"
    server._run(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
        "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync",
    )
    options = (
        f"-c listen_addresses={HOST} -c port={server.port} -c unix_socket_directories={root} "
        "-c fsync=off -c full_page_writes=off"
    )
    try:
        server._run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start"
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
    return server


@contextlib.contextmanager
def running():
    """A server for the length of a `with` block (a pytest fixture's session), removed after."""
    server = start()
    try:
        yield server
    finally:
        server.stop()
