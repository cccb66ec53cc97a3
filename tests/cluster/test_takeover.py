"""The takeover against real objects: kde04's manual deployment seeded into a real API server
(manual_deployment.py, with a real Helm release), its run history in a real PostgreSQL, then:
the takeover's inventory and plan (`python3 -m takeover --dry-run`, with the real kubectl and
helm), the program's refusal to deploy over the old release, the uninstall, and the adoption of
the namespace, the NFS volume and its claim by the program's own objects, in place.

`kubectl exec` is the one call that cannot reach a pod here (no kubelet): kubectl_exec_here.py runs
it on this machine with the pod's environment as the API server holds it, against the test's
PostgreSQL. The steps after the dry run that copy files and run `pulumi up` are not run here. The
dry run runs the program's own checks (scripts/checkStack.ts) against the same API server."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cluster import manual_deployment, program, storage
from tests.harness import postgres_server

NS = manual_deployment.NAMESPACE


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _seed_history(server, password: str, work: Path) -> None:
    """A real Dagster run history, written by the pinned Dagster as the manual deployment's role."""
    home = work / "dagster-home"
    home.mkdir()
    (home / "dagster.yaml").write_text(textwrap.dedent(f"""\
        storage:
          postgres:
            postgres_db: {{username: test, password: {password}, hostname: 127.0.0.1, db_name: test, port: {server.port},
                          scheme: postgresql+psycopg2}}
        """))
    (work / "seed_history.py").write_text(textwrap.dedent("""\
        from dagster import DagsterInstance, execute_job, job, op, reconstructable

        @op
        def hello():
            return 1

        @job
        def seed_job():
            hello()

        if __name__ == "__main__":
            assert execute_job(reconstructable(seed_job), DagsterInstance.get()).success
        """))
    done = subprocess.run([sys.executable, "seed_history.py"], cwd=work, env={**os.environ, "DAGSTER_HOME": str(home)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def kde04(plane, tmp_path_factory):
    work = tmp_path_factory.mktemp("takeover")
    password = secrets.token_hex(12)
    with postgres_server.running() as server:
        server.create_role_and_database("test", password, "test")
        _seed_history(server, password, work)
        manual_deployment.seed(plane, work, password)
        tools = work / "bin"
        tools.mkdir()
        _tool(tools, "kubectl", f'exec "{sys.executable}" "{Path(__file__).parent / "kubectl_exec_here.py"}" "$@"')
        # The takeover checks these before it would change anything; neither is used by a dry run.
        _tool(tools, "pulumi", 'echo "imqcam-test"')
        _tool(tools, "docker", 'echo "28.2.2"')
        env = {**plane.env, "PATH": f"{tools}{os.pathsep}{plane.env['PATH']}", "REAL_KUBECTL": str(plane.bin / "kubectl"),
               "EXEC_HERE_ENV": json.dumps({"PGHOST": "127.0.0.1", "PGPORT": str(server.port),
                                            "PATH": f"{server.bindir}:/usr/bin:/bin"})}
        yield plane, env


def takeover(env: dict, *args: str, stack: str = "kde04") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "takeover", "--stack", stack, *args], cwd=program.REPO, env=env,
                          capture_output=True, text=True, timeout=300)


REHEARSAL = "kde04-rehearsal"


@pytest.fixture(scope="module")
def rehearsal_stack():
    """kde04's stack file as an operator has it on the day, its registry password set (README's set-up):
    a stack file of its own, removed after the module."""
    path = program.REPO / f"Pulumi.{REHEARSAL}.yaml"
    stack_file = (program.REPO / "Pulumi.kde04.yaml").read_text()
    path.write_text(stack_file + "  imqcam-dagster:registryPassword:\n    secure: v1:rehearsal-ciphertext\n")
    try:
        yield REHEARSAL
    finally:
        path.unlink()


def test_the_dry_run_stops_where_pulumi_up_would_after_the_uninstall(kde04):
    """Pulumi.kde04.yaml as committed: no registry password, and no volume free on kde04's class
    without a provisioner (the old claims hold both). Both stop the dry run, before any change."""
    plane, env = kde04
    done = takeover(env, "--dry-run")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "`pulumi up` would stop after the uninstall at registryPassword: is not set" in done.stdout, done.stdout
    assert plane.helm("list", "-n", NS, "-o", "json").stdout.count('"name":"dagster"') == 1


def test_the_dry_run_stops_at_no_free_volume_for_the_new_claims(kde04, rehearsal_stack):
    plane, env = kde04
    done = takeover(env, "--dry-run", stack=rehearsal_stack)
    assert done.returncode == 2, done.stdout + done.stderr
    for key in ("postgresqlVolume", "rabbitmqVolume"):
        assert (f"`pulumi up` would stop after the uninstall at {key}.storageClass: is \"local-storage-kde04\", a class "
                f"without a provisioner, and no free volume of it on kde04.idies.jhu.edu has 100Gi") in done.stdout, done.stdout


