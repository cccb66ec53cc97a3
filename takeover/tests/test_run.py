"""A whole takeover against the fake kde04: the order of the commands, and what each step leaves."""
import hashlib
import json
from pathlib import Path

from takeover import share
from takeover.tests.fake import NEW_ALEMBIC, FakeDB, load

CHANGES = ("kubectl scale", "kubectl delete", "kubectl create", "helm uninstall", "pulumi config set", "pulumi up",
           "history.restore")
SHARE_DIR = "/tmp/imqcam_filesystem_io_data/backups/takeover"


def first_change(world) -> int:
    return next(i for i, c in enumerate(world.log) if c.line.startswith(CHANGES))


def share_finish(world) -> int:
    return next(i for i, c in enumerate(world.log) if c.line.startswith("kubectl exec") and "mv -f" in c.argv[11])


def test_full_run_in_order(world, session):
    assert session.run("--yes") == 0
    log = world.log
    # Nothing changes before the backup exists on both sides.
    assert world.index("history.dump") < share_finish(world) < first_change(world)
    assert world.effects[:2] == ["dump", "share copy"]
    # The old daemon and webserver stop, the history is checked again, then the release goes.
    freeze = world.index("kubectl scale deployment dagster-daemon -n imqcam-dagster --replicas=0")
    recheck = max(i for i, c in enumerate(log) if c.line == "history.summary dagster-postgresql-0 dagster-postgresql")
    uninstall = world.index("helm uninstall dagster -n imqcam-dagster --wait")
    up = world.index("pulumi up --stack kde04 --yes")
    assert world.index("pulumi config set") < freeze < recheck < uninstall < up
    assert log[up].env == {"IMQCAM_TAKE_OVER": "1"}
    # Quiesce every new Deployment before the restore; migrate after it; verify after that.
    scale_downs = [i for i, c in enumerate(log) if c.line.startswith("kubectl scale") and c.line.endswith("=0")
                   and i > up]
    assert len(scale_downs) == 4
    restore = world.index("history.restore dagster-postgresql-0 postgresql")
    create = world.index("kubectl create -n imqcam-dagster -f -")
    verify = world.index("history.summary dagster-postgresql-0 postgresql", last=True)
    assert max(scale_downs) < restore < create < verify
    # Back up, rollouts last; nothing old deleted without --delete-old.
    scale_ups = [i for i, c in enumerate(log) if c.line.startswith("kubectl scale") and not c.line.endswith("=0")]
    rollouts = [i for i, c in enumerate(log) if c.line.startswith("kubectl rollout status")]
    assert verify < min(scale_ups) and max(scale_ups) < min(rollouts) and len(rollouts) == 4
    assert not world.calls("kubectl delete secret") and not world.calls("kubectl delete pvc")
    assert "kubectl delete pvc data-dagster-postgresql-0 data-dagster-rabbitmq-0 -n imqcam-dagster --ignore-not-found" \
        in session.text()


def test_full_run_result(world, session):
    assert session.run("--yes") == 0
    old = FakeDB.old_history()
    new = world.dbs["postgresql"]
    assert new.runs == old.runs and new.events == old.events and new.alembic == NEW_ALEMBIC
    assert {n: d["spec"]["replicas"] for n, d in world.deployments.items()} == world.original_replicas()
    assert set(world.env_secrets["globus-compute-creds"]) == {"GLOBUS_COMPUTE_CLIENT_ID",
                                                              "GLOBUS_COMPUTE_CLIENT_SECRET"}
    state = json.loads(session.state_path.read_text())
    local = Path(state["backup"]["local"])
    share = world.share[state["backup"]["share_in_pods"]]
    sha = state["backup"]["sha256"]
    assert hashlib.sha256(local.read_bytes()).hexdigest() == hashlib.sha256(share).hexdigest() == sha
    share_folder = "sciserver-fs1:/srv/vc_crypt/IMQCAM/dagster_filesystem_io/backups/takeover/"
    assert state["backup"]["share"].startswith(share_folder)
    assert state["backup"]["local"] in session.text() and state["backup"]["share"] in session.text()
    assert local.parent == session.root / ".takeover" / "kde04"
    assert (local.stat().st_mode & 0o777) == 0o600 and (local.parent.stat().st_mode & 0o777) == 0o700
    assert not [p for p in world.share if p.endswith(".partial")]
    # Written through the old pod (as root), then given to the stack's writer with its folders.
    mount = "/tmp/imqcam_filesystem_io_data"
    assert world.share_owners == {state["backup"]["share_in_pods"]: "10001:10001", f"{mount}/backups/takeover": "10001:10001",
                                  f"{mount}/backups": "10001:10001"}
    # The way back: the old release's values and manifest, saved before the uninstall, readable only by the operator.
    saved = [Path(p) for p in state["release_saved"]]
    assert [p.name for p in saved] == ["release-dagster-values.yaml", "release-dagster-manifest.yaml"]
    assert json.loads(saved[0].read_text()) == load("helm-values.json")
    assert all((p.stat().st_mode & 0o777) == 0o600 and str(p) in session.text() for p in saved)
    assert world.index("helm get manifest dagster -n imqcam-dagster") < world.index("helm uninstall")
    # The copied migration Job ran and was removed; the program's own stays.
    assert list(world.jobs) == ["dagster-migrate-1-13-27"]
    assert state["steps"]["old-objects"]["status"] == "pending"
    assert all(v > 0 for v in state["replicas"].values())


