"""What a run history holds, counted read-only by psql where the database runs: its runs by
status, event log rows, schema revision, the duplicate run tags that would stop Dagster 1.13's
migration; and the comparison of two summaries. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from database.runners import PSQL, HistoryError

# Dagster's run statuses in which a run is not finished and something may still act on it: the
# daemon would launch a QUEUED run, a worker runs a STARTING/STARTED one, a CANCELING one waits
# for its worker to stop, and SUSPENDED (1.13) waits on external work. Carried into another
# deployment, they would be launched a second time by its daemon or stay "in progress" forever
# with no worker. NOT_STARTED is left out on purpose: such a run was created but never launched
# or queued, and nothing ever picks it up (Dagster calls it the brief window before launching),
# so it is as finished as it will get. MANAGED runs are run outside Dagster's control plane.
IN_PROGRESS_STATUSES = ("QUEUED", "STARTING", "STARTED", "CANCELING", "SUSPENDED")

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

def summary(runner) -> HistorySummary:
    """What the database holds, as counted by psql in the runner."""
    out = runner.run(PSQL, stdin=_SUMMARY_SQL.encode(), step="reading the run history's summary")
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
    out = runner.run(PSQL, stdin=_RUN_TAG_DUPLICATES_SQL.encode(), step="counting duplicate run tags")
    return int(out.decode().split()[-1])


def runs_in_progress(summary: HistorySummary) -> dict[str, int]:
    """The runs whose status says they are not finished (see IN_PROGRESS_STATUSES), by status."""
    return {s: n for s, n in summary.runs_by_status.items() if s in IN_PROGRESS_STATUSES and n}


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
