"""`npm run status -- --stack kde04` on the real node, after the runs above: the report of the healthy
stack, then of the same stack with three things broken as they break on kde04 (a backup Job that
cannot reach the database, a full IO share, a pod that cannot be scheduled), then again once each
is fixed by the command the report printed.

The chart's objects are applied here without Helm (chart_stand_in.py), so Helm's record of the
Release is made by the real helm installing a chart of the Release's name and the project's
version with no templates: the record a `pulumi up` leaves, with nothing in it."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.cluster import program
from tests.node.test_runs import (  # noqa: F401
    DAEMON,
    RUN_CONFIG,
    RUN_STATUS,
    WORKERS,
    dagster,
    dagster_pod,
    submit,
    wait_run,
)

BACKUP = "dagster-postgresql-backup"


def status(kde04) -> tuple[int, dict, str]:
    """The report as an operator gets it (inside the node's network namespace, its kubeconfig), and as JSON."""
    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([*kde04.node.wrap, sys.executable, "-m", "status", "--stack", "kde04", *extra],
                              cwd=program.REPO, env=kde04.node.env, capture_output=True, text=True, timeout=300)
    text, as_json = run(), run("--json")
    assert text.returncode == as_json.returncode and text.returncode in (0, 1), text.stdout + text.stderr
    return text.returncode, json.loads(as_json.stdout), text.stdout


def project_version(kde04) -> str:
    [job] = [o for o in kde04.objects if o["kind"] == "Job"
             and o["metadata"]["labels"].get("app.kubernetes.io/name") == "dagster-migrate"]
    return job["metadata"]["labels"]["app.kubernetes.io/version"]


@pytest.fixture(scope="module")
def released(kde04, dagster, tmp_path_factory):  # noqa: F811
    chart = tmp_path_factory.mktemp("release-record")
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: dagster\nversion: {project_version(kde04)}\n")
    kde04.node.helm("install", "dagster", str(chart), "-n", kde04.namespace)
    return project_version(kde04)


def test_the_healthy_stack_needs_no_one(kde04, released):
    code, report, text = status(kde04)
    assert code == 0 and report["problems"] == [], text
    facts = report["facts"]
    assert "Nothing needs a person." in text, text
    # Each part read, as the cluster holds it.
    # (Pods of Jobs may go between the two reads: their TTL deletes finished ones.)
    pods = {p["metadata"]["name"] for p in kde04.node.get("pods", "-n", kde04.namespace)["items"]
            if not any(o["kind"] == "Job" for o in p["metadata"].get("ownerReferences", []))}
    assert {p["name"] for p in facts["pods"] if p["job"] is None} == pods, facts["pods"]
    assert all(p["ready"] for p in facts["pods"] if p["job"] is None and p["phase"] == "Running"), facts["pods"]
    runs = int(kde04.kubectl("exec", "dagster-postgresql-0", "-c", "postgresql", "--", "sh", "-c",
                             'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "select count(*) from runs"').stdout)
    assert facts["history"]["runs"] == runs and facts["history"]["database_bytes"] > 0, facts["history"]
    assert set(facts["versions"].values()) == {released}, facts["versions"]
    assert f"migrated to: {released}" in text, text
    assert facts["release"] == {"revision": 1, "status": "deployed", "chart": f"dagster-{released}"}
    share = facts["share"]
    assert 0 < share["used_kb"] and share["used_kb"] + share["available_kb"] <= 128 * 1024, share
    dumps = sorted(p.name for p in (kde04.io_dir / "backups" / "postgresql").glob("*.dump"))
    assert sorted(d["name"] for d in share["dumps"]) == dumps and dumps, (share, dumps)
    [backup] = [c for c in facts["cronjobs"] if c["name"] == BACKUP]
    assert backup["jobs"] and backup["jobs"][0]["result"] == "succeeded", backup


def test_a_failed_backup_a_full_share_and_a_pod_not_ready_each_show_with_what_to_do(kde04, released):
    ns = kde04.namespace
    # A backup Job of the CronJob that cannot reach the database, as `create job --from` makes it.
    job = json.loads(kde04.kubectl("create", "job", "backup-unreachable", f"--from=cronjob/{BACKUP}",
                                   "--dry-run=client", "-o", "json").stdout)
    [container] = job["spec"]["template"]["spec"]["containers"]
    container["env"] = [e for e in container["env"] if e["name"] not in ("PGHOST", "BACKUP_WAIT_SECONDS")] + [
        {"name": "PGHOST", "value": "no-such-database"}, {"name": "BACKUP_WAIT_SECONDS", "value": "2"}]
    kde04.node.kubectl("apply", "-f", "-", input=json.dumps(job))
    kde04.node.wait_for("the backup Job to fail", lambda: any(
        c["type"] == "Failed" and c["status"] == "True"
        for c in kde04.node.get("job", "backup-unreachable", "-n", ns).get("status", {}).get("conditions", [])),
        timeout=180, interval=2)
    # The share filled to 95% of its size (as step logs fill it).
    filler = kde04.io_dir / "filler"
    usage = subprocess.run(["df", "-Pk", str(kde04.io_dir)], capture_output=True, text=True, check=True).stdout
    size_kb, used_kb = (int(v) for v in usage.splitlines()[1].split()[1:3])
    with filler.open("wb") as f:
        f.write(b"\0" * ((size_kb * 95 // 100 - used_kb) * 1024))
    # A worker that cannot be scheduled: no node has the label it asks for.
    kde04.kubectl("patch", f"deployment/{WORKERS}", "-p",
                  json.dumps({"spec": {"template": {"spec": {"nodeSelector": {"imqcam.example/status-test": "none"}}}}}))
    kde04.node.wait_for("a worker pod to be Pending", lambda: [p for p in kde04.node.get(
        "pods", "-n", ns, "-l", "component=celery")["items"] if p["status"].get("phase") == "Pending"], timeout=60)
    try:
        code, report, text = status(kde04)
    finally:
        filler.unlink()
        kde04.kubectl("rollout", "undo", f"deployment/{WORKERS}")
    by_part = {p["part"]: p for p in report["problems"]}
    assert code == 1 and "Needs a person (3):" in text and sorted(by_part) == ["IO share", "cronjobs", "pods"], text
    failed, full, not_ready = by_part["cronjobs"], by_part["IO share"], by_part["pods"]
    assert failed["problem"] == f"cronjob/{BACKUP}: its last Job, backup-unreachable, failed", text
    assert int(full["problem"].split("%")[0]) >= 95 and "computeLogRetentionDays" in full["do"], text
    assert not_ready["problem"].startswith(f"pod {WORKERS}-") and "(Pending" in not_ready["problem"], text

    # Fixed: the worker back (rolled back above), and the backup run again as the report says.
    kde04.kubectl("rollout", "status", f"deployment/{WORKERS}", "--timeout=180s")
    kde04.node.wait_for("the unschedulable worker to go", lambda: not [p for p in kde04.node.get(
        "pods", "-n", ns, "-l", "component=celery")["items"] if p["status"].get("phase") == "Pending"], timeout=120)
    rerun = failed["do"].split("run it now: ")[1]
    subprocess.run([*kde04.node.wrap, "sh", "-c", rerun], env=kde04.node.env, check=True, capture_output=True)
    newest = lambda: max(  # noqa: E731
        (j for j in kde04.node.get("jobs", "-n", ns)["items"] if j["metadata"]["name"].startswith(f"{BACKUP}-")),
        key=lambda j: j["metadata"]["creationTimestamp"])
    kde04.node.wait_for("the backup run again to complete", lambda: any(
        c["type"] == "Complete" and c["status"] == "True" for c in newest().get("status", {}).get("conditions", [])),
        timeout=300, interval=2)
    code, report, text = status(kde04)
    assert code == 0 and report["problems"] == [], text
    assert "failed Jobs kept: 1" in text, text


def test_a_paused_daemon_leaves_a_submitted_run_queued_and_the_report_says_how_to_resume(kde04, released):
    """README's pause before an upgrade: the daemon scaled to 0. A run submitted meanwhile waits in
    the queue with no pod of its own; the report flags the daemon with the command that resumes it,
    and once that has run, the run goes through."""
    ns, run_id = kde04.namespace, "e0000000-0000-4000-8000-000000000003"
    kde04.kubectl("scale", f"deployment/{DAEMON}", "--replicas=0")
    kde04.node.wait_for("the daemon to stop", lambda: not kde04.node.get(
        "pods", "-n", ns, "-l", "component=dagster-daemon")["items"], timeout=180, interval=2)
    submit(kde04, "example_job", run_id, RUN_CONFIG)
    time.sleep(20)  # a running daemon's run queue takes a queued run within seconds
    phase, log = dagster_pod(kde04, "run-status-while-paused", "python3 -c \"" + RUN_STATUS.format(run_id=run_id) + "\"")
    assert phase == "Succeeded" and log.strip().splitlines()[-1] == "QUEUED", log
    assert not kde04.node.get("jobs", "-n", ns, "-l", f"dagster/run-id={run_id}")["items"]

    code, report, text = status(kde04)
    [paused] = report["problems"]
    assert code == 1 and paused["problem"] == f"deployment/{DAEMON} is scaled to 0", text
    assert "queued or in progress: 1 QUEUED" in text, text
    resume = paused["do"].split(" (or ")[0]
    subprocess.run([*kde04.node.wrap, "sh", "-c", resume], env=kde04.node.env, check=True, capture_output=True)
    assert wait_run(kde04, run_id) == "SUCCESS"
