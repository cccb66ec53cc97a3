"""The takeover's database steps on a real Dagster 1.7.5 history, exactly as the takeover runs them:
summary of the old database, dump, restore into the program's role and database (where the
program's migration Job has already let the new Dagster create its empty tables), `dagster
instance migrate` with the new Dagster, summary, verify; then the new Dagster reads every run."""

from __future__ import annotations

import hashlib
from collections import Counter

from database import history
from database.tests.support import dagster_home


def test_takeover_carries_every_run_and_event(
    manual_history, make_database, release_values, new_dagster, manual_dagster, tmp_path
):
    old = manual_history.db.runner()
    before = history.summary(old)
    # The summary counts what Dagster 1.7.5 wrote.
    assert before.run_ids == tuple(sorted(r["run_id"] for r in manual_history.written))
    assert before.runs_by_status == dict(Counter(r["status"] for r in manual_history.written))
    assert before.event_log_rows == sum(len(r["events"]) for r in manual_history.read)
    assert before.alembic_version == manual_dagster.alembic_head
    assert history.runs_in_progress(before) == {}

    dump_file = tmp_path / "takeover.dump"
    sha = history.dump(old, dump_file)
    assert sha == hashlib.sha256(dump_file.read_bytes()).hexdigest()
    assert (tmp_path / "takeover.dump.sha256").read_text() == f"{sha}  takeover.dump\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["takeover.dump", "takeover.dump.sha256"]

    # The program's database: the role and database its Release values name, where the
    # migration Job's fresh Dagster has already created empty tables.
    pg_values = release_values["postgresql"]
    new_db = make_database(pg_values["postgresqlUsername"], pg_values["postgresqlDatabase"])
    home = dagster_home(tmp_path / "new-home", release_values, new_db)
    new_dagster.migrate(home, new_db)
    new = new_db.runner()
    fresh = history.summary(new)
    assert fresh.has_dagster_schema and fresh.run_count == 0

    restored = history.restore(new, dump_file)
    history.verify(before, restored)
    assert restored.alembic_version == before.alembic_version
    # Everything restored belongs to the program's role, not to `test` (which does not exist there).
    owners = new_db.sql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners == [(new_db.role,)]

    schema_state = new_dagster.migrate(home, new_db)
    assert schema_state.count(f"current: {new_dagster.alembic_head}") == 3, schema_state
    after = history.summary(new)
    history.verify(before, after)
    assert after.alembic_version == new_dagster.alembic_head
    assert after.alembic_version != before.alembic_version, "the migration did not move the schema"

    # The new Dagster reads every run, its status, tags, run config and events as 1.7.5 did.
    assert new_dagster.history(home, new_db, "read") == manual_history.read
    # And it goes on writing: one more run, after the old ones.
    [added] = new_dagster.history(home, new_db, "write", "--runs", "1", "--first", "100")
    assert added["status"] == "SUCCESS"
    assert history.summary(new).run_ids == tuple(sorted(before.run_ids + (added["run_id"],)))

    # The old database is as it was.
    assert history.summary(old) == before


def test_verify_names_each_difference(manual_history, manual_dump, make_database):
    """verify() on real summaries: a restored copy that lost a run and its events."""
    before = history.summary(manual_history.db.runner())
    copy_db = make_database("dagster_lossy")
    history.restore(copy_db.runner(), manual_dump)
    lost = before.run_ids[0]
    [(lost_events,)] = copy_db.sql(f"SELECT count(*) FROM event_logs WHERE run_id = '{lost}'")
    [(lost_status,)] = copy_db.sql(f"SELECT status FROM runs WHERE run_id = '{lost}'")
    copy_db.sql(f"DELETE FROM event_logs WHERE run_id = '{lost}'")
    copy_db.sql(f"DELETE FROM run_tags WHERE run_id = '{lost}'")
    copy_db.sql(f"DELETE FROM runs WHERE run_id = '{lost}'")
    after = history.summary(copy_db.runner())

    try:
        history.verify(before, after)
    except history.HistoryError as exc:
        message = str(exc)
    else:
        raise AssertionError("verify accepted a history that lost a run")
    assert f"1 runs missing: {lost}" in message
    assert f"run count {before.run_count} before, {before.run_count - 1} after" in message
    n = before.runs_by_status[lost_status]
    assert f"{lost_status} runs: {n} before, {n - 1} after" in message
    assert f"event log rows: {before.event_log_rows} before, {before.event_log_rows - lost_events} after" in message
