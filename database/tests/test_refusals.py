"""Bad input to history.py: each refused with a clear error, and the source left as it was."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections import Counter

import pytest

from database import history
from database.tests.support import files_in, kill_midway


def test_runs_in_progress_are_reported(unfinished_history):
    summary = history.summary(unfinished_history.db.runner())
    written = Counter(r["status"] for r in unfinished_history.written)
    assert summary.runs_by_status == dict(written)
    # A run created but never launched (NOT_STARTED) is counted, but nothing will ever run it.
    assert "NOT_STARTED" in written
    assert history.runs_in_progress(summary) == {s: n for s, n in written.items() if s != "NOT_STARTED"}


def test_wrong_old_password_leaves_no_file(manual_history, tmp_path):
    before = history.summary(manual_history.db.runner())
    with pytest.raises(history.HistoryError) as error:
        history.dump(manual_history.db.runner(password="not-the-password"), tmp_path / "old.dump")
    assert "pg_dump (locally, database test) failed" in str(error.value)
    assert 'password authentication failed for user "test"' in str(error.value)
    assert list(tmp_path.iterdir()) == []
    assert history.summary(manual_history.db.runner()) == before


def test_a_dump_is_never_overwritten(manual_history, manual_dump, tmp_path):
    existing = tmp_path / "manual.dump"
    shutil.copy(manual_dump, existing)
    with pytest.raises(history.HistoryError, match="already exists"):
        history.dump(manual_history.db.runner(), existing)
    assert existing.read_bytes() == manual_dump.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manual.dump"]


@pytest.fixture
def truncated_dump(manual_dump, tmp_path):
    """The takeover's dump cut short in its data: the last 100 bytes missing."""
    data = manual_dump.read_bytes()
    path = tmp_path / "cut.dump"
    path.write_bytes(data[:-100])
    return path


def test_a_truncated_dump_fails_the_check(manual_history, truncated_dump):
    # `pg_restore --list` reads only the table of contents, and passes this file...
    listed = subprocess.run(
        ["pg_restore", "--list", str(truncated_dump)], env=manual_history.db.env(), capture_output=True, check=False
    )
    assert listed.returncode == 0
    # ...which is why the check reads every block.
    with pytest.raises(history.HistoryError, match="could not read from input file"):
        history.check(manual_history.db.runner(), truncated_dump)


def test_a_truncated_dump_restores_nothing(make_database, truncated_dump):
    target = make_database("dagster_truncated")
    with pytest.raises(history.HistoryError) as error:
        history.restore(target.runner(), truncated_dump)
    assert "could not read from input file" in str(error.value)
    assert "nothing of the dump is in dagster_truncated" in str(error.value)
    assert target.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_a_truncated_dump_with_its_checksum_is_refused_before_anything_changes(
    manual_dump, make_database, truncated_dump
):
    shutil.copy(f"{manual_dump}.sha256", f"{truncated_dump}.sha256")
    # A target holding an empty Dagster schema, which a restore would drop.
    target = make_database("dagster_checksum")
    history.restore(target.runner(), manual_dump)
    for table in ("event_logs", "run_tags", "runs"):
        target.sql(f"DELETE FROM {table}")
    before = history.summary(target.runner())
    assert before.has_dagster_schema and before.run_count == 0

    with pytest.raises(history.HistoryError, match="does not match cut.dump.sha256"):
        history.restore(target.runner(), truncated_dump)
    assert history.summary(target.runner()) == before


def test_pg_dump_killed_midway_leaves_no_file(big_database, tmp_path):
    before = history.summary(big_database.runner())
    errors = []

    def run_dump():
        try:
            history.dump(big_database.runner(), tmp_path / "big.dump")
        except history.HistoryError as exc:
            errors.append(exc)

    dumping = threading.Thread(target=run_dump)
    dumping.start()
    try:
        written = kill_midway("pg_dump", f"--dbname={big_database.name}",
                              lambda: sum(p.stat().st_size for p in tmp_path.glob(".big.dump.*.partial")))
    finally:
        dumping.join(timeout=60)
    assert written > 0
    assert len(errors) == 1 and "pg_dump (locally, database big) failed (killed by signal 9)" in str(errors[0])
    assert files_in(tmp_path) == {}
    assert history.summary(big_database.runner()) == before


def test_restore_refuses_a_database_that_has_runs(manual_dump, make_database):
    target = make_database("dagster_busy")
    history.restore(target.runner(), manual_dump)
    before = history.summary(target.runner())
    rows_before = target.sql("SELECT run_id, status, run_body FROM runs ORDER BY run_id")

    with pytest.raises(history.HistoryError) as error:
        history.restore(target.runner(), manual_dump)
    assert f"dagster_busy already holds {before.run_count} Dagster runs" in str(error.value)
    assert "nothing was changed" in str(error.value)
    assert history.summary(target.runner()) == before
    assert target.sql("SELECT run_id, status, run_body FROM runs ORDER BY run_id") == rows_before
