// How much of the node Dagster may take at most: every long-running pod, plus the most run and
// step pods at once. Pure, so README's figures are computed, and tested, rather than typed.
import { ComputeResources } from "../src/components/parts/computeSizes";
import { parseCpu, parseBytes } from "../src/settings/rules";
import * as resources from "../src/components/parts/computeSizes";

export interface Budget { cpuMillis: number; memoryBytes: number }
export interface NodeBudget { requests: Budget; limits: Budget }

export interface BudgetArgs {
    codeLocations: number;
    celeryWorkerReplicas: number;
    stepsPerCeleryWorker: number;
    maxConcurrentRuns: number;
    runPodResources: ComputeResources;
    stepPodResources: ComputeResources;
}

/** The long-running pods and the most run and step pods at once (backups and migrations are brief, and not counted). */
export function nodeBudget(a: BudgetArgs): NodeBudget {
    const pods: [ComputeResources, number][] = [
        [resources.WEBSERVER, 1], [resources.DAEMON, 1], [resources.CODE_SERVER, a.codeLocations],
        [resources.CELERY_WORKER, a.celeryWorkerReplicas], [resources.POSTGRESQL, 1], [resources.RABBITMQ, 1],
        [a.runPodResources, a.maxConcurrentRuns],
        [a.stepPodResources, a.celeryWorkerReplicas * a.stepsPerCeleryWorker],
    ];
    const sum = (which: "requests" | "limits"): Budget => ({
        cpuMillis: pods.reduce((t, [r, n]) => t + n * parseCpu(r[which].cpu), 0),
        memoryBytes: pods.reduce((t, [r, n]) => t + n * parseBytes(r[which].memory), 0),
    });
    return { requests: sum("requests"), limits: sum("limits") };
}

/** `5.3 CPU, 11 GiB`. */
export function describeBudget(b: Budget): string {
    return `${Number((b.cpuMillis / 1000).toFixed(2))} CPU, ${Number((b.memoryBytes / 2 ** 30).toFixed(2))} GiB`;
}
