"""Names of the objects the takeover meets and leaves behind, in one place.

The manual deployment's names are facts about kde04 (shared/reference/original-deployment.md);
the program's are the ones src/stack.ts and components/ give its objects.
"""

# The manual deployment.
OLD_RELEASE = "dagster"
OLD_CHART = "dagster-1.7.5"
IO_VOLUME = "imqcam-dagster-io-data"  # the PersistentVolume and its claim share the name
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
RELEASE = "dagster"  # its Helm release (src/stack.ts RELEASE_NAME)
RELEASE_SELECTOR = "app.kubernetes.io/instance=dagster"  # every Deployment of the Dagster release
NEW_DB_CLAIM = "dagster-postgresql-data"
NEW_DB_POD = "dagster-postgresql-0"  # same pod name as the old one; a different container
NEW_DB_CONTAINER = "postgresql"
TAKE_OVER_ENV = "IMQCAM_TAKE_OVER"  # lets `pulumi up` adopt the namespace, IO volume and claim


def migration_job_name(dagster_version: str) -> str:
    """The program's migration Job: `dagster-migrate-1-13-27` for 1.13.27."""
    return "dagster-migrate-" + dagster_version.replace(".", "-")


# Where the dump is copied on the NFS share, below the IO volume's root.
SHARE_BACKUP_DIR = "backups/takeover"