def test_old_objects_deleted_only_with_delete_old_after_health(world, session):
    assert session.run("--yes") == 0
    assert "data-dagster-rabbitmq-0" in world.pvcs and "girder-connection-info" in world.secrets
    before = len(world.log)
    assert session.run("--yes", "--delete-old") == 0
    new = world.log[before:]
    # The second run repeats nothing but the deletions.
    assert [c.line for c in new if c.line.startswith(CHANGES)] == [
        "kubectl delete secret girder-connection-info globus-compute-creds -n imqcam-dagster --ignore-not-found",
        "kubectl delete pvc data-dagster-postgresql-0 data-dagster-rabbitmq-0 -n imqcam-dagster --ignore-not-found",
    ]
    assert "data-dagster-postgresql-0" not in world.pvcs and "girder-connection-info" not in world.secrets
    assert "imqcam-dagster-io-data" in world.pvcs and "imqcam-dagster-io-data" in world.pvs


def test_delete_old_in_one_go_deletes_after_the_rollouts(world, session):
    assert session.run("--yes", "--delete-old") == 0
    assert world.index("kubectl rollout status", last=True) < world.index("kubectl delete secret")
    assert world.index("kubectl rollout status", last=True) < world.index("kubectl delete pvc")


def test_dry_run_changes_nothing(world, session):
    assert session.run("--dry-run") == 0
    assert "replace       HelmRelease" in session.text() and "Dry run: nothing was changed" in session.text()
    # Its one exec reads the share's owner (`stat`), which the plan prints.
    assert not [c for c in world.log if c.line.startswith(CHANGES + ("kubectl exec", "history.dump"))
                and not set(share.READS) & set(c.argv)]
    assert "its top folder belongs to uid 1000, gid 100 (mode 2775)" in session.text()
    assert not (session.root / ".takeover" / "kde04" / "state.json").exists()


def test_without_yes_the_operator_must_confirm(world, session):
    assert session.run(answer="no") == 2
    assert world.effects == []
    assert session.run(answer=EOFError) == 2  # stdin is not a terminal
    assert world.effects == []
    assert session.run(answer="yes") == 0


def test_history_that_changed_after_the_backup_is_backed_up_again(world, session):
    def new_run_after_secrets(call):
        if call.line.startswith("helm list") and world.effect_count("config set girder-connection-info.GIRDER_API_KEY"):
            world.dbs["dagster-postgresql"].runs.setdefault("feedface-0000-4000-8000-000000000099", "SUCCESS")
    world.on_call = new_run_after_secrets
    assert session.run("--yes") == 0
    assert world.effects.count("dump") == 2 and world.effects.count("share copy") == 2
    assert world.index("history.dump", last=True) < world.index("helm uninstall")
    assert "feedface-0000-4000-8000-000000000099" in world.dbs["postgresql"].runs
    state = json.loads(session.state_path.read_text())
    assert len(state["backup"]["summary"]["run_ids"]) == 51


