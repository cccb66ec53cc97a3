"""The takeover rehearsed with real pods on the real node, killed after each of its steps.

kde04's manual deployment runs for real (manual_on_node.py: Dagster 1.7.5's webserver, daemon,
Celery workers and code server, its PostgreSQL and RabbitMQ, on the old images' stand-ins), and its
history is written by Dagster 1.7.5 through the old code server's pod. Then `python3 -m takeover`
runs as an operator runs it, inside the node's network namespace, with the real kubectl and helm:
the dry run, then the takeover, SIGKILLed as soon as each step is done and started again until it
finishes. The dump is a real `kubectl exec` of pg_dump in the old pod, the copy goes through the old
code server onto the IO volume, `helm uninstall` removes the real release, `pulumi up` is
pulumi_stand_in.py (the program's checks and objects, applied as the engine applies them: it says
where it stands in), the restore is a `kubectl exec` into the program's PostgreSQL, the migration is
the program's Job in the Dagster image. Afterwards a run of an example job goes through the new
deployment on the carried history.

Runs in its own session (scripts/test-node.sh): it needs the namespace the stack tests deploy to.
"""
from __future__ import annotations

import copy
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cluster import program
from tests.node import stack_on_node, test_runs
from tests.node.rehearsal import manual_on_node

here = Path(__file__).resolve().parent
STACK = "kde04-rehearsal"
NS = manual_on_node.NAMESPACE
STEPS = ["backup", "secrets", "uninstall", "deploy", "quiesce", "restore", "scale-up", "old-objects"]
OLD_DB = ("dagster-postgresql-0", "dagster-postgresql")
NEW_DB = ("dagster-postgresql-0", "postgresql")
MARKER = "manual/written-before-the-takeover.txt"
RUN_ID = "e0000000-0000-4000-8000-0000000000aa"


def psql(node, pod_container: tuple, role: str, sql: str) -> list:
    pod, container = pod_container
    out = node.kubectl("-n", NS, "exec", pod, "-c", container, "--", "psql", "-X", "-U", role, "-d", role,
                       "-tA", "-F", " ", "-c", sql).stdout
    return out.split("\n")[:-1]


def history(node, pod_container: tuple, role: str) -> dict:
    return {"runs": psql(node, pod_container, role, "SELECT run_id, status FROM runs ORDER BY run_id"),
            "event_log_rows": psql(node, pod_container, role, "SELECT count(*) FROM event_logs")[0]}


