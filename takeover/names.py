"""Names of the objects the takeover meets and leaves behind, in one place.

The manual deployment's names are facts about kde04 (shared/reference/original-deployment.md);
the program's come from the program itself: program_names.json, which `npm run --silent names`
prints and tests/names.test.ts keeps equal to what the program gives its objects.
"""

import json
from pathlib import Path

PROGRAM = json.loads((Path(__file__).with_name("program_names.json")).read_text())

# The manual deployment.
OLD_RELEASE = "dagster"
OLD_CHART = "dagster-1.7.5"
# The PersistentVolume and its claim share the name, the program's as the manual deployment's.
IO_VOLUME = PROGRAM["ioVolume"]
OLD_DB_CLAIM = "data-dagster-postgresql-0"
OLD_MQ_CLAIM = "data-dagster-rabbitmq-0"
OLD_DB_POD = "dagster-postgresql-0"
OLD_DB_ENV = ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
# The two Secrets created by hand from secrets.yaml, and exactly the keys each must hold.
OLD_SECRETS = {
    "girder-connection-info": ("GIRDER_API_KEY", "GIRDER_API_URL"),
    "globus-compute-creds": ("GLOBUS_COMPUTE_CLIENT_ID", "GLOBUS_COMPUTE_CLIENT_SECRET"),
}
# The old chart's Deployments that can start a run (schedules, sensors, the UI's launch button),
# by their `component` label; stopped just before the uninstall so the backup stays complete.
RUN_STARTING_COMPONENTS = ("dagster-daemon", "dagster-webserver", "dagit")
USER_CODE_COMPONENT = "user-deployments"

# The program's.
RELEASE = PROGRAM["release"]  # its Helm release
RELEASE_SELECTOR = PROGRAM["releaseSelector"]  # every Deployment of the Dagster release
NEW_DB_CLAIM = PROGRAM["postgresqlClaim"]
NEW_DB_POD = PROGRAM["postgresqlPod"]  # same pod name as the old one; a different container
NEW_DB_CONTAINER = PROGRAM["postgresqlContainer"]
TAKE_OVER_ENV = PROGRAM["takeOverEnv"]  # lets `pulumi up` adopt the namespace, IO volume and claim
MIGRATION_JOB_LABEL = PROGRAM["migrationJobLabel"]  # the migration Jobs' app.kubernetes.io/name


def migration_job_name(dagster_version: str) -> str:
    """The program's migration Job: `dagster-migrate-1-13-27` for 1.13.27."""
    return f"{MIGRATION_JOB_LABEL}-" + dagster_version.replace(".", "-")


# Where the dump is copied on the NFS share, below the IO volume's root.
SHARE_BACKUP_DIR = "backups/takeover"
