"""An upgrade between two supported versions, as the program runs it: Dagster 1.13.0 wrote the
history in the program's database; the migration Job backs it up (backup.sh, named after the new
version, keep 1), then runs `dagster instance migrate` with the new Dagster (1.13.27), which
then reads every run as 1.13.0 did. The backup restores to the history before the migration."""

from __future__ import annotations

from pathlib import Path

from database import history
from database.tests.support import backup_env, dagster_home, run_backup

RUNS = 6


def test_upgrade_keeps_every_run(make_database, release_values, earlier_dagster, new_dagster, tmp_path):
    db = make_database("dagster_upgrade")
    home = dagster_home(tmp_path / "home", release_values, db)
    written = earlier_dagster.history(home, db, "write", "--runs", str(RUNS))
    read_before = earlier_dagster.history(home, db, "read")
    before = history.summary(db.runner())
    assert before.run_ids == tuple(sorted(r["run_id"] for r in written))
    assert before.alembic_version == earlier_dagster.alembic_head

    share = tmp_path / "share"
    share.mkdir()
    result = run_backup(backup_env(db, share, BACKUP_NAME=f"before-dagster-{new_dagster.version}", BACKUP_KEEP="1"))
    assert result.returncode == 0, result.stderr
    backup = Path(result.stdout.strip())

    schema_state = new_dagster.migrate(home, db)
    after = history.summary(db.runner())
    history.verify(before, after)
    # (1.13.0 and 1.13.27 share a schema revision today: then this migration only checks and
    # keeps every run; a later version's will move it.)
    assert after.alembic_version == new_dagster.alembic_head
    # It reports all three storages at the new version's revision.
    assert schema_state.count(f"current: {new_dagster.alembic_head}") == 3, schema_state
    assert new_dagster.history(home, db, "read") == read_before

    # The way back: the backup, restored into a fresh database, is the history before the migration.
    restored_db = make_database("dagster_rolled_back")
    restored = history.restore(restored_db.runner(), backup)
    assert restored == before
    assert restored.alembic_version == earlier_dagster.alembic_head
