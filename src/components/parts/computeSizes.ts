// CPU and memory for every long-running pod the release and the program run, in one place, so the
// node's budget can be read off (README, "Load on the node"). Run and step pods are config
// (runPodResources, stepPodResources). The database and the broker get requests equal to limits
// (Guaranteed QoS): under memory pressure the kubelet evicts and the kernel kills other pods first.

/** CPU and memory of one container, as Kubernetes takes them. */
export interface ComputeResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

const res = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string): ComputeResources =>
    ({ requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } });

export const WEBSERVER = res("250m", "512Mi", "1", "1Gi");
export const DAEMON = res("250m", "512Mi", "1", "1Gi");
export const CODE_SERVER = res("100m", "512Mi", "1", "1Gi");
/** A Celery worker only watches its step Jobs; each task it holds is a small prefork process. */
export const CELERY_WORKER = res("100m", "256Mi", "500m", "1Gi");
export const POSTGRESQL = res("1", "2Gi", "1", "2Gi");
export const RABBITMQ = res("500m", "1Gi", "500m", "1Gi");
/** pg_dump and pg_restore --list stream; dagster instance migrate loads Dagster. */
export const BACKUP = res("100m", "256Mi", "1", "1Gi");
export const MIGRATION = res("250m", "512Mi", "1", "2Gi");
export const LOG_PRUNING = res("10m", "16Mi", "200m", "64Mi");
/**
 * The namespace's defaults for any container that names none (the chart's wait-for-database
 * init containers): they only poll, so small.
 */
export const NAMESPACE_DEFAULT = res("50m", "64Mi", "200m", "128Mi");
