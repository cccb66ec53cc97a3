"""Rolling a Dagster upgrade back, as `pulumi up` of the reverted commit runs it: the older
version's migration Job meets the schema the newer one migrated. Dagster 1.7.5 wrote the history,
the upgrade to the pinned version backed it up and migrated it; then 1.7.5's `dagster instance
migrate` runs again. The schema does not go back by itself: the older migration refuses a revision
it does not know and changes nothing (so the Job fails and the Release, which waits for it, stays
at the newer version), and the way back is the backup taken before the upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest

from database import history
from database.tests.support import backup_env, dagster_home, run_backup


def test_an_older_migration_refuses_a_newer_schema_and_the_backup_before_the_upgrade_is_the_way_back(
        make_database, release_values, manual_dagster, new_dagster, tmp_path):
    db = make_database("dagster_rollback")
    home = dagster_home(tmp_path / "home", release_values, db)
    manual_dagster.history(home, db, "write", "--runs", "3")
    read_before = manual_dagster.history(home, db, "read")
    before = history.summary(db.runner())
    share = tmp_path / "share"
    share.mkdir()
    result = run_backup(backup_env(db, share, BACKUP_NAME=f"before-dagster-{new_dagster.version}", BACKUP_KEEP="1"))
    assert result.returncode == 0, result.stderr
    new_dagster.migrate(home, db)
    migrated = history.summary(db.runner())
    assert migrated.alembic_version == new_dagster.alembic_head != manual_dagster.alembic_head

    with pytest.raises(AssertionError, match=f"Can't locate revision identified by '{new_dagster.alembic_head}'"):
        manual_dagster.migrate(home, db)
    assert history.summary(db.runner()) == migrated  # nothing moved back

    rolled_back = make_database("dagster_rollback_restored")
    assert history.restore(rolled_back.runner(), Path(result.stdout.strip())) == before
    assert manual_dagster.history(dagster_home(tmp_path / "home-back", release_values, rolled_back), rolled_back,
                                  "read") == read_before
