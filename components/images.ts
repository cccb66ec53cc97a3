// Every image Dagster's pods run besides user code, pinned to a tag that is pullable today.
// Bitnami withdrew its free versioned images in 2025 (dagster issue 31388), so nothing here
// comes from Bitnami: the broker uses the official RabbitMQ image (components/rabbitmq.ts).

const pullPolicy = "IfNotPresent";

/** Webserver, daemon and Celery workers; tagged with the stack's dagsterVersion. */
export const DAGSTER_CELERY_K8S = "docker.io/dagster/dagster-celery-k8s";

/** The chart's wait-for-service init containers. */
export const BUSYBOX = { repository: "docker.io/library/busybox", tag: "1.36.1", pullPolicy };

/** The database, and the chart's `pg_isready` init containers. */
export const POSTGRESQL = { registry: "docker.io", repository: "library/postgres", tag: "14.6", pullPolicy };

/** The Celery broker. */
export const RABBITMQ = "docker.io/library/rabbitmq:3.13.7";
