"""The status report's judgement, on facts as read.py gathers them, and read.py's own parsing of what
the cluster answers: the share script run by a real shell on a real folder, Helm's record as Helm
writes it. The whole command on a real node: tests/node/test_status.py."""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import subprocess

import pytest

from status import judge, read
from takeover.cluster import Clock, Cluster

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone.utc)
MB = 1024


def healthy() -> dict:
    job = {"name": "dagster-postgresql-backup-29414520", "result": "succeeded", "started": "2026-12-02T02:00:00Z",
           "labels": {}}
    return {
        "stack": "kde04", "namespace": "imqcam-dagster",
        "pods": [{"name": "dagster-daemon-7d9f", "phase": "Running", "ready": True, "job": None, "restarts": 0,
                  "waiting": []},
                 {"name": "dagster-run-e000-abcde", "phase": "Failed", "ready": False, "job": "dagster-run-e000",
                  "restarts": 0, "waiting": []},
                 {"name": "debug-shell", "phase": "Failed", "ready": False, "job": None, "restarts": 0, "waiting": []}],
        "workloads": [{"kind": "Deployment", "name": "dagster-daemon", "replicas": 1, "ready": 1}],
        "cronjobs": [{"name": "dagster-postgresql-backup", "app": "postgresql-backup", "schedule": "0 2 * * *",
                      "suspended": False, "last_schedule": "2026-12-02T02:00:00Z",
                      "last_success": "2026-12-02T02:01:00Z", "jobs": [job]}],
        "migrations": [{"name": "dagster-migrate-1-13-27", "result": "succeeded", "started": "2026-12-01T09:00:00Z",
                        "labels": {"app.kubernetes.io/version": "1.13.27"}}],
        "share": {"pod": "code-server", "mount": "/io", "size_kb": 100 * MB, "used_kb": 40 * MB,
                  "available_kb": 60 * MB, "folders": {"backups": 30 * MB, "compute-logs": 10 * MB},
                  "dumps": [{"name": "scheduled-20261202T020000Z.dump", "bytes": 3 << 20,
                             "mtime": int(NOW.timestamp()) - 36000}]},
        "history": {"runs": 12, "by_status": {"SUCCESS": 10, "QUEUED": 2}, "event_log_rows": 400,
                    "schema_revision": "29b539ebc72a", "database_bytes": 9 << 20, "in_progress": {"QUEUED": 2}},
        "versions": {"dagster-daemon-7d9f": "1.13.27", "code-server": "1.13.27"},
        "release": {"revision": 3, "status": "deployed", "chart": "dagster-1.13.27"},
    }


def test_a_healthy_stack_needs_no_one_and_the_report_says_what_it_read():
    facts = healthy()
    assert judge.findings(facts) == []
    text = "\n".join(judge.report(facts, [], NOW))
    for shown in ("dagster-daemon-7d9f: ready, 0 restarts", "dagster-run-e000-abcde: Failed, 0 restarts (Job dagster-run-e000)",
                  "dagster-postgresql-backup (0 2 * * *): last Job dagster-postgresql-backup-29414520 succeeded, 10 h ago",
                  "40.0 MiB used of 100.0 MiB (40%), read in pod code-server: backups 30.0 MiB, compute-logs 10.0 MiB",
                  "backups: 1 dumps, 3.0 MiB", "scheduled-20261202T020000Z.dump: 3.0 MiB, 10 h old",
                  "12 runs (2 QUEUED, 10 SUCCESS), 400 event log rows, 9.0 MiB on disk, schema revision 29b539ebc72a",
                  "queued or in progress: 2 QUEUED", "migrated to: 1.13.27 (Job dagster-migrate-1-13-27)",
                  "Release dagster: revision 3, deployed, chart dagster-1.13.27", "Nothing needs a person."):
        assert shown in text, (shown, text)


def broken(change) -> list:
    facts = healthy()
    change(facts)
    return [(f.part, f.problem, f.do) for f in judge.findings(facts)]


def _pod_pending(f):
    f["pods"].append({"name": "dagster-celery-workers-dagster-5c-x", "phase": "Pending", "ready": False, "job": None,
                      "restarts": 0, "waiting": []})


def _crash_looping(f):
    f["pods"][0].update(ready=False, waiting=["CrashLoopBackOff"])


def _backup_failed(f):
    f["cronjobs"][0]["jobs"].insert(0, {"name": "dagster-postgresql-backup-29415960", "result": "failed",
                                        "started": "2026-12-03T02:00:00Z", "labels": {}})


