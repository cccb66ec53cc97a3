// Every image the chart runs besides user code, pinned to a tag that is pullable today.
// Bitnami withdrew its free versioned images in 2025 (dagster issue 31388): RabbitMQ comes
// from the frozen `bitnamilegacy` copies, and the init container that fixes the broker
// volume's permissions uses a current Debian release instead of the end-of-life
// `bitnami/minideb:stretch` (it runs bash, chown, find and xargs).

const pullPolicy = "IfNotPresent";

/** Webserver, daemon and Celery workers; tagged with the stack's dagsterVersion. */
export const DAGSTER_CELERY_K8S = "docker.io/dagster/dagster-celery-k8s";

/** The chart's wait-for-service init containers. */
export const BUSYBOX = { repository: "docker.io/library/busybox", tag: "1.36.1", pullPolicy };

/** The database, and the chart's `pg_isready` init containers. */
export const POSTGRESQL = { registry: "docker.io", repository: "library/postgres", tag: "14.6", pullPolicy };

export const RABBITMQ = { registry: "docker.io", repository: "bitnamilegacy/rabbitmq", tag: "3.8.12", pullPolicy };

export const VOLUME_PERMISSIONS = { registry: "docker.io", repository: "library/debian", tag: "12.11-slim", pullPolicy };
