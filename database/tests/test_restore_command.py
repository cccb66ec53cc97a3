"""`python3 -m database.history summary|dump|restore` as README documents it, through PodRunner.

A stand-in kubectl (fake_kubectl.py) accepts only the `kubectl exec -i ... -- sh -c` that
PodRunner builds and runs the script here with the pod's environment, so the commands stream
dumps through a child process exactly as they would through kubectl. The interpreter runs
with -E -S: no site-packages, which shows the command needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from database import history
from database.tests.support import REPO, TESTS, files_in

OLD = ("old-dagster", "dagster-postgresql-0", "dagster-postgresql")
NEW = ("imqcam-dagster", "dagster-postgresql-0", "postgresql")


@pytest.fixture
def pods(tmp_path):
    """Write the stand-in cluster's pods: {(namespace, pod, container): database}."""
    path = tmp_path / "pods.json"

    def _pods(mapping: dict) -> Path:
        path.write_text(json.dumps({"/".join(k): db.env() for k, db in mapping.items()}))
        return path

    return _pods


def command(pods_file: Path, action: str, pod: tuple, *extra: str) -> subprocess.CompletedProcess:
    namespace, name, container = pod
    # From the repository root, with no site-packages and none of the caller's environment: the
    # standard library and the repository's own packages only.
    argv = [sys.executable, "-E", "-S", "-m", "database.history", action,
            "--namespace", namespace, "--pod", name, "--container", container,
            "--kubectl", str(TESTS / "fake_kubectl.py"), *extra]
    return subprocess.run(argv, env={"PATH": os.environ["PATH"], "FAKE_KUBECTL_PODS": str(pods_file)}, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)


def test_dump_and_restore_commands(manual_history, make_database, pods, tmp_path):
    target = make_database("dagster_by_command")
    pods_file = pods({OLD: manual_history.db, NEW: target})
    before = history.summary(manual_history.db.runner())
    backup = tmp_path / "backups" / "takeover.dump"
    backup.parent.mkdir()

    shown = command(pods_file, "summary", OLD)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == before.describe()

    dumped = command(pods_file, "dump", OLD, "--backup", str(backup))
    assert dumped.returncode == 0, dumped.stderr
    assert f"wrote {backup} ({backup.stat().st_size} bytes, sha256 " in dumped.stdout
    assert sorted(files_in(backup.parent)) == ["takeover.dump", "takeover.dump.sha256"]

    restored = command(pods_file, "restore", NEW, "--backup", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert f"{backup}: sha256 matches takeover.dump.sha256" in restored.stdout
    after = history.summary(target.runner())
    assert f"restored: {after.describe()}" in restored.stdout
    history.verify(before, after)
    assert after == before
    assert history.summary(manual_history.db.runner()) == before


def test_dump_command_refuses_runs_in_progress(unfinished_history, pods, tmp_path):
    pods_file = pods({OLD: unfinished_history.db})
    before = history.summary(unfinished_history.db.runner())
    in_progress = history.runs_in_progress(before)
    assert in_progress

    result = command(pods_file, "dump", OLD, "--backup", str(tmp_path / "old.dump"))
    assert result.returncode == 1
    listed = ", ".join(f"{n} {s}" for s, n in sorted(in_progress.items()))
    assert f"error: runs are not finished ({listed})" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["pods.json"]
    assert history.summary(unfinished_history.db.runner()) == before


def test_a_missing_pod_is_named(pods, tmp_path):
    result = command(pods({}), "summary", NEW)
    assert result.returncode == 1
    assert "in pod imqcam-dagster/dagster-postgresql-0, container postgresql" in result.stderr
    assert 'pods "dagster-postgresql-0" not found' in result.stderr
