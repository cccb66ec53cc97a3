"""Carry a Dagster run history from one PostgreSQL to another: summarise, dump and restore (the
commands below), and `verify`, which the takeover calls to compare the summaries before and after.

Every database step is a small `sh -c` script that runs where the database is: inside its pod
(`kubectl exec`), or locally in the tests. The script reads POSTGRES_USER, POSTGRES_PASSWORD and
POSTGRES_DB from the container's environment, so no password is ever on a command line, and it
uses the pod's own pg_dump/pg_restore/psql, which match its server. Dumps stream between the
pod and a file on this machine without being held in memory. Standard library only.

    python3 database/history.py summary --namespace NS --pod POD --container C
    python3 database/history.py dump    --namespace NS --pod POD --container C --backup FILE
    python3 database/history.py restore --namespace NS --pod POD --container C --backup FILE
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# libpq reads the password from PGPASSWORD: set it from the container's variable inside the
# script, so it never appears in an argument list (ours, kubectl's or the pod's).
_CONNECT = 'PGPASSWORD="$POSTGRES_PASSWORD"; export PGPASSWORD; '
_AS_OWNER = '--no-password --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"'

# Dagster's run statuses in which a run is not finished and something may still act on it: the
# daemon would launch a QUEUED run, a worker runs a STARTING/STARTED one, a CANCELING one waits
# for its worker to stop, and SUSPENDED (1.13) waits on external work. Carried into another
# deployment, they would be launched a second time by its daemon or stay "in progress" forever
# with no worker. NOT_STARTED is left out on purpose: such a run was created but never launched
# or queued, and nothing ever picks it up (Dagster calls it the brief window before launching),
# so it is as finished as it will get. MANAGED runs are run outside Dagster's control plane.
IN_PROGRESS_STATUSES = ("QUEUED", "STARTING", "STARTED", "CANCELING", "SUSPENDED")

_CHUNK = 1 << 20


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


@dataclass(frozen=True)
class HistorySummary:
    run_ids: tuple[str, ...]
    runs_by_status: dict[str, int]
    event_log_rows: int
    alembic_version: str | None
    has_dagster_schema: bool
    # Where it was read, for messages only.
    database: str = field(default="", compare=False)
    server_version: str = field(default="", compare=False)
    database_bytes: int = field(default=0, compare=False)  # on disk, for the status report

    @property
    def run_count(self) -> int:
        return len(self.run_ids)

    def describe(self) -> str:
        where = f"database {self.database} (PostgreSQL {self.server_version})"
        if not self.has_dagster_schema:
            return f"{where}: no Dagster tables"
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.runs_by_status.items())) or "none"
        return (f"{where}: {self.run_count} runs ({statuses}), "
                f"{self.event_log_rows} event log rows, schema revision {self.alembic_version}")


# One psql session, JSON out. Any of Dagster's tables marks a Dagster schema (its three storages
# share one database in these deployments); each count only where its table exists.
_SUMMARY_SQL = r"""
SELECT to_regclass('public.runs') IS NOT NULL AS has_runs,
       to_regclass('public.event_logs') IS NOT NULL AS has_events,
       to_regclass('public.alembic_version') IS NOT NULL AS has_alembic \gset
SELECT json_build_object('database', current_database(), 'server_version', current_setting('server_version'),
                         'database_bytes', pg_database_size(current_database()),
                         'has_dagster_schema', :'has_runs'::bool OR :'has_events'::bool OR :'has_alembic'::bool);
\if :has_runs
SELECT json_build_object(
  'run_ids', (SELECT coalesce(json_agg(run_id ORDER BY run_id), '[]') FROM runs),
  'runs_by_status', (SELECT coalesce(json_object_agg(status, n), '{}')
                     FROM (SELECT status, count(*) AS n FROM runs GROUP BY status) AS s));
