import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * How long a celery-k8s task may hold a worker: it waits for its step Job up to the executor's
 * `job_wait_timeout`, whose default is dagster_k8s.client.DEFAULT_WAIT_TIMEOUT (one day), then
 * marks the step failed. The code location's jobs keep that default.
 */
export const STEP_JOB_WAIT_SECONDS = 86400;
/**
 * A Celery worker stopped by Kubernetes (SIGTERM) shuts down warm: it takes no new task, hands the
 * ones it prefetched back to the broker, and exits once the tasks it runs have ended. The default
 * 30 s would kill it mid-step instead, and the run would wait for a result that never comes. So the
 * grace period outlasts the longest task, plus time to report it.
 */
export const CELERY_WORKER_GRACE_SECONDS = STEP_JOB_WAIT_SECONDS + 300;
/**
 * The chart starts each worker as `dagster-celery worker start`, which runs Celery as its child
 * and waits for it. As the container's PID 1 it never gets the SIGTERM (the kernel drops signals
 * that PID 1 has no handler for), so Celery would never begin its warm shutdown and every stopped
 * worker would wait out the whole grace period. Before the SIGTERM, this hook sends it to Celery
 * itself, the child of PID 1; Celery's exit then ends `dagster-celery` and the container.
 */
export const CELERY_WORKER_PRE_STOP = ["/bin/sh", "-c",
    "kill -TERM $(grep -l '^PPid:[[:space:]]*1$' /proc/[0-9]*/status | cut -d/ -f3)"];
/** The chart's name for the worker container. */
export const CELERY_WORKER_CONTAINER = "dagster";
/** The patch's field manager, stable across `pulumi up`s. */
export const FIELD_MANAGER = "imqcam-dagster-celery-worker-shutdown";

export interface CeleryWorkerShutdownArgs {
    namespace: pulumi.Input<string>;
    /** The chart's worker Deployments, one per queue (`<release>-celery-workers-<queue>`). */
    deploymentNames: string[];
    /** The release that creates them: each patch needs its Deployment to exist. */
    release: pulumi.Resource;
}

/**
 * Gives the chart's Celery worker Deployments a grace period long enough for a warm shutdown, and
 * the hook that starts it. The chart has no value for either, so a server-side apply patch sets
 * only those fields after the release; Helm's later upgrades leave a field they never set as it is
 * (tests/cluster/test_worker_shutdown.py). tests/node/test_runs.py stops a real worker with it.
 */
export class CeleryWorkerShutdown extends pulumi.ComponentResource {
    constructor(name: string, args: CeleryWorkerShutdownArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:CeleryWorkerShutdown", name, {}, opts);
        for (const deployment of args.deploymentNames) {
            new k8s.apps.v1.DeploymentPatch(`${name}-${deployment}`, {
                metadata: {
                    name: deployment, namespace: args.namespace,
                    // Forced: Helm's own update owns the field, holding the 30 s Kubernetes
                    // defaulted it to, so a plain server-side apply is refused as a conflict.
                    annotations: { "pulumi.com/patchFieldManager": FIELD_MANAGER, "pulumi.com/patchForce": "true" },
                },
                spec: { template: { spec: {
                    terminationGracePeriodSeconds: CELERY_WORKER_GRACE_SECONDS,
                    containers: [{ name: CELERY_WORKER_CONTAINER,
                        lifecycle: { preStop: { exec: { command: CELERY_WORKER_PRE_STOP } } } }],
                } } },
            }, { parent: this, dependsOn: [args.release] });
        }
        this.registerOutputs({});
    }
}
