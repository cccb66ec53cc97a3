"""Rotating the generated passwords on the real node, as `pulumi up` applies a new `passwordRotation`
label (README, "Rotating the generated passwords"): the program evaluated with the label, its
objects applied in the engine's order (the Secrets, then each server rolled and Ready, then the
Release, which depends on both). Each server sets its user's password from the Secret as it starts,
and is Ready only then; the old password is refused and the new one works, the other server keeps
running, every Dagster pod restarts, and a run goes through on the new password. Runs last in the
session (conftest.py): the stack's passwords are not the ones it started with afterwards."""
from __future__ import annotations

import pytest

from tests.cluster import program
from tests.node import stack_on_node
from tests.node.test_runs import RUN_CONFIG, dagster, launch_and_wait  # noqa: F401 (the fixture)
from tests.node.test_servers import (
    POSTGRESQL_POD,
    RABBITMQ_POD,
    WAIT_FOR_DATABASE,
    dagster_image,
    postgresql_image,
    run_pod,
    secret_value,
)

LABEL = "2026-12-02"


def uid(kde04, pod: str) -> str:
    return kde04.node.get("pod", pod, "-n", kde04.namespace)["metadata"]["uid"]


def dagster_pods(kde04) -> set:
    """The daemon's, the Celery workers' and the code server's pods (the webserver runs on no node
    here); not the one-off pods earlier tests made with the same labels."""
    pods = kde04.node.get("pods", "-n", kde04.namespace, "-l", "component in (dagster-daemon,celery,user-deployments)")
    return {p["metadata"]["name"] for p in pods["items"] if not p["metadata"].get("deletionTimestamp")
            and any(o["kind"] == "ReplicaSet" for o in p["metadata"].get("ownerReferences", []))}


def rotate(kde04, labels: dict) -> None:
    """`pulumi up` with the labels: what changed, in the order the Release's dependencies give."""
    ns = kde04.namespace
    result = stack_on_node.evaluation({**stack_on_node.settings(kde04.io_dir), "passwordRotation": {"value": labels}})
    objs = stack_on_node.fit_requests(result["objects"])
    program.apply(kde04.node, [o for o in objs if o["kind"] != "Job"])  # the migration Job is unchanged
    for server in ("dagster-postgresql", "dagster-rabbitmq"):
        stack_on_node.wait_ready(kde04.node, ns, f"statefulset/{server}")
    stack_on_node.apply_release(kde04.node, result["releaseValues"], ns, result["patches"])


def database_login(kde04, name: str, password: str) -> tuple[str, str]:
    return run_pod(kde04, name, postgresql_image(kde04), role="databaseBackups", env={"POSTGRES_PASSWORD": password},
                   script=WAIT_FOR_DATABASE + 'PGPASSWORD="$POSTGRES_PASSWORD" psql -h dagster-postgresql -U dagster -d dagster -Atc "select 1"')


def broker_login(kde04, name: str, url: str) -> tuple[str, str]:
    script = ('python3 -c "import os, kombu; c = kombu.Connection(os.environ[\'URL\']); c.connect(); '
              'print(\'connected\', c.connected); c.release()"')
    return run_pod(kde04, name, dagster_image(kde04), script, role="celeryWorkers", env={"URL": url}, timeout=120)


@pytest.mark.parametrize("server", ["postgresql", "rabbitmq"])
def test_a_rotated_password_is_in_its_server_before_any_dagster_pod_uses_it(kde04, dagster, server):  # noqa: F811
    labels = {"postgresql": LABEL} if server == "postgresql" else {"postgresql": LABEL, "rabbitmq": LABEL}
    other = RABBITMQ_POD if server == "postgresql" else POSTGRESQL_POD
    rotated_pod = POSTGRESQL_POD if server == "postgresql" else RABBITMQ_POD
    before = {"rotated": uid(kde04, rotated_pod), "other": uid(kde04, other), "dagster": dagster_pods(kde04),
              "password": secret_value(kde04, "dagster-postgresql-credentials", "postgresql-password"),
              "url": secret_value(kde04, "dagster-celery-config", "DAGSTER_CELERY_BROKER_URL")}

    rotate(kde04, labels)

    assert uid(kde04, rotated_pod) != before["rotated"], f"{rotated_pod} restarted, and set the new password"
    assert uid(kde04, other) == before["other"], f"{other} kept running"
    assert not dagster_pods(kde04) & before["dagster"], "every Dagster pod restarted"
    if server == "postgresql":
        password = secret_value(kde04, "dagster-postgresql-credentials", "postgresql-password")
        assert password != before["password"]
        phase, log = database_login(kde04, "rotated-login", password)
        assert phase == "Succeeded" and log.strip().endswith("1"), log
        phase, log = database_login(kde04, "old-password", before["password"])
        assert phase == "Failed" and "password authentication failed" in log, log
    else:
        url = secret_value(kde04, "dagster-celery-config", "DAGSTER_CELERY_BROKER_URL")
        assert url != before["url"]
        phase, log = broker_login(kde04, "rotated-broker-login", url)
        assert phase == "Succeeded" and "connected True" in log, log
        phase, log = broker_login(kde04, "old-broker-password", before["url"])
        assert phase == "Failed" and "ACCESS_REFUSED" in log, log
    # The Dagster pods read the new passwords: a run of the example job goes through.
    run_id = {"postgresql": "e0000000-0000-4000-8000-0000000000c1", "rabbitmq": "e0000000-0000-4000-8000-0000000000c2"}[server]
    status, _ = launch_and_wait(kde04, "pod_per_op_celery_job", run_id, RUN_CONFIG)
    assert status == "SUCCESS"