\endif
\if :has_events
SELECT json_build_object('event_log_rows', (SELECT count(*) FROM event_logs));
\endif
\if :has_alembic
SELECT json_build_object('alembic_version', (SELECT string_agg(version_num, ',') FROM alembic_version));
\endif
"""

_PSQL = _CONNECT + f'exec psql -X -q -A -t -v ON_ERROR_STOP=1 {_AS_OWNER} -f -'


def summary(runner) -> HistorySummary:
    """What the database holds, as counted by psql in the runner."""
    out = runner.run(_PSQL, stdin=_SUMMARY_SQL.encode(), step="reading the run history's summary")
    values: dict = {"run_ids": [], "runs_by_status": {}, "event_log_rows": 0}
    for line in out.decode().splitlines():
        if line.strip():
            values.update(json.loads(line))
    return HistorySummary(
        run_ids=tuple(sorted(values["run_ids"])),
        runs_by_status={k: int(v) for k, v in values["runs_by_status"].items()},
        event_log_rows=int(values["event_log_rows"]),
        alembic_version=values.get("alembic_version"),
        has_dagster_schema=bool(values["has_dagster_schema"]),
        database=values.get("database", ""),
        server_version=values.get("server_version", ""),
        database_bytes=int(values.get("database_bytes", 0)),
    )


# Dagster 1.13's migration (alembic revision 6b7fb194ff9c) adds a unique index on run_tags (key,
# value, run_id) with CREATE UNIQUE INDEX CONCURRENTLY: a duplicate row fails it, half-migrated,
# and leaves the index INVALID, after which a second `dagster instance migrate` reports success
# with no working tag index at all. A fresh 1.13 schema has no such index, so histories written
# by a fresh Dagster may hold duplicates. Counted read-only; 0 where there is no run_tags table.
_RUN_TAG_DUPLICATES_SQL = r"""
SELECT to_regclass('public.run_tags') IS NOT NULL AS has_run_tags \gset
\if :has_run_tags
SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM run_tags GROUP BY key, value, run_id
                                     HAVING count(*) > 1) AS duplicated;
\else
SELECT 0;
\endif
"""

# Removes them, keeping each tag's first row; for README's fix, run only before the migration.
DEDUPLICATE_RUN_TAGS_SQL = ("DELETE FROM run_tags a USING run_tags b WHERE a.key IS NOT DISTINCT FROM b.key "
                            "AND a.value IS NOT DISTINCT FROM b.value AND a.run_id IS NOT DISTINCT FROM b.run_id "
                            "AND a.id > b.id")


def run_tag_duplicates(runner) -> int:
    """Surplus rows in run_tags over (key, value, run_id): what would stop Dagster 1.13's migration."""
    out = runner.run(_PSQL, stdin=_RUN_TAG_DUPLICATES_SQL.encode(), step="counting duplicate run tags")
    return int(out.decode().split()[-1])


def runs_in_progress(summary: HistorySummary) -> dict[str, int]:
    """The runs whose status says they are not finished (see IN_PROGRESS_STATUSES), by status."""
    return {s: n for s, n in summary.runs_by_status.items() if s in IN_PROGRESS_STATUSES and n}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check(runner, dump_file: Path) -> None:
    """Read the whole archive with the runner's pg_restore (to /dev/null). `pg_restore --list`
    alone reads only the table of contents at the start, so it passes a file cut short in its
    data; reading every block catches that."""
    with Path(dump_file).open("rb") as f:
        runner.run("exec pg_restore --file=/dev/null", stdin=f,
                   step=f"checking {dump_file} (pg_restore reading it to its end)")