def old_code_server(node, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return node.kubectl("-n", NS, "exec", f"deployment/{manual_on_node.CODE_SERVER}", "-c", "dagster-user-deployments",
                        "--", *argv, check=check, timeout=300)


def stack_file(io_dir: Path) -> str:
    """kde04's stack file as the operator has it on the day (its registry password set), with the
    node's settings (stack_on_node.settings: the IO volume a node folder, the code location the
    image built here, pinned by digest; small run and step pods)."""
    doc = yaml.safe_load((program.REPO / "Pulumi.kde04.yaml").read_text())
    doc["config"]["imqcam-dagster:registryPassword"] = {"secure": "v1:rehearsal-ciphertext"}
    # No ioVolume.writer, as kde04's file: the stack writes the share as the user-code image's user.
    for key, setting in stack_on_node.settings(io_dir, writer=None).items():
        doc["config"][f"imqcam-dagster:{key}"] = copy.deepcopy(setting["value"])  # no YAML aliases
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def rehearsal(node, tmp_path_factory):
    work = tmp_path_factory.mktemp("rehearsal")
    io_dir = node.root / "io"
    io_dir.mkdir()
    manual_on_node.seed(node, work, secrets.token_hex(12), io_dir)
    # The history, written by Dagster 1.7.5 in the old code server's pod: two runs that succeed
    # and one that fails, and a file on the share.
    for job in ("count_job", "count_job", "failing_job"):
        done = old_code_server(node, "dagster", "job", "execute", "-m", "imqcam", "-a", "defs", "-j", job, check=False)
        assert (done.returncode == 0) == (job != "failing_job"), done.stdout[-2000:] + done.stderr[-2000:]
    old_code_server(node, "sh", "-c", f"mkdir -p {manual_on_node.IO_MOUNT}/manual && "
                                      f"echo kept > {manual_on_node.IO_MOUNT}/{MARKER}")
    path = program.REPO / f"Pulumi.{STACK}.yaml"
    path.write_text(stack_file(io_dir))
    state = program.REPO / ".takeover" / STACK
    tools = work / "bin"
    tools.mkdir()
    # Run where the takeover runs `pulumi`, the project's folder (the repository root), as the real CLI is.
    (tools / "pulumi").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tests.node.rehearsal.pulumi_stand_in "$@"\n')
    (tools / "pulumi").chmod(0o755)
    env = {**node.env, "PATH": f"{tools}{os.pathsep}{node.env['PATH']}", "PYTHONUNBUFFERED": "1",
           "IMQCAM_REHEARSAL": json.dumps({"root": str(node.root), "bin": str(node.bin), "port": node.port,
                                           "kubeconfig": str(node.kubeconfig), "node_name": node.node_name,
                                           "folder": str(work)})}
    try:
        yield node, env, io_dir
    finally:
        path.unlink(missing_ok=True)
        shutil.rmtree(state, ignore_errors=True)


def takeover(node, env: dict, *args: str, kill_after_one_step: bool = False) -> tuple[int, str]:
    """One run of `python3 -m takeover` inside the node's network namespace; with the flag, SIGKILLed
    (the whole process group, kubectl and helm included) as soon as its first step is done."""
    proc = subprocess.Popen([*node.wrap, sys.executable, "-m", "takeover", "--stack", STACK, *args],
                            cwd=program.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines, steps_begun = [], 0
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("== "):
            steps_begun += 1
            if kill_after_one_step and steps_begun == 2:
                os.killpg(proc.pid, signal.SIGKILL)
                break
    proc.stdout.close()
    return proc.wait(timeout=1800), "".join(lines)


def test_the_dry_run_stops_at_a_share_written_as_root_and_its_fix_clears_the_way(rehearsal):
    node, env, io_dir = rehearsal
    # What the dry run asks for: volumes of kde04's class for the program's claims (README).
    claims = stack_on_node.claims_of_the_class(stack_on_node.evaluation({}, stack=STACK)["objects"])
    assert len(claims) == 2, claims
    node.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                        "items": stack_on_node.local_volumes(node, claims)[1:]}))
    # The old pods wrote the share as root; the stack writes it as 10001, which may not.
    code, out = takeover(node, env, "--dry-run")
    assert code == 2, out
    assert "old run history: 3 runs (FAILURE: 1, SUCCESS: 2)" in out, out
    written = sum(1 for _ in io_dir.rglob("*")) + 1
    assert f"{written} files and folders on the IO share may not be written by uid 10001, gid 10001" in out, out
    # The fix it prints, pasted as an operator would: a chown in the old code server's pod.
    fix = re.search(r"Give them to that user .*?: `(kubectl exec [^`]+)`", out, re.S)
    assert fix, out
    node.kubectl(*shlex.split(fix.group(1))[1:])
    assert {(p.stat().st_uid, p.stat().st_gid) for p in [io_dir, *io_dir.rglob("*")]} == {(10001, 10001)}

    code, out = takeover(node, env, "--dry-run")
    assert code == 0, out
    assert "the node's folder" in out and "Dry run: nothing was changed." in out, out
    # The share's owner as the old code server's pod sees it: the folder's on the node.
    st = io_dir.stat()
    assert f"its top folder belongs to uid 10001, gid 10001 (mode {st.st_mode & 0o7777:o})" in out, out
    assert "everything on it is writable by the stack's writer (uid 10001, gid 10001)" in out, out


