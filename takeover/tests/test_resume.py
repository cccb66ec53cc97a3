"""A failure at any step, before or after the failing command took effect (as a crash would),
then the same command again: it continues without repeating what was done."""
import json

import pytest

from takeover.tests.fake import NEW_ALEMBIC, FakeDB

# (what fails, before or after its effect, which occurrence)
FAILURES = [
    ("history.dump", "before", 1),
    ("history.dump", "after", 1),
    ("kubectl exec", "before", 3),               # the upload to the share (#1, #2: the inventory's reads of it)
    ("kubectl exec", "after", 4),                # the rename on the share
    ("pulumi config set", "before", 2),
    ("pulumi config set", "after", 3),
    ("kubectl scale deployment dagster-daemon", "before", 1),   # stopping the old daemon
    ("helm uninstall", "before", 1),
    ("helm uninstall", "after", 1),
    ("kubectl get pvc -n imqcam-dagster", "before", 2),         # the check after the uninstall
    ("pulumi up", "before", 1),
    ("pulumi up", "after", 1),
    ("kubectl scale deployment dagster-daemon -n imqcam-dagster --replicas=0", "after", 2),  # quiesce, midway
    ("kubectl get pods -n imqcam-dagster -l", "before", 4),
    ("history.restore", "before", 1),
    ("history.restore", "after", 1),
    ("kubectl create", "before", 1),
    ("kubectl create", "after", 1),
    ("kubectl delete job", "before", 1),
    ("history.summary dagster-postgresql-0 postgresql", "before", 2),  # the verification
    ("kubectl scale deployment dagster-dagster-webserver -n imqcam-dagster --replicas=1", "after", 1),
    ("kubectl rollout status", "before", 2),
    ("kubectl delete secret", "before", 1),
    ("kubectl delete pvc", "after", 1),
]


@pytest.mark.parametrize("match,when,nth", FAILURES, ids=[f"{m} {w} #{n}" for m, w, n in FAILURES])
def test_resume_after_a_failure(world, session, match, when, nth):
    world.fail(match, when, nth)
    first = session.run("--yes", "--delete-old")
    assert first == 1, session.text()
    assert "run the same command again" in session.text()
    assert session.run("--yes", "--delete-old") == 0, session.text(last=True)
    # Every destructive step took effect exactly once.
    assert world.effect_count("helm uninstall") == 1
    assert world.effect_count("restore") == 1
    assert world.effect_count("pulumi up") <= 2
    for key in ("girder-connection-info.GIRDER_API_KEY", "girder-connection-info.GIRDER_API_URL",
                "globus-compute-creds.GLOBUS_COMPUTE_CLIENT_ID", "globus-compute-creds.GLOBUS_COMPUTE_CLIENT_SECRET"):
        assert world.effect_count(f"config set {key}") == 1
    # The backups the state names exist; a dump is repeated only if it never reached the share.
    state = json.loads(session.state_path.read_text())
    assert state["backup"]["share_in_pods"] in world.share
    assert world.effect_count("dump") <= 2
    assert world.effect_count("dump") == 1 or match in ("history.dump", "kubectl exec")
    # The result is the same as without the failure.
    assert world.dbs["postgresql"].runs == FakeDB.old_history().runs
    assert world.dbs["postgresql"].alembic == NEW_ALEMBIC
    assert state["replicas"] == world.original_replicas()
    assert {n: d["spec"]["replicas"] for n, d in world.deployments.items()} == world.original_replicas()
    assert "data-dagster-postgresql-0" not in world.pvcs and "girder-connection-info" not in world.secrets
    assert all(s["status"] == "done" for s in state["steps"].values())


def test_resume_after_the_process_is_killed_right_after_the_uninstall(world, session):
    world.fail("helm uninstall", "after", 1, exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        session.run("--yes")
    assert session.run("--yes") == 0
    assert "Resuming the takeover" in session.text(last=True)
    assert world.effect_count("helm uninstall") == 1 and world.effect_count("restore") == 1


def test_resume_after_a_kill_mid_quiesce_keeps_the_first_recorded_replicas(world, session):
    world.fail("kubectl scale deployment dagster-celery-workers-dagster -n imqcam-dagster --replicas=0", "after", 1,
               exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        session.run("--yes")
    assert world.deployments["dagster-celery-workers-dagster"]["spec"]["replicas"] == 0
    assert session.run("--yes") == 0
    assert world.deployments["dagster-celery-workers-dagster"]["spec"]["replicas"] == 2


def test_a_stop_before_the_uninstall_inventories_again_on_the_next_run(world, session):
    world.dbs["dagster-postgresql"].runs["0badc0de-0000-4000-8000-000000000001"] = "STARTED"
    assert session.run("--yes") == 2
    world.dbs["dagster-postgresql"].runs["0badc0de-0000-4000-8000-000000000001"] = "SUCCESS"
    assert session.run("--yes") == 0
    assert "0badc0de-0000-4000-8000-000000000001" in world.dbs["postgresql"].runs


def test_after_the_uninstall_a_rerun_does_not_need_the_old_release(world, session):
    world.fail("pulumi up", "before", 1)
    assert session.run("--yes") == 1
    assert not world.releases  # the old release is gone: an inventory now would stop
    assert session.run("--dry-run") == 0
    assert "[done] 4." in session.text(last=True) and "[failed] 5." in session.text(last=True)
    assert session.run("--yes") == 0


def test_a_step_killed_midway_is_run_again_not_skipped(world, session):
    world.fail("kubectl scale deployment dagster-celery-workers-dagster -n imqcam-dagster --replicas=0", "after", 1,
               exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        session.run("--yes")
    assert world.deployments["dagster-daemon"]["spec"]["replicas"] == 1  # not yet quiesced
    before = len(world.log)
    assert session.run("--yes") == 0
    second = [c.line for c in world.log[before:]]
    restore = next(i for i, line in enumerate(second) if line.startswith("history.restore"))
    assert "kubectl scale deployment dagster-daemon -n imqcam-dagster --replicas=0" in second[:restore]


def test_killed_just_before_the_uninstall_uninstalls_on_the_next_run(world, session):
    world.fail("helm uninstall", "before", 1, exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        session.run("--yes")
    assert world.releases  # still the old release
    assert session.run("--yes") == 0
    assert world.effect_count("helm uninstall") == 1
    assert world.releases[0]["chart"] == "dagster-1.13.27"


def test_one_takeover_at_a_time(world, session):
    from takeover.state import State
    other = State(session.root / ".takeover" / "kde04", "kde04")
    other.lock()
    try:
        assert session.run("--yes") == 2
        assert "another take-over of this stack is running" in session.text()
        assert world.effects == []
    finally:
        other.unlock()
