"""The migration Job's own dagster.yaml and command, with the pinned Dagster, against a real PostgreSQL.

What the program sends for kde04 (scripts/objects.ts): the ConfigMap's dagster.yaml, pointed at a
test server instead of the `dagster-postgresql` Service, and the container's command. The command
runs with this environment's Dagster, which is the lock's, the version the Job's image carries.
"""

import copy
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance

from tests.harness import postgres_server as pg


def _objects() -> list[dict]:
    folder = os.environ.get("IMQCAM_KUBERNETES_OBJECTS")
    if not folder:
        raise RuntimeError("IMQCAM_KUBERNETES_OBJECTS is not set: run through `npm run test:code-location`")
    return json.loads((Path(folder) / "kde04.json").read_text())


@pytest.fixture(scope="module")
def migration():
    objects = _objects()
    job = next(o for o in objects if o["kind"] == "Job" and o["metadata"]["name"].startswith("dagster-migrate-"))
    pod = job["spec"]["template"]["spec"]
    config_map_name = next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)
    config_map = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == config_map_name)
    return pod["containers"][0], yaml.safe_load(config_map["data"]["dagster.yaml"])


@pytest.fixture(scope="module")
def server():
    with pg.running() as running:
        yield running


def _dagster_home(tmp_path: Path, instance: dict, server: pg.PostgresServer, database: str) -> Path:
    instance = copy.deepcopy(instance)
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        db = instance[storage]["config"]["postgres_db"]
        db.update(hostname=pg.HOST, port=server.port, db_name=database)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    return tmp_path


def _migrate(container: dict, home: Path, password: str) -> subprocess.CompletedProcess:
    command = container["command"]
    assert command[:1] == ["dagster"]
    # The image has `dagster` on its PATH; here it is this interpreter's module.
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_PG_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "dagster", *command[1:]], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_migration_creates_the_schema_of_an_empty_database_and_is_repeatable(tmp_path, migration, server):
    container, instance = migration
    db = instance["run_storage"]["config"]["postgres_db"]
    password = secrets.token_urlsafe(16)
    server.create_role_and_database(db["username"], password, db["db_name"])
    home = _dagster_home(tmp_path, instance, server, db["db_name"])

    first = _migrate(container, home, password)
    assert first.returncode == 0, first.stdout + first.stderr
    again = _migrate(container, home, password)  # a replaced Job runs it once more
    assert again.returncode == 0, again.stdout + again.stderr

    os.environ["DAGSTER_PG_PASSWORD"] = password
    try:
        with DagsterInstance.from_config(str(home)) as migrated:
            assert migrated.get_runs() == []
            assert type(migrated.run_storage).__name__ == "PostgresRunStorage"
    finally:
        del os.environ["DAGSTER_PG_PASSWORD"]


def test_the_migration_fails_loudly_when_it_cannot_reach_the_database(tmp_path, migration, server):
    container, instance = migration
    home = _dagster_home(tmp_path, instance, server, instance["run_storage"]["config"]["postgres_db"]["db_name"])
    proc = _migrate(container, home, "not-the-password")
    assert proc.returncode != 0  # the Job fails, so `pulumi up` stops before the release moves