def test_a_run_started_before_the_uninstall_stops_and_restarts_the_old_daemon(world, session):
    def run_starts(call):
        if call.line == "kubectl scale deployment dagster-dagster-webserver -n imqcam-dagster --replicas=0":
            world.dbs["dagster-postgresql"].runs["0badc0de-0000-4000-8000-000000000001"] = "STARTED"
    world.on_call = run_starts
    assert session.run("--yes") == 2
    assert "a run started in the old deployment" in session.text()
    assert not world.calls("helm uninstall")
    assert world.deployments["dagster-daemon"]["spec"]["replicas"] == 1
    assert world.deployments["dagster-dagster-webserver"]["spec"]["replicas"] == 1
    # The run finishes; the same command goes on.
    world.on_call = None
    world.dbs["dagster-postgresql"].runs["0badc0de-0000-4000-8000-000000000001"] = "SUCCESS"
    assert session.run("--yes") == 0
    assert "0badc0de-0000-4000-8000-000000000001" in world.dbs["postgresql"].runs


def test_share_not_mounted_fails_before_any_change(world, session):
    world.share_mounted = False
    assert session.run("--yes") == 1
    assert "is not a mounted volume" in session.text()
    assert world.effects == ["dump"]
    world.share_mounted = True
    assert session.run("--yes") == 0


def test_a_corrupted_copy_on_the_share_is_discarded(world, session):
    world.share_corrupts = True
    assert session.run("--yes") == 1
    assert "the partial copy was removed" in session.text()
    assert world.share == {} and world.effects == ["dump"]


def test_claims_gone_after_uninstall_stop_loudly_before_pulumi_up(world, session):
    world.uninstall_deletes = ["data-dagster-postgresql-0"]
    assert session.run("--yes") == 2
    assert "GONE: PersistentVolumeClaim data-dagster-postgresql-0" in session.text()
    assert "Do NOT run `pulumi up`" in session.text()
    assert not world.calls("pulumi up")


def test_a_recreated_volume_stops_after_pulumi_up(world, session):
    world.pulumi_recreates_pv = True
    assert session.run("--yes") == 2
    assert "did not adopt in place: PersistentVolume imqcam-dagster-io-data" in session.text()
    assert not world.calls("history.restore")


def test_a_failed_migration_shows_its_logs_and_a_rerun_starts_a_new_job(world, session):
    world.migrate_fails = True
    assert session.run("--yes") == 1
    assert "sqlalchemy.exc.OperationalError: boom" in session.text()
    failed = [n for n in world.jobs if n.startswith("dagster-takeover-migrate-")]
    assert len(failed) == 1  # kept for inspection
    world.migrate_fails = False
    assert session.run("--yes") == 0
    assert world.calls(f"kubectl delete job {failed[0]}")
    assert list(world.jobs) == ["dagster-migrate-1-13-27"]
    assert world.dbs["postgresql"].alembic == NEW_ALEMBIC


def test_a_history_that_does_not_verify_stops_and_keeps_everything(world, session):
    world.restore_loses_events = 3
    assert session.run("--yes", "--delete-old") == 2
    text = session.text()
    assert "event log rows: 1470 before, 1467 after" in text
    state = json.loads(session.state_path.read_text())
    assert state["backup"]["local"] in text and state["backup"]["share"] in text
    assert all(d["spec"]["replicas"] == 0 for d in world.deployments.values())
    assert "data-dagster-postgresql-0" in world.pvcs and "girder-connection-info" in world.secrets
    assert not world.calls("kubectl delete pvc") and not world.calls("kubectl rollout")


def test_a_new_database_with_foreign_runs_is_not_restored_into(world, session):
    def foreign_runs(call):
        if call.line.startswith("pulumi up"):
            world.dbs["postgresql"] = FakeDB({"aaaaaaaa-0000-4000-8000-000000000001": "SUCCESS"}, 10, NEW_ALEMBIC)
    world.on_call = foreign_runs
    assert session.run("--yes") == 2
    assert "already holds 1 runs that are not the backup's" in session.text()
    assert not world.calls("history.restore")


def test_the_migration_job_copy_is_the_programs_job(world, session):
    assert session.run("--yes") == 0
    created = json.loads(world.calls("kubectl create")[0].stdin)
    source = load("job-dagster-migrate-1-13-27.json")
    assert created["spec"]["template"]["spec"] == source["spec"]["template"]["spec"]
    assert created["metadata"]["name"].startswith("dagster-takeover-migrate-")
