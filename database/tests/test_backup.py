"""database/backup.sh, run with sh (dash on Debian, as in the postgres image) against the real
server with the environment the CronJob gives it; its backups restored with history.py."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from database import history
from database.tests.support import BACKUP_SH, SH, backup_env, files_in, kill_midway, run_backup

STAMPED = re.compile(r"^(?P<name>.+)-\d{8}T\d{6}Z\.dump$")


def test_a_backup_restores_to_the_same_history(manual_history, make_database, tmp_path):
    source = manual_history.db
    before = history.summary(source.runner())
    share = tmp_path / "share"
    share.mkdir()

    result = run_backup(backup_env(source, share))
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    folder = share / "backups" / "postgresql"
    assert path.parent == folder
    assert STAMPED.match(path.name)["name"] == "scheduled"
    assert sorted(files_in(folder)) == [path.name, f"{path.name}.sha256"]
    check = subprocess.run(["sha256sum", "-c", f"{path.name}.sha256"], cwd=folder, capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr

    target = make_database("dagster_from_backup")
    restored = history.restore(target.runner(), path)
    assert restored == before
    history.verify(before, restored)
    assert history.summary(source.runner()) == before


def test_pruning_keeps_the_newest_of_its_own_name_only(manual_history, tmp_path):
    share = tmp_path / "share"
    folder = share / "backups" / "postgresql"
    folder.mkdir(parents=True)
    # Earlier backups of this name, and files that are not: other names (one that merely starts
    # with this one), other suffixes, a note, a folder that looks like a backup.
    ours = [f"scheduled-2020010{d}T000000Z.dump" for d in (3, 1, 2)]
    others = ["scheduled-extra-20190101T000000Z.dump", "before-dagster-1.13.27-20200101T000000Z.dump",
              "scheduled-20190101T000000Z.dump.old", "scheduled-2019.dump", "README.txt"]
    for name in ours:
        (folder / name).write_bytes(b"old backup " + name.encode())
        (folder / f"{name}.sha256").write_text(f"0  {name}\n")
    for name in others:
        (folder / name).write_text(f"not ours: {name}\n")
    (folder / "scheduled-20180101T000000Z.dump.d").mkdir()
    # What a backup pod killed outright two days ago left, of this name and of another.
    stale = folder / ".scheduled-20200104T000000Z.dump.partial.AbC123"
    others_stale = folder / ".scheduled-extra-20200104T000000Z.dump.partial.XyZ789"
    for partial in (stale, others_stale):
        partial.write_bytes(b"partial")
        os.utime(partial, (time.time() - 2 * 86400,) * 2)
    untouched = {n: c for n, c in files_in(folder).items() if not n.startswith(("scheduled-2020", stale.name))}

    result = run_backup(backup_env(manual_history.db, share, BACKUP_KEEP="2"))
    assert result.returncode == 0, result.stderr
    new = Path(result.stdout.strip()).name

    kept = sorted(ours + [new])[-2:]
    after = files_in(folder)
    assert sorted(n for n in after if STAMPED.match(n) and STAMPED.match(n)["name"] == "scheduled") == kept
    assert sorted(n for n in after if n.endswith(".sha256")) == sorted(f"{n}.sha256" for n in kept)
    assert {n: c for n, c in after.items() if n in untouched} == untouched
    assert (folder / "scheduled-20180101T000000Z.dump.d").is_dir()
    assert not stale.exists()
    for name in sorted(set(ours) - set(kept)):
        assert f"pruning {folder / name}" in result.stderr


def test_share_not_mounted(manual_history, tmp_path):
    share = tmp_path / "not-mounted"
    result = run_backup(backup_env(manual_history.db, share))
    assert result.returncode == 1
    assert "the NFS share is not mounted" in result.stderr
    assert not share.exists(), "the backup created the mount point"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("BACKUP_NAME", "../elsewhere", "may only contain"),
        ("BACKUP_NAME", "two words", "may only contain"),
        ("BACKUP_NAME", "", "BACKUP_NAME is not set"),
        ("BACKUP_KEEP", "0", "at least 1"),
        ("BACKUP_KEEP", "-1", "not a whole number"),
        ("BACKUP_KEEP", "all", "not a whole number"),
        ("BACKUP_DIR", "{tmp}/elsewhere", "not a folder under BACKUP_ROOT"),
        ("BACKUP_DIR", "{tmp}/share/../escape", "must not contain '..'"),
        ("POSTGRES_PASSWORD", None, "POSTGRES_PASSWORD is not set"),
        ("BACKUP_WAIT_SECONDS", "soon", "not a whole number"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_written(manual_history, tmp_path, setting, value, message):
    share = tmp_path / "share"
    share.mkdir()
    if value is not None:
        value = value.format(tmp=tmp_path)
    result = run_backup(backup_env(manual_history.db, share, **{setting: value}))
    assert result.returncode == 1
    assert message in result.stderr
    assert [p.name for p in tmp_path.rglob("*")] == ["share"], "something was created"


def test_wrong_password_leaves_no_file(manual_history, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    result = run_backup(backup_env(manual_history.db, share, POSTGRES_PASSWORD="not-the-password"))
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "pg_dump of test did not complete; no backup written" in result.stderr
    assert files_in(share) == {}


def test_pg_dump_killed_midway_leaves_no_file(big_database, tmp_path):
    share = tmp_path / "share"
    folder = share / "backups" / "postgresql"
    folder.mkdir(parents=True)
    (folder / "scheduled-20200101T000000Z.dump").write_text("an earlier backup\n")
    before = files_in(folder)

    def partial_bytes() -> int:
        return sum(p.stat().st_size for p in folder.glob(".scheduled-*.partial.*"))

    proc = subprocess.Popen([SH, str(BACKUP_SH)], env=backup_env(big_database, share, BACKUP_KEEP="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = [], []
    readers = [threading.Thread(target=lambda s=s, out=out: out.append(s.read())) for s, out in
               ((proc.stdout, stdout), (proc.stderr, stderr))]
    for reader in readers:
        reader.start()
    try:
        written = kill_midway("pg_dump", f"--dbname={big_database.name}", partial_bytes)
    finally:
        proc.wait(timeout=60)
        for reader in readers:
            reader.join()
    assert written > 0
    assert proc.returncode == 1
    assert "did not complete; no backup written" in stderr[0]
    assert stdout[0] == ""
    # The earlier backup is kept (nothing pruned), and nothing new is left, hidden or not.
    assert files_in(folder) == before



def _copy_of(manual_history, make_database, role: str, tmp_path):
    """A database holding the manual history, restored from a dump (so it records that dump)."""
    dump = tmp_path / f"{role}.dump"
    history.dump(manual_history.db.runner(), dump)
    db = make_database(role)
    history.restore(db.runner(), dump)
    return db


def test_the_migration_keeps_one_backup_per_schema_revision_it_started_from(manual_history, make_database, tmp_path):
    db = _copy_of(manual_history, make_database, "migrating", tmp_path)
    share = tmp_path / "share"
    share.mkdir()
    env = backup_env(db, share, BACKUP_NAME="before-dagster-1.13.27", BACKUP_KEEP="1", BACKUP_SCHEMA_IN_NAME="true")
    first = run_backup(env)
    assert first.returncode == 0, first.stderr
    old_revision = history.summary(db.runner()).alembic_version
    assert STAMPED.match(Path(first.stdout.strip()).name)["name"] == f"before-dagster-1.13.27-from-{old_revision}"
    # The migration ran; a second run of the same Job starts from the new revision: both backups stay.
    db.sql("UPDATE alembic_version SET version_num = '29b539ebc72a'")
    time.sleep(1)  # a new second for the new file's name
    second = run_backup(env)
    assert second.returncode == 0, second.stderr
    names = sorted(n for n in files_in(share / "backups" / "postgresql") if n.endswith(".dump"))
    assert [STAMPED.match(n)["name"] for n in names] == [
        "before-dagster-1.13.27-from-29b539ebc72a", f"before-dagster-1.13.27-from-{old_revision}"]


def test_a_backup_never_prunes_the_backup_the_history_was_restored_from(manual_history, make_database, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    folder = share / "backups" / "postgresql"
    made = run_backup(backup_env(manual_history.db, share, BACKUP_KEEP="1"))
    assert made.returncode == 0, made.stderr
    restored_from = Path(made.stdout.strip())
    db = make_database("restored")
    history.restore(db.runner(), restored_from)
    for _ in range(2):  # the restored database's own scheduled backups, keeping one
        time.sleep(1)
        later = run_backup(backup_env(db, share, BACKUP_KEEP="1"))
        assert later.returncode == 0, later.stderr
    dumps = sorted(n for n in files_in(folder) if n.endswith(".dump"))
    assert restored_from.name in dumps and len(dumps) == 2, dumps
    assert f"keeping {restored_from}: the run history was restored from it" in later.stderr


def test_a_database_that_does_not_answer_yet_is_waited_for_then_given_up_on(manual_history, tmp_path):
    """As when the database pod restarts: its headless Service names no address until it is ready."""
    share = tmp_path / "share"
    share.mkdir()
    nowhere = backup_env(manual_history.db, share, PGHOST="127.0.0.1", PGPORT="9", BACKUP_WAIT_SECONDS="4")
    failed = run_backup(nowhere)
    assert failed.returncode == 1
    assert "waiting for the database at 127.0.0.1" in failed.stderr
    assert "did not answer within 4 s" in failed.stderr
    assert not (share / "backups").exists() or not files_in(share / "backups" / "postgresql")
