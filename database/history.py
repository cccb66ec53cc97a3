"""Carry a Dagster run history from one PostgreSQL to another: summarise, dump and restore (the
commands below, from the repository root), and `verify`, which the takeover calls to compare the
summaries before and after (database/summary.py). The steps run where the database is, inside its
pod (database/runners.py). Dumps stream between the pod and a file on this machine without being
held in memory. Standard library only.

    python3 -m database.history summary --namespace NS --pod POD --container C
    python3 -m database.history dump    --namespace NS --pod POD --container C --backup FILE
    python3 -m database.history restore --namespace NS --pod POD --container C --backup FILE
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

from database.runners import AS_OWNER, CONNECT, PSQL, HistoryError, LocalRunner, PodRunner
from database.summary import (
    DEDUPLICATE_RUN_TAGS_SQL,
    IN_PROGRESS_STATUSES,
    HistorySummary,
    run_tag_duplicates,
    runs_in_progress,
    summary,
    verify,
)

# What the takeover, the status report and the tests call, from this one module.
__all__ = ["DEDUPLICATE_RUN_TAGS_SQL", "IN_PROGRESS_STATUSES", "HistoryError", "HistorySummary", "LocalRunner",
           "PodRunner", "check", "dump", "restore", "run_tag_duplicates", "runs_in_progress", "summary", "verify"]

_CHUNK = 1 << 20


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
            runner.run(CONNECT + f"exec pg_dump --format=custom {AS_OWNER}", stdout=out,
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
_RESTORE = CONNECT + (
    f"exec pg_restore --no-owner --no-privileges --exit-on-error --single-transaction {AS_OWNER}"
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
        runner.run(PSQL, stdin=_DROP_EMPTY_SCHEMA_SQL.encode(), step="dropping the empty Dagster tables")
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
    runner.run(PSQL, stdin=_RESTORED_FROM_SQL.format(sha256=sha, file=dump_file.name.replace("'", "''")).encode(),
               step="recording which backup the history was restored from")
    return summary(runner)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m database.history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
