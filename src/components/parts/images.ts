// Every image Dagster's pods run besides user code, pinned to a tag that is pullable today.
// Bitnami withdrew its free versioned images in 2025 (dagster issue 31388), so nothing here
// comes from Bitnami: the broker uses the official RabbitMQ image (src/components/rabbitmq.ts).

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

/**
 * `repository:tag[@sha256:…]` as the chart's image objects take it. A digest rides on the tag:
 * every chart template prints `repository:tag`, and `repository:tag@sha256:…` pulls by digest.
 */
export function chartImage(reference: string) {
    const [name, digest] = reference.split("@");
    const at = name.lastIndexOf(":");
    return { repository: name.slice(0, at), tag: name.slice(at + 1) + (digest ? `@${digest}` : ""), pullPolicy };
}

/** The chart's `postgresql.image`, whose registry is a field of its own. */
export function chartRegistryImage(reference: string) {
    const { repository, tag } = chartImage(reference);
    const slash = repository.indexOf("/");
    return { registry: repository.slice(0, slash), repository: repository.slice(slash + 1), tag, pullPolicy };
}

/** The official PostgreSQL image: one version for the server, its backups and the chart's checks. */
export const POSTGRESQL_SERVER = "docker.io/library/postgres:17.6";

/** The Celery broker. */
export const RABBITMQ = "docker.io/library/rabbitmq:3.13.7";

/**
 * The third-party images the stack runs, by tag unless the `images` setting pins one by digest
 * (`repository:tag@sha256:…`), so what runs cannot change under the same tag.
 */
export interface ThirdPartyImages {
    /** The database, its backups, the migration's backup and the chart's `pg_isready` checks. */
    postgresql: string;
    rabbitmq: string;
    /** The log-pruning CronJob. */
    busybox: string;
    /** The chart's wait for each code server. */
    chartWait: string;
    /** The `sha256:` digest of the Dagster image at dagsterVersion, when pinned. */
    dagsterDigest?: string;
}

export const DEFAULT_IMAGES: ThirdPartyImages = {
    postgresql: POSTGRESQL_SERVER, rabbitmq: RABBITMQ, busybox: BUSYBOX_IMAGE, chartWait: CHART_WAIT_IMAGE,
};

/** The Dagster image at a version, by digest when one is given. */
export function dagsterImage(version: string, digest?: string): string {
    return `${DAGSTER_CELERY_K8S}:${version}${digest ? `@${digest}` : ""}`;
}