def _share_full(f):
    f["share"].update(used_kb=91 * MB, available_kb=9 * MB)


CASES = {
    "a pod not scheduled": (_pod_pending, ("pods", "pod dagster-celery-workers-dagster-5c-x is not Ready (Pending)",
                                           "kubectl -n imqcam-dagster describe pod dagster-celery-workers-dagster-5c-x; "
                                           "kubectl -n imqcam-dagster logs dagster-celery-workers-dagster-5c-x --all-containers")),
    "a container crash-looping": (_crash_looping, ("pods", "pod dagster-daemon-7d9f is not Ready (Running, CrashLoopBackOff)",
                                                   "kubectl -n imqcam-dagster describe pod dagster-daemon-7d9f; "
                                                   "kubectl -n imqcam-dagster logs dagster-daemon-7d9f --all-containers")),
    "a Deployment scaled to 0": (lambda f: f["workloads"][0].update(replicas=0, ready=0), (
        "workloads", "deployment/dagster-daemon is scaled to 0",
        "kubectl -n imqcam-dagster scale deployment/dagster-daemon --replicas=1 (or the replicas noted before scaling it down)")),
    "a Deployment short of pods": (lambda f: f["workloads"][0].update(replicas=2), (
        "workloads", "deployment/dagster-daemon has 1 of 2 pods ready", "kubectl -n imqcam-dagster describe deployment/dagster-daemon")),
    "the last backup failed": (_backup_failed, (
        "cronjobs", "cronjob/dagster-postgresql-backup: its last Job, dagster-postgresql-backup-29415960, failed",
        "kubectl -n imqcam-dagster logs job/dagster-postgresql-backup-29415960; once fixed, run it now: kubectl -n "
        "imqcam-dagster create job --from=cronjob/dagster-postgresql-backup dagster-postgresql-backup-$(date +%s)")),
    "a CronJob suspended": (lambda f: f["cronjobs"][0].update(suspended=True), (
        "cronjobs", "cronjob/dagster-postgresql-backup is suspended",
        "kubectl -n imqcam-dagster patch cronjob/dagster-postgresql-backup -p '{\"spec\":{\"suspend\":false}}'")),
    "no backup CronJob": (lambda f: f.update(cronjobs=[]), ("backups", "there is no backup CronJob", "pulumi up --stack kde04")),
    "backups that succeed but leave nothing": (lambda f: f["share"].update(dumps=[]), (
        "backups", "cronjob/dagster-postgresql-backup has succeeded, yet the share holds no scheduled backup",
        "kubectl -n imqcam-dagster logs job/<its last Job>; ls /io/backups/postgresql in a pod")),
    "the share 91% full": (_share_full, (
        "IO share", "91% full (9.0 MiB free; backups 30.0 MiB, compute-logs 10.0 MiB)",
        "keep step logs for fewer days: pulumi config set --stack kde04 computeLogRetentionDays <days>, or fewer "
        "backups: pulumi config set --stack kde04 --path backups.keep <n>; then pulumi up --stack kde04. Or ask for a larger share")),
    "the share unread": (lambda f: f.update(share={"error": "no ready pod mounts the claim"}), (
        "IO share", "could not be read: no ready pod mounts the claim", "kubectl -n imqcam-dagster get pods")),
    "the history unread": (lambda f: f.update(history={"error": "psql: connection refused"}), (
        "run history", "could not be read: psql: connection refused",
        "kubectl -n imqcam-dagster logs statefulset/dagster-postgresql --tail=200")),
    "a version unread": (lambda f: f["versions"].update({"code-server": None}), (
        "dagster", "could not read the Dagster version in code-server",
        "kubectl -n imqcam-dagster exec code-server -- dagster --version")),
    "the migration failed": (lambda f: f["migrations"].insert(0, {
        "name": "dagster-migrate-1-13-28", "result": "failed", "started": "2026-12-02T09:00:00Z",
        "labels": {"app.kubernetes.io/version": "1.13.28"}}), (
        "dagster", "the migration Job dagster-migrate-1-13-28 failed; nothing runs its version until it succeeds",
        "kubectl -n imqcam-dagster logs job/dagster-migrate-1-13-28; README, \"Upgrading Dagster\"")),
    "the Release failed": (lambda f: f["release"].update(status="failed"), (
        "release", "revision 3 is failed", "helm -n imqcam-dagster history dagster; then pulumi up --stack kde04")),
    "no Release": (lambda f: f.update(release=None), (
        "release", "Helm has no record of the Release dagster in the namespace", "pulumi up --stack kde04")),
}


