"""Two stacks of the same name, against a real API server: kde04's objects as one state of it made
them (instance A, the mocks' id: scripts/objects.ts), then the entry point, index.ts under Pulumi's
mocks (scripts/checkCluster.ts), as another state of kde04 (instance B) and as A again. The program
reads the credentials Secrets' names and marks with the real kubectl, never their values."""
from __future__ import annotations

import shlex

import pytest

from tests.cluster import program, storage

A = "5e1f0c2a-7b3d-4c8e-9a6f-0d2b4e6a8c10"  # tests/harness/mockProgram.ts STACK_INSTANCE
B = "0b7c3d2e-1f4a-4b6c-8d9e-a1b2c3d4e5f6"
NS = "imqcam-dagster"
CREDENTIALS = ["dagster-celery-config", "dagster-postgresql-credentials", "dagster-rabbitmq-credentials"]
KEPT = ["Namespace imqcam-dagster", "PersistentVolume imqcam-dagster-io-data", "PersistentVolumeClaim dagster-postgresql-data",
        "PersistentVolumeClaim dagster-rabbitmq-data", "PersistentVolumeClaim imqcam-dagster-io-data"]


@pytest.fixture(scope="module")
def made_by_a(plane):
    """What A's `pulumi up` leaves that the checks read, applied as the provider applies it."""
    storage.provide(plane, "local-storage-kde04", ["100Gi", "100Gi"])
    made = [o for o in program.objects("kde04") if o["kind"] in ("Namespace", "PersistentVolume", "PersistentVolumeClaim")
            or o["metadata"]["name"] in CREDENTIALS]
    program.apply(plane, made)
    assert plane.get("secret", "dagster-postgresql-credentials", "-n", NS)["metadata"]["annotations"][
        "imqcam-dagster/stack-instance"] == A
    return plane, made


def test_the_state_that_made_them_deploys_again(made_by_a):
    plane, _ = made_by_a
    result = program.check_cluster(plane, "kde04")
    assert result["error"] is None, result["message"]
    assert result["resources"] > 20 and result["kubernetesObjects"] > 0


def test_another_state_of_the_same_name_is_refused_before_it_writes_anything(made_by_a):
    plane, _ = made_by_a
    before = {s: plane.get("secret", s, "-n", NS)["metadata"]["resourceVersion"] for s in CREDENTIALS}
    result = program.check_cluster(plane, "kde04", stack_instance=B)
    assert result["error"] == "StackInstanceError", result["message"]
    assert result["kubernetesObjects"] == 0, "nothing may be written to the cluster"
    assert program.problem_keys(result) == sorted(KEPT + [f"Secret {s}" for s in CREDENTIALS])
    secret = next(p for p in result["problems"] if p["key"] == "Secret dagster-postgresql-credentials")
    assert secret["problem"] == (f"was made by another instance of stack imqcam-dagster/kde04 ({A}, a stack of this name "
                                 f"with other state), not by this one ({B}); deploy with the state that made it (below), "
                                 "or this stack into another namespace")
    assert secret["fix"] == "pulumi config set namespace"
    assert "pulumi stack import --file <file>" in result["message"]
    assert {s: plane.get("secret", s, "-n", NS)["metadata"]["resourceVersion"] for s in CREDENTIALS} == before


def test_after_a_teardown_the_kept_data_still_refuses_another_state(made_by_a):
    """`pulumi destroy --exclude-protected` deletes the Secrets; the claims keep the data A's passwords opened."""
    plane, made = made_by_a
    plane.kubectl("delete", "secret", "-n", NS, *CREDENTIALS)
    try:
        refused = program.check_cluster(plane, "kde04", stack_instance=B)
        assert refused["error"] == "StackInstanceError" and refused["kubernetesObjects"] == 0
        assert program.problem_keys(refused) == KEPT
        assert program.check_cluster(plane, "kde04")["error"] is None
    finally:
        program.apply(plane, [o for o in made if o["kind"] == "Secret"])


def test_a_secret_from_before_the_instance_mark_is_refused_until_marked_as_the_fix_says(made_by_a):
    plane, _ = made_by_a
    plane.kubectl("annotate", "secret", "dagster-postgresql-credentials", "-n", NS, "imqcam-dagster/stack-instance-")
    refused = program.check_cluster(plane, "kde04")
    assert refused["error"] == "StackInstanceError", refused["message"]
    assert program.problem_keys(refused) == ["Secret dagster-postgresql-credentials"]
    [problem] = refused["problems"]
    assert problem["problem"].startswith("is marked as stack imqcam-dagster/kde04's but not with an instance, so nothing "
                                         "says this stack instance made it; only if this stack's own state made it")
    # The operator who knows this state made it runs the fix as printed.
    command = problem["fix"]
    assert command.startswith("kubectl -n imqcam-dagster annotate secret/dagster-postgresql-credentials ")
    plane.kubectl(*shlex.split(command)[1:])
    assert program.check_cluster(plane, "kde04")["error"] is None
    assert program.check_cluster(plane, "kde04", stack_instance=B)["error"] == "StackInstanceError"
