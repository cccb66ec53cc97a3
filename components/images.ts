// Every image Dagster's pods run besides user code, pinned to a tag that is pullable today.
// Bitnami withdrew its free versioned images in 2025 (dagster issue 31388), so nothing here
// comes from Bitnami: the broker uses the official RabbitMQ image (components/rabbitmq.ts).

const pullPolicy = "IfNotPresent";

/** Webserver, daemon and Celery workers; tagged with the stack's dagsterVersion. */
export const DAGSTER_CELERY_K8S = "docker.io/dagster/dagster-celery-k8s";

/** The log-pruning CronJob's shell and `find`. */
export const BUSYBOX_IMAGE = "docker.io/library/busybox:1.36.1";

/**
 * The chart's wait-for-user-code init containers (values `busybox.image`) run
 * `until nslookup <code location>; do ...; sleep 2; done`. busybox's nslookup from 1.29 on exits 1
 * as soon as one search domain answers NXDOMAIN, so with any current busybox that loop never ends
 * and the webserver and daemon never start (the chart's default, busybox 1.28, is from 2018).
 * This is Kubernetes' own DNS test image: Debian bookworm with BIND's nslookup, which exits 0 once
 * one search domain answers. tests/node runs the chart's exact command in its stand-in.
 */
export const CHART_WAIT_IMAGE = "registry.k8s.io/e2e-test-images/glibc-dns-testing:2.0.0";

/** `repository:tag` as the chart's image objects take it. */
export function chartImage(reference: string) {
    const at = reference.lastIndexOf(":");
    return { repository: reference.slice(0, at), tag: reference.slice(at + 1), pullPolicy };
}

/** The official PostgreSQL image: one version for the server, its backups and the chart's checks. */
const POSTGRESQL_TAG = "17.6";
/** The database server, its backup CronJob and the backup before each migration (components/postgresql.ts). */
export const POSTGRESQL_SERVER = `docker.io/library/postgres:${POSTGRESQL_TAG}`;
/** The chart's `pg_isready` init containers, in the chart's image format. */
export const POSTGRESQL = { registry: "docker.io", repository: "library/postgres", tag: POSTGRESQL_TAG, pullPolicy };

/** The Celery broker. */
export const RABBITMQ = "docker.io/library/rabbitmq:3.13.7";
