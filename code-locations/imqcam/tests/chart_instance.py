"""dagster.yaml as the Dagster chart renders it for every pod, from the program's Release values.

The shape follows the chart's templates/configmap-instance.yaml and
templates/helpers/instance/_postgresql.tpl: the three storages share one `postgres_db` block
(username, password from DAGSTER_PG_PASSWORD, hostname, db_name, port, params, and `scheme`
only when `postgresql.postgresqlScheme` is set). Only the address differs: the chart points at
the `<release>-postgresql` Service on `postgresql.service.port`, the tests at their own server.
The run launcher is left out: the CeleryK8sRunLauncher needs a cluster, and the pods' entry
points under test do not use it.
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


def instance_yaml(values: dict[str, Any], hostname: str, port: int) -> str:
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
    return yaml.safe_dump(instance, sort_keys=False)
