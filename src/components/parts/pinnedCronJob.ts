import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podPlacement } from "./placement";
import { hardenedShareWriter, READ_ONLY_ROOT, ShareWriter } from "./podSecurity";

export interface PinnedCronJobArgs {
    namespace: pulumi.Input<string>;
    /** The CronJob's name. */
    name: string;
    /** `app.kubernetes.io/name`: what the job does. */
    app: string;
    schedule: string;
    container: k8s.types.input.core.v1.Container;
    volumes: k8s.types.input.core.v1.Volume[];
    nodeHostnames: readonly string[];
    /** Finished Jobs kept for `kubectl logs`: the succeeded ones (failed ones: always 3). */
    succeededKept: number;
    /** How late a missed run may still start; by default, only on time. */
    startingDeadlineSeconds?: number;
    /** Its volumes include the IO share: it runs as the share's writer. */
    shareWriter: ShareWriter;
}

/**
 * One housekeeping container on a schedule, on the stack's nodes: never two at once, one retry,
 * and the last finished Jobs kept to read their logs. The shape the backups and the log pruning share.
 */
export function pinnedCronJob(name: string, args: PinnedCronJobArgs, parent: pulumi.Resource): k8s.batch.v1.CronJob {
    const labels = { "app.kubernetes.io/name": args.app, "app.kubernetes.io/instance": args.name };
    return new k8s.batch.v1.CronJob(name, {
        metadata: { name: args.name, namespace: args.namespace, labels },
        spec: {
            schedule: args.schedule,
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: args.startingDeadlineSeconds,
            successfulJobsHistoryLimit: args.succeededKept,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
                metadata: { labels },
                spec: {
                    backoffLimit: 1,
                    template: {
                        metadata: { labels },
                        spec: {
                            ...podPlacement(args.nodeHostnames),
                            ...hardenedShareWriter(args.shareWriter),
                            restartPolicy: "Never",
                            containers: [{ ...args.container, securityContext: READ_ONLY_ROOT }],
                            volumes: args.volumes,
                        },
                    },
                },
            },
        },
    }, { parent });
}
