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
 * The `dagster-k8s/config` tag value for every run worker and step Job: the same placement
 * in the snake_case the Kubernetes Python client uses, and a TTL after which Kubernetes
 * deletes the finished Job and its pod. The Celery run launcher's own nodeSelector reaches
 * only the Celery workers, so this is how the Jobs get pinned and cleaned up.
 */
export function dagsterK8sJobConfig(nodes: readonly string[], finishedJobTtlSeconds: number): object {
    const placement = podPlacement(nodes);
    const podSpecConfig = placement.nodeSelector
        ? { node_selector: placement.nodeSelector }
        : placement.affinity
          ? {
                affinity: {
                    node_affinity: {
                        required_during_scheduling_ignored_during_execution: {
                            node_selector_terms: [
                                { match_expressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [...nodes] }] },
                            ],
                        },
                    },
                },
            }
          : undefined;
    return {
        ...(podSpecConfig ? { pod_spec_config: podSpecConfig } : {}),
        job_spec_config: { ttl_seconds_after_finished: finishedJobTtlSeconds },
    };
}
