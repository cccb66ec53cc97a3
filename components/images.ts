// Every image Dagster's pods run besides user code, pinned to a tag that is pullable today.
// Bitnami withdrew its free versioned images in 2025 (dagster issue 31388), so nothing here
// comes from Bitnami: the broker uses the official RabbitMQ image (components/rabbitmq.ts).

const pullPolicy = "IfNotPresent";

/** Webserver, daemon and Celery workers; tagged with the stack's dagsterVersion. */
export const DAGSTER_CELERY_K8S = "docker.io/dagster/dagster-celery-k8s";

/** The chart's wait-for-service init containers. */
export const BUSYBOX = { repository: "docker.io/library/busybox", tag: "1.36.1", pullPolicy };

/** The official PostgreSQL image: one version for the server, its backups and the chart's checks. */
const POSTGRESQL_TAG = "17.6";
/** The database server, its backup CronJob and the backup before each migration (components/postgresql.ts). */
export const POSTGRESQL_SERVER = `docker.io/library/postgres:${POSTGRESQL_TAG}`;
/** The chart's `pg_isready` init containers, in the chart's image format. */
export const POSTGRESQL = { registry: "docker.io", repository: "library/postgres", tag: POSTGRESQL_TAG, pullPolicy };

/** The Celery broker. */
export const RABBITMQ = "docker.io/library/rabbitmq:3.13.7";