def dump(runner, dest: Path) -> str:
    """pg_dump -Fc of the runner's database to dest (and dest.sha256); returns the sha256.

    Streams into a hidden temporary file beside dest, checks it, then renames it: dest exists
    only complete and checked. On any failure nothing is left behind. Never overwrites."""
    dest = Path(dest)
    sha_file = dest.with_name(dest.name + ".sha256")
    for existing in (dest, sha_file):
        if existing.exists():
            raise HistoryError(f"{existing} already exists: choose another file name (a backup is never overwritten)")
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    tmp, tmp_sha = Path(tmp_name), Path(tmp_name + ".sha256")
    try:
        with os.fdopen(fd, "wb") as out:
            runner.run(_CONNECT + f"exec pg_dump --format=custom {_AS_OWNER}", stdout=out,
                       step="pg_dump")
            os.fsync(out.fileno())
        check(runner, tmp)
        sha = _sha256(tmp)
        tmp_sha.write_text(f"{sha}  {dest.name}\n")
        os.replace(tmp_sha, sha_file)
        os.replace(tmp, dest)
    except BaseException:
        for leftover in (tmp, tmp_sha):
            leftover.unlink(missing_ok=True)
        if not dest.exists():
            sha_file.unlink(missing_ok=True)
        raise
    return sha


def _check_file(dump_file: Path) -> str:
    """Cheap local checks before the target is touched; returns a note for the operator."""
    if not dump_file.is_file():
        raise HistoryError(f"{dump_file} does not exist")
    with dump_file.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise HistoryError(f"{dump_file} is not a pg_dump custom-format archive (it does not start with PGDMP)")
    sha_file = dump_file.with_name(dump_file.name + ".sha256")
    if not sha_file.exists():
        return f"no {sha_file.name} beside it: not checked against a checksum"
    expected = sha_file.read_text().split()[0]
    actual = _sha256(dump_file)
    if actual != expected:
        raise HistoryError(f"{dump_file} does not match {sha_file.name} (sha256 {actual}, expected {expected}): "
                           "the file is damaged or incomplete; nothing was changed")
    return f"sha256 matches {sha_file.name}"


# Drops the tables a fresh Dagster created, after checking again inside the same transaction
# that they hold no run (nothing can slip in between the check and the drop).
_DROP_EMPTY_SCHEMA_SQL = r"""
BEGIN;
DO $$
DECLARE
  name text;
  n bigint;
BEGIN
  IF to_regclass('public.runs') IS NOT NULL THEN
    EXECUTE 'SELECT count(*) FROM public.runs' INTO n;
    IF n > 0 THEN RAISE EXCEPTION 'the database now holds % runs: not dropping it', n; END IF;
  END IF;
  IF to_regclass('public.event_logs') IS NOT NULL THEN
    EXECUTE 'SELECT count(*) FROM public.event_logs' INTO n;
    IF n > 0 THEN RAISE EXCEPTION 'the database now holds % event log rows: not dropping it', n; END IF;
  END IF;
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', name);
  END LOOP;
  FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS public.%I CASCADE', name);
  END LOOP;
END $$;
COMMIT;
"""

# As the database's own role, so everything restored belongs to it (--no-owner: the dump's
# owner, e.g. role `test`, need not exist here); one transaction, so a failure restores nothing.
_RESTORE = _CONNECT + (
    f"exec pg_restore --no-owner --no-privileges --exit-on-error --single-transaction {_AS_OWNER}"
)


_RESTORED_FROM_SQL = """
CREATE TABLE IF NOT EXISTS imqcam_restored_from (sha256 text PRIMARY KEY, file text NOT NULL,
                                                 restored_at timestamptz NOT NULL DEFAULT now());
INSERT INTO imqcam_restored_from (sha256, file) VALUES ('{sha256}', '{file}') ON CONFLICT DO NOTHING;
"""


