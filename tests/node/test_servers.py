"""The program's own pods on a real node, as it builds them for kde04: PostgreSQL on its claim with
the generated credentials, the migration Job in the Dagster image, RabbitMQ reading its
advanced.config, and the broker URL of the Celery configuration Secret reaching it by Service name."""
from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest

from tests.cluster import program
from tests.node import pod_roles, stack_on_node

POSTGRESQL_POD = "dagster-postgresql-0"
RABBITMQ_POD = "dagster-rabbitmq-0"


def secret_value(kde04, name: str, key: str) -> str:
    return base64.b64decode(kde04.node.get("secret", name, "-n", kde04.namespace)["data"][key]).decode()


def run_pod(kde04, name: str, image: str, script: str, env_from_secret: str | None = None,
            env: dict | None = None, timeout: int = 180, *, role: str) -> tuple[str, str]:
    """A one-shot pod of the namespace, pinned like the stack's, that connects as a pod of `role` does
    (pod_roles.py: the NetworkPolicies let it reach only what that kind of pod may); returns (phase, log)."""
    labels = pod_roles.stand_in_labels(kde04.objects, kde04.values, kde04.namespace, role)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": kde04.namespace, "labels": labels},
           "spec": {"restartPolicy": "Never", "nodeSelector": {"kubernetes.io/hostname": kde04.node.node_name},
                    "containers": [{"name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                                    "command": ["sh", "-c", script],
                                    "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                                    **({"envFrom": [{"secretRef": {"name": env_from_secret}}]} if env_from_secret else {})}]}}
    return stack_on_node.run_to_end(kde04.node, pod, timeout)


# As database/backup.sh waits: a NetworkPolicy enforcer lets a new pod's address through a moment
# after the pod starts (kube-router here: refused until then), and PostgreSQL may be restarting.
WAIT_FOR_DATABASE = "until pg_isready -q -h dagster-postgresql; do sleep 1; done; "


def postgresql_image(kde04) -> str:
    return kde04.find("StatefulSet", "dagster-postgresql")["spec"]["template"]["spec"]["containers"][0]["image"]


def dagster_image(kde04) -> str:
    image = kde04.values["dagsterDaemon"]["image"]
    return f"{image['repository']}:{image['tag']}"


def exec_in(kde04, pod: str, container: str, script: str, check: bool = True):
    return kde04.kubectl("exec", pod, "-c", container, "--", "sh", "-c", script, check=check)


def test_postgresql_starts_on_its_claim_and_accepts_the_generated_password_over_its_service(kde04):
    # Over TCP, by Service name, from another pod, with the password from the Secret: as Dagster logs in.
    phase, log = run_pod(kde04, "login-check", postgresql_image(kde04), role="databaseBackups", script=
                         WAIT_FOR_DATABASE + 'PGPASSWORD="$POSTGRES_PASSWORD" psql -h dagster-postgresql -U dagster '
                         '-d dagster -Atc "select current_user, (select count(*) from alembic_version)"',
                         env={"POSTGRES_PASSWORD": secret_value(kde04, "dagster-postgresql-credentials",
                                                                "postgresql-password")})
    assert phase == "Succeeded" and "dagster|1" in log, log
    phase, log = run_pod(kde04, "wrong-password", postgresql_image(kde04), role="databaseBackups", script=
                         WAIT_FOR_DATABASE + 'PGPASSWORD=wrong psql -h dagster-postgresql -U dagster -d dagster -c "select 1"')
    assert phase == "Failed" and "password authentication failed" in log, log
    # The claim holds the data directory: the volume's folder on the node has it.
    claim = kde04.node.get("pvc", "dagster-postgresql-data", "-n", kde04.namespace)
    disk = kde04.node.get("pv", claim["spec"]["volumeName"])["spec"]["local"]["path"]
    assert (Path(disk) / "pgdata" / "PG_VERSION").is_file()


# Every process of the container: uid 999, no capability, no way to gain one, under seccomp.
PROCESSES = ("for f in /proc/[0-9]*/status; do grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' \"$f\" 2>/dev/null "
             "| tr '\\t\\n' '  '; echo; done")


@pytest.mark.parametrize("pod,container", [(POSTGRESQL_POD, "postgresql"), (RABBITMQ_POD, "rabbitmq")])
def test_the_database_and_the_broker_run_as_their_images_user_without_privileges_or_a_token(kde04, pod, container):
    # /proc/<pid>/status lists Uid (4 ids), CapEff, NoNewPrivs, Seccomp, in that order.
    processes = [line.split() for line in exec_in(kde04, pod, container, PROCESSES).stdout.splitlines() if line.strip()]
    assert len(processes) >= 2, processes  # the server and this shell at least
    for f in processes:
        assert {"Uid": f[1:5], **dict(zip(f[5::2], f[6::2]))} == {
            "Uid": ["999"] * 4, "CapEff:": "0" * 16, "NoNewPrivs:": "1", "Seccomp:": "2"}, f
    spec = kde04.node.get("pod", pod, "-n", kde04.namespace)["spec"]
    assert not [v for v in spec["volumes"] if v["name"].startswith("kube-api-access")], spec["volumes"]
    token = exec_in(kde04, pod, container, "test -e /var/run/secrets/kubernetes.io/serviceaccount/token", check=False)
    assert token.returncode == 1
    # Its root file system is read-only: it writes only on its data and its scratch folders.
    root = exec_in(kde04, pod, container, "touch /etc/probe /usr/probe", check=False)
    assert root.returncode != 0 and root.stderr.count("Read-only file system") == 2, root.stderr
    written = exec_in(kde04, pod, container, "touch /tmp/probe && rm /tmp/probe && echo written", check=False)
    assert written.stdout.strip() == "written", written.stderr


def test_postgresql_readiness_probe_logs_in_as_the_stack_role(kde04):
    """Every probe so far connected as the stack's role to its database: no FATAL in the server log
    (a probe without its user would log `role "root" does not exist` every ten seconds)."""
    pod = kde04.node.get("pod", POSTGRESQL_POD, "-n", kde04.namespace)
    started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    time.sleep(12)  # at least one more probe period after the start
    log = kde04.kubectl("logs", POSTGRESQL_POD, "-c", "postgresql").stdout
    refused = [line for line in log.splitlines() if re.search(r'FATAL: +(role|database) "[^"]*" does not exist', line)]
    assert not refused, f"started {started}:\n" + "\n".join(refused[-5:])


def test_postgresql_restarts_on_its_data_without_initialising_again(kde04):
    before = exec_in(kde04, POSTGRESQL_POD, "postgresql",
                     'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "select version_num from alembic_version"').stdout
    kde04.kubectl("delete", "pod", POSTGRESQL_POD, "--wait=true")
    stack_on_node.wait_ready(kde04.node, kde04.namespace, "statefulset/dagster-postgresql")
    kde04.node.wait_for("the new pod Ready", lambda: all(
        s.get("ready") for s in kde04.node.get("pod", POSTGRESQL_POD, "-n", kde04.namespace)
        .get("status", {}).get("containerStatuses", [{}])), timeout=120)
    after = exec_in(kde04, POSTGRESQL_POD, "postgresql",
                    'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "select version_num from alembic_version"').stdout
    assert before.strip() and before == after
    log = kde04.kubectl("logs", POSTGRESQL_POD, "-c", "postgresql").stdout
    assert "initdb" not in log.lower() or "skipping initialization" in log.lower(), log[-2000:]


def test_the_migration_job_ran_in_the_dagster_image_and_running_it_again_is_harmless(kde04):
    job = next(o for o in kde04.objects if o["kind"] == "Job")
    name = job["metadata"]["name"]
    first = kde04.kubectl("logs", f"job/{name}", "--all-containers").stdout
    assert "migrat" in first.lower(), first
    kde04.kubectl("delete", "job", name, "--wait=true")
    program.apply(kde04.node, [job])
    stack_on_node.wait_job(kde04.node, kde04.namespace, name)
    backups = sorted((kde04.io_dir / "backups" / "postgresql").glob("before-dagster-*.dump"))
    assert backups, "the migration's init container wrote no backup"


def test_rabbitmq_reads_the_programs_advanced_config(kde04):
    done = exec_in(kde04, RABBITMQ_POD, "rabbitmq", "rabbitmqctl eval 'application:get_env(rabbit, consumer_timeout).'")
    assert done.stdout.strip() == "{ok,undefined}", done.stdout + done.stderr


def test_the_celery_broker_url_reaches_the_broker_by_service_name(kde04):
    script = ('python3 -c "import os, kombu; c = kombu.Connection(os.environ[\'DAGSTER_CELERY_BROKER_URL\']); '
              'c.connect(); print(\'connected\', c.connected); c.release()"')
    phase, log = run_pod(kde04, "broker-check", dagster_image(kde04), script, role="celeryWorkers",
                         env_from_secret="dagster-celery-config")
    assert phase == "Succeeded" and "connected True" in log, log