def test_the_dry_run_reads_the_manual_deployment_and_plans_without_a_problem(kde04, rehearsal_stack):
    plane, env = kde04
    # What the dry run asked for: two volumes of kde04's class on the node, as its administrators make them.
    storage.provide(plane, manual_deployment.OLD_CLASS, ["100Gi", "100Gi"])
    done = takeover(env, "--dry-run", stack=rehearsal_stack)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    # Read through the pod's own environment and Secret, from the real database.
    assert "old run history: 1 runs (SUCCESS: 1)" in out, out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert "adopt Namespace imqcam-dagster: the stack takes it over in place (never deleted and re-created)" in rows
    assert ("adopt PersistentVolume imqcam-dagster-io-data: NFS sciserver-fs1:/srv/vc_crypt/IMQCAM/dagster_filesystem_io, "
            "5Gi, reclaim Retain: taken over in place, files and binding untouched; "
            "its top folder's owner was not read; whether the stack's writer may write everything on it was not "
            "checked") in rows  # kwok's pods run nothing to `stat` or `find` it in
    assert any(r.startswith("replace HelmRelease dagster: chart dagster-1.7.5: backed up") for r in rows), out
    assert "Dry run: nothing was changed." in out


def test_the_dry_run_stops_at_a_secret_without_a_key_it_must_copy(kde04, rehearsal_stack):
    plane, env = kde04
    plane.kubectl("patch", "secret", "girder-connection-info", "-n", NS, "--type=json",
                  "-p", '[{"op": "remove", "path": "/data/GIRDER_API_KEY"}]')
    try:
        done = takeover(env, "--dry-run", stack=rehearsal_stack)
    finally:
        secret = manual_deployment.fixture("secret-girder-connection-info.json")
        plane.kubectl("patch", "secret", "girder-connection-info", "-n", NS, "--type=merge",
                      "-p", json.dumps({"data": {"GIRDER_API_KEY": secret["data"]["GIRDER_API_KEY"]}}))
    assert done.returncode == 2, done.stdout
    assert "Secret girder-connection-info has keys GIRDER_API_URL; expected exactly GIRDER_API_KEY, GIRDER_API_URL" \
        in done.stdout


def test_the_program_does_not_deploy_over_the_old_release_even_in_a_takeover(kde04):
    plane, _ = kde04
    refused = program.check_cluster(plane, "kde04")
    assert refused["error"] == "ClusterOwnershipError" and refused["resources"] == 0
    assert program.problem_keys(refused) == ["Helm release dagster", "Namespace imqcam-dagster",
                                             "PersistentVolume imqcam-dagster-io-data",
                                             "PersistentVolumeClaim imqcam-dagster-io-data"]
    taking_over = program.check_cluster(plane, "kde04", env={"IMQCAM_TAKE_OVER": "1"})
    assert program.problem_keys(taking_over) == ["Helm release dagster"]


def test_the_uninstall_leaves_the_data_the_secrets_and_the_nfs_binding(kde04):
    plane, _ = kde04
    io_uid = plane.get("pv", "imqcam-dagster-io-data")["metadata"]["uid"]
    plane.helm("uninstall", "dagster", "-n", NS, "--wait", "--timeout", "3m")
    assert plane.get("statefulsets,deployments", "-n", NS)["items"] == []
    for claim in ("data-dagster-postgresql-0", "data-dagster-rabbitmq-0", "imqcam-dagster-io-data"):
        assert plane.get("pvc", claim, "-n", NS)["status"]["phase"] == "Bound", claim
    for secret in ("girder-connection-info", "globus-compute-creds"):
        assert plane.get("secret", secret, "-n", NS)["data"]
    assert plane.get("pv", "imqcam-dagster-io-data")["metadata"]["uid"] == io_uid


def test_the_program_adopts_the_namespace_volume_and_claim_in_place(kde04):
    plane, _ = kde04
    assert program.problem_keys(program.check_cluster(plane, "kde04", env={"IMQCAM_TAKE_OVER": "1"})) == []
    adopted = [o for o in program.objects("kde04") if o["kind"] == "Namespace"
               or o["metadata"]["name"] == "imqcam-dagster-io-data"]
    assert len(adopted) == 3
    before = {o["kind"]: program.read_back(plane, o)["metadata"]["uid"] for o in adopted}
    # As the provider applies: server-side, without forcing a conflict with kubectl's fields.
    program.apply(plane, adopted)
    after = {o["kind"]: program.read_back(plane, o) for o in adopted}
    assert {kind: o["metadata"]["uid"] for kind, o in after.items()} == before, "adopted in place, not re-created"
    volume, claim = after["PersistentVolume"], after["PersistentVolumeClaim"]
    assert volume["status"]["phase"] == "Bound" and claim["status"]["phase"] == "Bound"
    assert volume["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
    assert volume["spec"]["nfs"] == {"server": "sciserver-fs1", "path": "/srv/vc_crypt/IMQCAM/dagster_filesystem_io"}
    assert all(o["metadata"]["annotations"]["imqcam-dagster/stack"] == "imqcam-dagster/kde04" for o in after.values())
    # Now the stack's own: the next `pulumi up` needs no takeover.
    assert program.check_cluster(plane, "kde04")["error"] is None
