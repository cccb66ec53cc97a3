"""Duplicate run tags in a Dagster 1.7.5 history: Dagster 1.13's migration adds a unique index on
run_tags (key, value, run_id) and fails on a duplicate, leaving the index INVALID; the takeover
therefore counts them (history.run_tag_duplicates, read-only) before anything changes. Removed as
README says, the migration goes through."""

from __future__ import annotations

import pytest

from database import history
from database.tests.support import dagster_home


def test_duplicate_run_tags_are_counted_and_stop_the_migration_until_removed(
        manual_dump, make_database, release_values, new_dagster, tmp_path):
    db = make_database("tagged")
    history.restore(db.runner(), manual_dump)
    assert history.run_tag_duplicates(db.runner()) == 0
    db.sql("INSERT INTO run_tags (run_id, key, value) SELECT run_id, key, value FROM run_tags ORDER BY id LIMIT 1")
    assert history.run_tag_duplicates(db.runner()) == 1

    home = dagster_home(tmp_path / "home", release_values, db)
    with pytest.raises(AssertionError, match='could not create unique index "idx_run_tags_run_id"'):
        new_dagster.migrate(home, db)
    invalid = db.sql("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                     "WHERE i.indrelid = 'run_tags'::regclass AND NOT i.indisvalid")
    assert invalid == [("idx_run_tags_run_id",)]

    # README's fix: drop the broken index, keep each tag's first row, migrate again.
    db.sql("DROP INDEX IF EXISTS idx_run_tags_run_id")
    db.sql(history.DEDUPLICATE_RUN_TAGS_SQL)
    assert history.run_tag_duplicates(db.runner()) == 0
    schema_state = new_dagster.migrate(home, db)
    assert schema_state.count(f"current: {new_dagster.alembic_head}") == 3, schema_state
    assert db.sql("SELECT indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                  "WHERE c.relname = 'idx_run_tags_run_id'") == [(True,)]


def test_a_database_without_dagster_tables_has_no_duplicates(make_database):
    assert history.run_tag_duplicates(make_database("empty_tags").runner()) == 0
