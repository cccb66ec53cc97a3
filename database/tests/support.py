"""What the database tests share: databases on the test server, Dagster versions, histories."""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from database import history
from tests.harness import chart_instance
from tests.harness import postgres_server as pg

REPO = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parent

# The manual deployment's database, as the chart's defaults made it.
MANUAL_ROLE = MANUAL_PASSWORD = MANUAL_DB = "test"


def python_for(env_name: str) -> str:
    value = os.environ.get(env_name)
    if not value:
        pytest.exit(f"{env_name} is not set: run these tests with `npm run test:database`", returncode=2)
    return value


@dataclass
class Database:
    """A role and database on the test server, and the environment a pod running it would have."""

    role: str
    password: str
    name: str
    server: pg.PostgresServer

    def env(self, password: str | None = None) -> dict:
        """POSTGRES_* as in the postgres container; PGHOST/PGPORT because the tests' server is on
        loopback TCP, where the pod's scripts use its socket."""
        return {
            "PATH": f"{self.server.bindir}:/usr/bin:/bin",
            "PGHOST": pg.HOST,
            "PGPORT": str(self.server.port),
            "POSTGRES_USER": self.role,
            "POSTGRES_PASSWORD": self.password if password is None else password,
            "POSTGRES_DB": self.name,
        }

    def runner(self, password: str | None = None) -> history.LocalRunner:
        return history.LocalRunner(self.env(password))

    def sql(self, statement: str) -> list[tuple]:
        conn = self.server.superuser_connection(self.name)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


class Dagster:
    """One Dagster version's interpreter, driving database/tests/dagster_history.py and the CLI."""

    def __init__(self, python: str):
        self.python = python
        self.version = subprocess.run(
            [python, "-c", "import importlib.metadata as m; print(m.version('dagster'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()

    def _run(self, home: Path, db: Database, *args: str) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "DAGSTER_HOME": str(home),
            chart_instance.PASSWORD_ENV: db.password,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        proc = subprocess.run([self.python, *args], env=env, capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"Dagster {self.version} {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
        return proc

    def history(self, home: Path, db: Database, *args: str):
        out = self._run(home, db, str(TESTS / "dagster_history.py"), *args).stdout
        return json.loads(out)

    def migrate(self, home: Path, db: Database) -> str:
        """`dagster instance migrate`; returns what it reports after migrating (the schema state)."""
        proc = self._run(home, db, "-m", "dagster", "instance", "migrate")
        output = proc.stdout + proc.stderr
        marker = "Storage schema state after migration:"
        assert marker in output, output
        return output.split(marker, 1)[1]

    @functools.cached_property
    def alembic_head(self) -> str:
        """The schema revision this version's migrations end at."""
        code = (
            "import dagster_postgres.run_storage.run_storage as m\n"
            "from dagster_postgres.utils import pg_alembic_config\n"
            "from alembic.script import ScriptDirectory\n"
            "print(ScriptDirectory.from_config(pg_alembic_config(m.__file__)).get_current_head())\n"
        )
        return subprocess.run([self.python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def dagster_home(path: Path, values: dict, db: Database) -> Path:
    """DAGSTER_HOME with dagster.yaml in the chart's shape for db (telemetry off: tests only)."""
    values = copy.deepcopy(values)
    values["postgresql"]["postgresqlUsername"] = db.role
    values["postgresql"]["postgresqlDatabase"] = db.name
    values["telemetry"] = {"enabled": False}
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text(chart_instance.instance_yaml(values, pg.HOST, db.server.port))
    return path


@dataclass
class History:
    db: Database
    home: Path
    written: list[dict]  # what the writer reported: run ids and statuses
    read: list[dict] | None  # every run with its events, as the writing Dagster read them back


# The manual deployment's dagster.yaml: the chart's shape, user and database `test`, and no
# driver named (its SQLAlchemy, 2.0, read postgresql:// as psycopg2).
MANUAL_VALUES = {"postgresql": {"postgresqlUsername": MANUAL_ROLE, "postgresqlDatabase": MANUAL_DB}}

MANUAL_RUNS = 8


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under folder (hidden ones too) with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _find_process(program: str, marker: str) -> int | None:
    """The pid of a running `program` whose command line contains marker."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and Path(argv[0].decode(errors="replace")).name == program and marker.encode() in b" ".join(argv):
            return int(proc.name)
    return None


def kill_midway(program: str, marker: str, bytes_written, timeout: float = 60) -> int:
    """SIGKILL a running `program` (found by a marker in its command line) once it has written
    some of its output (bytes_written() > 0) and before it finishes. It is run in small steps
    between SIGSTOP and SIGCONT so that the kill lands mid-stream, however fast the machine.
    Returns the bytes written by then; fails if the program finished first."""
    deadline = time.monotonic() + timeout
    pid = None
    while pid is None:
        assert time.monotonic() < deadline, f"{program} ({marker}) never started"
        pid = _find_process(program, marker)
    try:
        os.kill(pid, signal.SIGSTOP)
        while (written := bytes_written()) == 0:
            assert time.monotonic() < deadline, f"{program} wrote nothing in {timeout}s"
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.002)
            os.kill(pid, signal.SIGSTOP)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        raise AssertionError(f"{program} finished before it could be killed midway") from None
    return written


def make_big(db: Database, rows: int = 300_000) -> None:
    """Enough poorly compressible data that pg_dump takes a while to write it."""
    db.sql(
        "CREATE TABLE filler AS SELECT i AS id, md5(i::text) || md5((-i)::text) AS payload "
        f"FROM generate_series(1, {rows}) AS i"
    )
    db.sql(f'ALTER TABLE filler OWNER TO "{db.role}"')


# database/backup.sh as the backup Jobs run it.
BACKUP_SH = REPO / "database" / "backup.sh"


def backup_env(db: Database, share: Path, **overrides) -> dict:
    """The backup container's environment (databaseBackups.ts) for db and a share; None unsets."""
    env = {
        **db.env(),
        "BACKUP_ROOT": str(share),
        "BACKUP_DIR": str(share / "backups" / "postgresql"),
        "BACKUP_NAME": "scheduled",
        "BACKUP_KEEP": "3",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


# The postgres image's /bin/sh is dash (so is Debian's): run the script with it where it exists.
SH = shutil.which("dash") or "sh"


def run_backup(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([SH, str(BACKUP_SH)], env=env, capture_output=True, text=True, timeout=300, check=False)
