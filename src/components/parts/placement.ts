// Where Dagster's pods run and how long finished Jobs stay: pure functions shared by the
// chart values (long-running pods) and the code locations (the Jobs Dagster launches).

export const HOSTNAME_LABEL = "kubernetes.io/hostname";

/** Pod scheduling keys, in the camelCase the chart and the Kubernetes API use. */
export interface PodPlacement {
    nodeSelector?: Record<string, string>;
    affinity?: {
        nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: { matchExpressions: { key: string; operator: "In"; values: string[] }[] }[];
            };
        };
    };
}

/**
 * One node is a node selector; several are a required node affinity (a selector cannot say
 * "any of"); none pins nothing.
 */
export function podPlacement(nodes: readonly string[]): PodPlacement {
    if (nodes.length === 0) return {};
    if (nodes.length === 1) return { nodeSelector: { [HOSTNAME_LABEL]: nodes[0] } };
    return {
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [...nodes] }] }],
                },
            },
        },
    };
}

/**
 * The `dagster-k8s/config` tag value for run worker or step Jobs: the same placement in the
 * snake_case the Kubernetes Python client uses, a TTL after which Kubernetes deletes the
 * finished Job and its pod, and the container's requests and limits. The Celery run launcher's own nodeSelector reaches
 * only the Celery workers, so this is how the Jobs get pinned and cleaned up.
 */
export function dagsterK8sJobConfig(nodes: readonly string[], finishedJobTtlSeconds: number, resources?: ContainerResources): object {
    const placement = snakeCaseKeys(podPlacement(nodes)) as object;
    return {
        ...(resources ? { container_config: { resources } } : {}),
        ...(Object.keys(placement).length > 0 ? { pod_spec_config: placement } : {}),
        job_spec_config: { ttl_seconds_after_finished: finishedJobTtlSeconds },
    };
}

/** Requests and limits of the Job's container; the keys are the same in both spellings. */
export interface ContainerResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** nodeSelector -> node_selector, recursively. Label keys here are lower-case already. */
function snakeCaseKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(snakeCaseKeys);
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(Object.entries(v).map(
        ([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeCaseKeys(x)]));
}
