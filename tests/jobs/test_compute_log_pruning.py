"""The compute-log pruning CronJob's own script, run with a real shell on a folder standing for the IO volume.

The command and environment are the ones the program sends (scripts/objects.ts, kde04), with the
mount path mapped to a temporary folder.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

DAY = 24 * 3600


def _pruning_container() -> dict:
    folder = os.environ.get("IMQCAM_KUBERNETES_OBJECTS")
    if not folder:
        raise RuntimeError("IMQCAM_KUBERNETES_OBJECTS is not set: run through `npm run test:code-location`")
    objects = json.loads((Path(folder) / "kde04.json").read_text())
    cron_job = next(o for o in objects if o["kind"] == "CronJob" and "compute-log-pruning" in o["metadata"]["name"])
    return cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]


@pytest.fixture(scope="module")
def busybox_path(tmp_path_factory) -> str:
    """A PATH whose sh, find, rm, rmdir and mkdir are busybox's, as in the CronJob's image."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise RuntimeError("busybox is not installed: apt-get install busybox (.ci/run does)")
    bin_dir = tmp_path_factory.mktemp("busybox-bin")
    for applet in ("sh", "find", "rm", "rmdir", "mkdir"):
        (bin_dir / applet).symlink_to(busybox)
    return str(bin_dir)


def _prune(path: str, io_dir: Path, mount: Path | None = None) -> subprocess.CompletedProcess:
    container = _pruning_container()
    env = {e["name"]: e["value"] for e in container["env"]}
    root = env["LOG_ROOT"]
    env = {k: v.replace(root, str(mount or io_dir), 1) for k, v in env.items()}
    return subprocess.run([f"{path}/sh", *container["command"][1:]], env={"PATH": path, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def _log(path: Path, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("printed\n")
    then = time.time() - age_days * DAY
    os.utime(path, (then, then))
    return path


def test_deletes_logs_older_than_the_kept_days_and_their_empty_run_folders(tmp_path, busybox_path):
    keep = int({e["name"]: e["value"] for e in _pruning_container()["env"]}["KEEP_DAYS"])
    logs = tmp_path / "compute-logs"
    old = _log(logs / "run-old" / "compute_logs" / "step.out", keep + 2)
    recent = _log(logs / "run-new" / "compute_logs" / "step.out", keep - 1)
    outputs = _log(tmp_path / "run-old" / "step" / "result", keep + 100)  # a run's outputs, not a log

    proc = _prune(busybox_path, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not old.exists() and not (logs / "run-old").exists()
    assert recent.exists()
    assert outputs.exists(), "only the compute-logs folder is pruned"


def test_refuses_to_run_when_the_io_volume_is_not_mounted(tmp_path, busybox_path):
    proc = _prune(busybox_path, tmp_path, mount=tmp_path / "not-mounted")
    assert proc.returncode != 0
    assert "not mounted" in proc.stderr
    assert not (tmp_path / "not-mounted").exists()


def test_keeps_todays_logs(tmp_path, busybox_path):
    log = _log(tmp_path / "compute-logs" / "r" / "compute_logs" / "s.err", 0.5)
    assert _prune(busybox_path, tmp_path).returncode == 0
    assert log.exists()
