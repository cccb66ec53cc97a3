"""dagster.yaml as the Dagster chart renders it for every pod, from the program's Release values.

The shape follows the chart's templates/configmap-instance.yaml and
templates/helpers/instance/_postgresql.tpl: the three storages share one `postgres_db` block
(username, password from DAGSTER_PG_PASSWORD, hostname, db_name, port, params, and `scheme`
only when `postgresql.postgresqlScheme` is set). Only the address differs: the chart points at
the `<release>-postgresql` Service on `postgresql.service.port`, the tests at their own server.
The run launcher is left out: the CeleryK8sRunLauncher needs a cluster, and the pods' entry
points under test do not use it. The compute log manager is included when the tests give the
folder that stands for the IO volume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

RELEASE_VALUES_ENV = "IMQCAM_RELEASE_VALUES"
PASSWORD_ENV = "DAGSTER_PG_PASSWORD"


def release_values() -> dict[str, Any]:
    """The Helm values the program gives the Release for stack kde04 (`npm run values`)."""
    path = os.environ.get(RELEASE_VALUES_ENV)
    if not path:
        raise RuntimeError(
            f"{RELEASE_VALUES_ENV} is not set: run these tests through `npm run test:code-location`, "
            "which prints the program's Release values for them"
        )
    return yaml.safe_load(Path(path).read_text())


def postgres_db(values: dict[str, Any], hostname: str, port: int) -> dict[str, Any]:
    pg = values["postgresql"]
    block: dict[str, Any] = {
        "username": pg["postgresqlUsername"],
        "password": {"env": PASSWORD_ENV},
        "hostname": hostname,
        "db_name": pg["postgresqlDatabase"],
        "port": port,
        "params": pg.get("postgresqlParams", {}),
    }
    if pg.get("postgresqlScheme"):
        block["scheme"] = pg["postgresqlScheme"]
    return block


def compute_logs(values: dict[str, Any], io_mount_path: str, io_dir: str) -> dict[str, Any]:
    """`compute_logs`, as templates/helpers/instance/_compute-log-manager.tpl renders the custom type.

    The pods see the IO volume at ioVolume.mountPath; here it is io_dir.
    """
    manager = values["computeLogManager"]
    assert manager["type"] == "CustomComputeLogManager", manager["type"]
    custom = manager["config"]["customComputeLogManager"]
    config = dict(custom["config"])
    config["base_dir"] = config["base_dir"].replace(io_mount_path, io_dir, 1)
    return {"module": custom["module"], "class": custom["class"], "config": config}


def io_mount_path(values: dict[str, Any]) -> str:
    """Where the pods mount the IO volume (the code servers' mount, as the chart is given it)."""
    return values["dagster-user-deployments"]["deployments"][0]["volumeMounts"][0]["mountPath"]


def instance_yaml(values: dict[str, Any], hostname: str, port: int, io_dir: str | None = None) -> str:
    storage = {"postgres_db": postgres_db(values, hostname, port)}
    instance = {
        "schedule_storage": {
            "module": "dagster_postgres.schedule_storage",
            "class": "PostgresScheduleStorage",
            "config": storage,
        },
        "run_storage": {
            "module": "dagster_postgres.run_storage",
            "class": "PostgresRunStorage",
            "config": storage,
        },
        "event_log_storage": {
            "module": "dagster_postgres.event_log",
            "class": "PostgresEventLogStorage",
            "config": storage,
        },
        "telemetry": {"enabled": values.get("telemetry", {}).get("enabled", True)},
    }
    if io_dir is not None:
        instance["compute_logs"] = compute_logs(values, io_mount_path(values), io_dir)
    return yaml.safe_dump(instance, sort_keys=False)
