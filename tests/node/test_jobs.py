"""The program's CronJobs on a real node, each run once as `kubectl create job --from=cronjob/...`
makes it (README's command): the backup writes a dump on the IO volume that restores, and the log
pruning deletes only what is older than the retention."""
from __future__ import annotations

import os
import subprocess
import time

from tests.node import stack_on_node
from tests.node.test_servers import POSTGRESQL_POD, exec_in

DAY = 24 * 3600


def run_cron_job(kde04, cron_job: str, job: str) -> str:
    kde04.kubectl("delete", "job", job, "--ignore-not-found", "--wait=true")
    kde04.kubectl("create", "job", job, f"--from=cronjob/{cron_job}")
    stack_on_node.wait_job(kde04.node, kde04.namespace, job)
    return kde04.kubectl("logs", f"job/{job}", "--all-containers").stdout


def test_a_backup_job_writes_a_dump_on_the_io_volume_that_restores(kde04):
    log = run_cron_job(kde04, "dagster-postgresql-backup", "backup-now")
    folder = kde04.io_dir / "backups" / "postgresql"
    dumps = sorted(folder.glob("scheduled-*.dump"))
    assert len(dumps) == 1, (log, list(folder.iterdir()))
    dump = dumps[0]
    check = subprocess.run(["sha256sum", "-c", f"{dump.name}.sha256"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # Restored into a scratch database by the server's own pg_restore: the history's tables come back.
    pod_path = f"/tmp/imqcam_filesystem_io_data/backups/postgresql/{dump.name}"
    kde04.kubectl("cp", str(dump), f"{POSTGRESQL_POD}:/tmp/restore.dump", "-c", "postgresql")
    restored = exec_in(kde04, POSTGRESQL_POD, "postgresql", (
        'set -e; psql -U "$POSTGRES_USER" -d postgres -qc "DROP DATABASE IF EXISTS restore_check" '
        '-c "CREATE DATABASE restore_check"; '
        'pg_restore --exit-on-error --no-owner -U "$POSTGRES_USER" -d restore_check /tmp/restore.dump; '
        'psql -U "$POSTGRES_USER" -d restore_check -Atc "select count(*) from runs; select version_num from alembic_version"'))
    lines = restored.stdout.split()
    assert lines[0].isdigit() and len(lines) == 2 and lines[1], (pod_path, restored.stdout, restored.stderr)


def test_log_pruning_deletes_only_what_is_older_than_the_retention(kde04):
    keep_days = int(next(e["value"] for e in kde04.find("CronJob", "dagster-compute-log-pruning")["spec"]["jobTemplate"]
                         ["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "KEEP_DAYS"))
    logs = kde04.io_dir / "compute-logs"
    old_run, new_run = logs / "old-run" / "step", logs / "new-run" / "step"
    old_run.mkdir(parents=True)
    new_run.mkdir(parents=True)
    outputs = kde04.io_dir / "storage" / "old-output"
    outputs.parent.mkdir(exist_ok=True)
    now = time.time()
    for path, age_days in ((old_run / "a.out", keep_days + 2), (new_run / "b.out", keep_days - 1), (outputs, keep_days + 30)):
        path.write_text("x")
        os.utime(path, (now - age_days * DAY, now - age_days * DAY))
    # As the run and step pods write them: as the share's writer.
    for path in (logs, *logs.rglob("*"), outputs.parent, outputs):
        os.chown(path, stack_on_node.SHARE_WRITER["uid"], stack_on_node.SHARE_WRITER["gid"])
    log = run_cron_job(kde04, "dagster-compute-log-pruning", "prune-now")
    assert not (logs / "old-run").exists(), log
    assert (new_run / "b.out").is_file(), log
    assert outputs.is_file(), "a job output beside the logs was touched"