def restore(runner, dump_file: Path, *, log=lambda message: None) -> HistorySummary:
    """Restore a dump into the runner's database, which must hold no Dagster run.

    A Dagster schema without runs (a fresh Dagster created its tables) is dropped first. Returns
    the summary of the restored database."""
    dump_file = Path(dump_file)
    log(f"{dump_file}: {_check_file(dump_file)}")
    target = summary(runner)
    if target.run_count or target.event_log_rows:
        raise HistoryError(
            f"{target.database} already holds {target.run_count} Dagster runs and {target.event_log_rows} "
            "event log rows: restoring would mix two histories, so nothing was changed. Restore into "
            "an empty database (or one where Dagster only created its tables)."
        )
    if target.has_dagster_schema:
        log(f"{target.database}: dropping the empty Dagster tables a fresh Dagster created")
        runner.run(_PSQL, stdin=_DROP_EMPTY_SCHEMA_SQL.encode(), step="dropping the empty Dagster tables")
    log(f"{target.database}: restoring {dump_file} ({dump_file.stat().st_size} bytes)")
    try:
        with dump_file.open("rb") as f:
            runner.run(_RESTORE, stdin=f, step=f"pg_restore of {dump_file}")
    except HistoryError as exc:
        dropped = " The empty Dagster tables were dropped before it; Dagster creates them again when it starts."
        raise HistoryError(f"{exc}\nThe restore ran as one transaction: nothing of the dump is in "
                           f"{target.database}.{dropped if target.has_dagster_schema else ''}") from exc
    # backup.sh never prunes a backup whose sha256 is here: it may be the only copy of this history.
    sha = _sha256(dump_file)
    runner.run(_PSQL, stdin=_RESTORED_FROM_SQL.format(sha256=sha, file=dump_file.name.replace("'", "''")).encode(),
               step="recording which backup the history was restored from")
    return summary(runner)


def verify(before: HistorySummary, after: HistorySummary) -> None:
    """Raise HistoryError listing every difference in runs and events (not the schema revision,
    which a migration moves on purpose)."""
    problems = []
    missing = sorted(set(before.run_ids) - set(after.run_ids))
    extra = sorted(set(after.run_ids) - set(before.run_ids))
    if missing:
        problems.append(f"{len(missing)} runs missing: {', '.join(missing)}")
    if extra:
        problems.append(f"{len(extra)} runs that were not there before: {', '.join(extra)}")
    if before.run_count != after.run_count:
        problems.append(f"run count {before.run_count} before, {after.run_count} after")
    for status in sorted(set(before.runs_by_status) | set(after.runs_by_status)):
        b, a = before.runs_by_status.get(status, 0), after.runs_by_status.get(status, 0)
        if a != b:
            problems.append(f"{status} runs: {b} before, {a} after")
    if before.event_log_rows != after.event_log_rows:
        problems.append(f"event log rows: {before.event_log_rows} before, {after.event_log_rows} after")
    if problems:
        raise HistoryError("the run history differs:\n  " + "\n  ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["summary", "dump", "restore"])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--pod", required=True, help="the PostgreSQL pod, e.g. dagster-postgresql-0")
    parser.add_argument("--container", required=True, help="its database container, e.g. postgresql")
    parser.add_argument("--backup", type=Path, help="the dump file (dump: to write; restore: to read)")
    parser.add_argument("--allow-unfinished-runs", action="store_true",
                        help="dump even when runs are queued or in progress")
    parser.add_argument("--kubectl", default="kubectl", help="the kubectl to use (default: kubectl on PATH)")
    args = parser.parse_args(argv)
    if args.command != "summary" and not args.backup:
        parser.error(f"{args.command} needs --backup FILE")

    runner = PodRunner(args.namespace, args.pod, args.container, kubectl=args.kubectl)
    try:
        if args.command == "summary":
            print(summary(runner).describe())
        elif args.command == "dump":
            before = summary(runner)
            print(f"source: {before.describe()}")
            unfinished = runs_in_progress(before)
            if unfinished and not args.allow_unfinished_runs:
                listed = ", ".join(f"{n} {s}" for s, n in sorted(unfinished.items()))
                raise HistoryError(f"runs are not finished ({listed}): stop Dagster once they are finished "
                                   "(or cancel them), then dump; nothing was written")
            sha = dump(runner, args.backup)
            print(f"wrote {args.backup} ({args.backup.stat().st_size} bytes, sha256 {sha}) and {args.backup}.sha256")
        else:
            after = restore(runner, args.backup, log=print)
            print(f"restored: {after.describe()}")
            print("If this backup is from an older Dagster than the deployment's, migrate its schema now "
                  "(see README, Backups and restore).")
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