def test_the_takeover_killed_after_each_step_resumes_and_carries_everything(rehearsal):
    node, env, io_dir = rehearsal
    before = history(node, OLD_DB, manual_on_node.OLD_USER)
    assert len(before["runs"]) == 3 and int(before["event_log_rows"]) > 20, before
    uids = {kind: node.get(kind, "imqcam-dagster-io-data", *(["-n", NS] if kind == "pvc" else []))["metadata"]["uid"]
            for kind in ("pv", "pvc")}
    uids["namespace"] = node.get("namespace", NS)["metadata"]["uid"]

    outputs = []
    for step in STEPS[:-1]:
        code, out = takeover(node, env, "--yes", "--delete-old", kill_after_one_step=True)
        outputs.append(out)
        assert code == -signal.SIGKILL, f"the run for step {step} ended by itself ({code}):\n{out}"
        done = json.loads((program.REPO / ".takeover" / STACK / "state.json").read_text())["steps"]
        assert done[step]["status"] == "done", (step, done, out)
    code, out = takeover(node, env, "--yes", "--delete-old")
    assert code == 0, out
    assert "The takeover of stack kde04-rehearsal is complete." in out, out
    for out in outputs[3:] + [out]:
        assert "Resuming the takeover" in out, out

    # The same runs, statuses and event rows, in the program's database.
    after = history(node, NEW_DB, "dagster")
    assert after == before, (before, after)
    # The namespace, the IO volume and its claim adopted in place; the share's files kept.
    assert node.get("namespace", NS)["metadata"]["uid"] == uids["namespace"]
    assert node.get("pv", "imqcam-dagster-io-data")["metadata"]["uid"] == uids["pv"]
    assert node.get("pvc", "imqcam-dagster-io-data", "-n", NS)["metadata"]["uid"] == uids["pvc"]
    assert (io_dir / MARKER).read_text() == "kept\n"
    dumps = list((io_dir / "backups" / "takeover").glob("history-*.dump"))
    assert dumps and not list((io_dir / "backups" / "takeover").glob("*.partial")), dumps
    # Copied through the old pod, as root, and given to the stack's writer with the folders made for it.
    assert {(p.stat().st_uid, p.stat().st_gid) for p in [*dumps, dumps[0].parent, dumps[0].parent.parent]} == {(10001, 10001)}
    # The old release gone, its claims deleted (--delete-old), their volumes kept (Retain).
    assert json.loads(node.helm("list", "-n", NS, "-o", "json").stdout) == []
    claims = {c["metadata"]["name"] for c in node.get("pvc", "-n", NS)["items"]}
    assert not claims & {"data-dagster-postgresql-0", "data-dagster-rabbitmq-0"}, claims
    for claim in ("data-dagster-postgresql-0", "data-dagster-rabbitmq-0"):
        assert node.get("pv", f"{manual_on_node.OLD_CLASS}-{claim}")["status"]["phase"] == "Released"


def test_a_run_on_the_carried_history_succeeds(rehearsal):
    node, _, io_dir = rehearsal
    result = stack_on_node.evaluation({}, stack=STACK)
    deployed = stack_on_node.Deployed(node=node, objects=result["objects"], values=result["releaseValues"],
                                      io_dir=io_dir, patches=result["patches"])
    before = history(node, NEW_DB, "dagster")
    status, _ = test_runs.launch_and_wait(deployed, "example_job", RUN_ID, test_runs.RUN_CONFIG)
    assert status == "SUCCESS"
    # Its step log, written as the user-code image's user.
    logs = [p for p in (io_dir / "compute-logs").rglob("*") if p.is_file() and RUN_ID in str(p)]
    assert logs and {(p.stat().st_uid, p.stat().st_gid) for p in logs} == {(10001, 10001)}, logs
    after = history(node, NEW_DB, "dagster")
    assert sorted(after["runs"]) == sorted(before["runs"] + [f"{RUN_ID} SUCCESS"]), after
    assert int(after["event_log_rows"]) > int(before["event_log_rows"])