@pytest.mark.parametrize("case", CASES)
def test_each_thing_that_needs_a_person_is_found_with_what_to_do(case):
    change, finding = CASES[case]
    assert broken(change) == [finding]


def test_versions_that_disagree_or_were_never_migrated_are_found():
    def mixed(f):
        f["versions"]["code-server"] = "1.13.28"
    assert broken(mixed) == [
        ("dagster", "pods run different Dagster versions: 1.13.27, 1.13.28",
         "npm run lock, then pulumi up --stack kde04 (the image and the chart must agree)"),
        ("dagster", "Dagster 1.13.28 runs, but no migration Job to 1.13.28 has succeeded",
         "pulumi up --stack kde04 (it runs the migration Job before the Release)")]


def test_a_failed_job_followed_by_a_success_is_kept_but_needs_no_one():
    def recovered(f):
        jobs = f["cronjobs"][0]["jobs"]
        jobs.append({"name": "dagster-postgresql-backup-old", "result": "failed", "started": "2026-12-01T02:00:00Z",
                     "labels": {}})
        jobs.insert(0, {"name": "dagster-postgresql-backup-now", "result": "running", "started": "2026-12-02T11:59:00Z",
                        "labels": {}})
    assert broken(recovered) == []
    facts = healthy()
    recovered(facts)
    assert "failed Jobs kept: 1" in "\n".join(judge.report(facts, [], NOW))


def test_the_share_script_reads_space_folders_and_dumps_with_a_real_shell(tmp_path):
    (tmp_path / "compute-logs" / "run").mkdir(parents=True)
    (tmp_path / "compute-logs" / "run" / "step.out").write_bytes(b"x" * 300_000)
    dumps = tmp_path / "backups" / "postgresql"
    dumps.mkdir(parents=True)
    (dumps / "scheduled-20261202T020000Z.dump").write_bytes(b"d" * 5000)
    (dumps / "scheduled-20261202T020000Z.dump.sha256").write_text("sum")

    def runner(argv, stdin, env, stream):  # `kubectl exec ... -- sh -c SCRIPT sh MOUNT`, run here
        return subprocess.run(argv[argv.index("--") + 1:], capture_output=True, check=True).stdout
    pods = [{"metadata": {"name": "code", "labels": {}}, "status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True"}], "containerStatuses": [{"name": "main", "ready": True}]},
        "spec": {"volumes": [{"name": "io", "persistentVolumeClaim": {"claimName": "imqcam-dagster-io-data"}}],
                 "containers": [{"name": "main", "volumeMounts": [{"name": "io", "mountPath": str(tmp_path)}]}]}}]
    share = read.share(Cluster(runner, print, Clock()), "ns", pods, str(tmp_path))
    df = subprocess.run(["df", "-Pk", str(tmp_path)], capture_output=True, text=True).stdout.splitlines()[1].split()
    assert share["size_kb"] == int(df[1]) and share["available_kb"] > 0 and share["used_kb"] > 0, share
    assert share["folders"]["compute-logs"] >= 300_000 // 1024 and set(share["folders"]) == {"compute-logs", "backups"}
    assert [(d["name"], d["bytes"]) for d in share["dumps"]] == [("scheduled-20261202T020000Z.dump", 5000)]
    assert read.share(Cluster(runner, print, Clock()), "ns", [], str(tmp_path)) == {
        "error": f"no ready pod mounts the claim imqcam-dagster-io-data at {tmp_path}"}


def test_helm_s_record_of_the_release_is_read_newest_revision_first():
    def record(revision: int, status: str, version: str) -> dict:
        body = json.dumps({"name": "dagster", "version": revision, "chart": {"metadata": {"name": "dagster", "version": version}}})
        payload = base64.b64encode(gzip.compress(body.encode()))  # as Helm stores it, then the Secret's own base64
        return {"metadata": {"labels": {"owner": "helm", "name": "dagster", "status": status, "version": str(revision)}},
                "data": {"release": base64.b64encode(payload).decode()}}

    def runner(argv, stdin, env, stream):
        assert argv[:6] == ["kubectl", "get", "secrets", "-n", "ns", "-l"] and argv[6] == "owner=helm,name=dagster", argv
        return json.dumps({"items": [record(9, "superseded", "1.13.26"), record(10, "deployed", "1.13.27")]}).encode()
    assert read.release(Cluster(runner, print, Clock()), "ns") == {"revision": 10, "status": "deployed",
                                                                  "chart": "dagster-1.13.27"}
