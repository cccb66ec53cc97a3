// Before the first resource, `pulumi up` and `pulumi preview` read the cluster they are pointed
// at and stop when it cannot hold the stack: otherwise the Release waits out its timeout on pods
// that can never be scheduled, or claims that can never bind, and the cause is a few kubectl
// commands away. One read, read-only; every problem names the setting and its fix.
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { Kubectl } from "./clusterOwnership";
import { Problem } from "./configReader";
import { HOSTNAME_LABEL } from "./components/placement";

/**
 * Kubernetes releases the program's own objects need: the TTL-after-finished controller, which
 * deletes finished run and step Jobs (finishedJobTtlSeconds), is GA from 1.23; batch/v1 CronJobs
 * (backups, log pruning) from 1.21.
 */
export const PROGRAM_KUBE_VERSION = ">=1.23.0-0";

/** What the cluster says about the things the settings name. */
export interface ClusterFacts {
    /** `/version`'s gitVersion, e.g. v1.37.2. */
    serverVersion: string;
    /** Each node's kubernetes.io/hostname label (what nodeHostname pins to). */
    nodeHostnames: string[];
    storageClasses: string[];
    defaultStorageClass?: string;
    /** The namespace's phase, undefined when it does not exist yet. */
    namespacePhase?: string;
}

/** What the stack needs from the cluster; from the validated settings. */
export interface ClusterNeeds {
    namespace: string;
    nodeHostnames: string[];
    /** Claims by config key, with the StorageClass each names (undefined: the cluster default). */
    dataVolumes: Record<"postgresqlVolume" | "rabbitmqVolume", { storageClass?: string }>;
    /** The chart's kubeVersion constraint (Chart.yaml), and what it is called in messages. */
    chartKubeVersion: { range: string; source: string };
}

export function preflightProblems(needs: ClusterNeeds, facts: ClusterFacts): Problem[] {
    const problems: Problem[] = [];
    const version = semver.coerce(facts.serverVersion)?.version;
    for (const [range, whose] of [[PROGRAM_KUBE_VERSION, "this program"], [needs.chartKubeVersion.range, needs.chartKubeVersion.source]]) {
        if (!version || !semver.satisfies(version, range, { includePrerelease: true })) {
            problems.push({ key: "kubernetes:context", problem: `points at Kubernetes ${facts.serverVersion}, and ` +
                `${whose} needs ${range}`, fix: "upgrade the cluster, or pulumi config set kubernetes:context <a supported cluster>" });
        }
    }
    needs.nodeHostnames.forEach((name, i) => {
        if (facts.nodeHostnames.includes(name)) return;
        const key = needs.nodeHostnames.length === 1 ? "nodeHostname" : `nodeHostname[${i}]`;
        problems.push({ key, problem: `names node "${name}", and the cluster has no node with ${HOSTNAME_LABEL}=${name} ` +
            `(it has ${facts.nodeHostnames.join(", ") || "no nodes"}); nothing pinned to it could start`,
        fix: `pulumi config set nodeHostname <one of: ${facts.nodeHostnames.join(", ") || "kubectl get nodes"}>` });
    });
    for (const [key, volume] of Object.entries(needs.dataVolumes)) {
        if (volume.storageClass !== undefined && !facts.storageClasses.includes(volume.storageClass)) {
            problems.push({ key: `${key}.storageClass`, problem: `is "${volume.storageClass}", and the cluster has no such ` +
                `StorageClass (it has ${facts.storageClasses.join(", ") || "none"}); the claim would never bind`,
            fix: `pulumi config set --path '${key}.storageClass' <one of: ${facts.storageClasses.join(", ") || "kubectl get storageclass"}>` });
        } else if (volume.storageClass === undefined && facts.defaultStorageClass === undefined) {
            problems.push({ key: `${key}.storageClass`, problem: "is not set, and the cluster has no default StorageClass; " +
                "the claim would never bind", fix: `pulumi config set --path '${key}.storageClass' <a StorageClass of the cluster>` });
        }
    }
    if (facts.namespacePhase === "Terminating") {
        problems.push({ key: "namespace", problem: `"${needs.namespace}" is being deleted; objects created in it now ` +
            "would be deleted with it", fix: `wait until kubectl get namespace ${needs.namespace} finds nothing, ` +
            "or pulumi config set namespace <another name>" });
    }
    return problems;
}

const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** Two kubectl calls: the server's version, then nodes, StorageClasses and namespaces in one list. */
export function readClusterFacts(namespace: string, run: Kubectl): ClusterFacts {
    const version = JSON.parse(run(["get", "--raw", "/version"])) as { gitVersion: string };
    type Item = { kind: string; metadata: { name: string; labels?: Record<string, string>;
        annotations?: Record<string, string> }; status?: { phase?: string } };
    const items = (JSON.parse(run(["get", "nodes,storageclasses,namespaces", "-o", "json"])).items ?? []) as Item[];
    const ns = items.find((i) => i.kind === "Namespace" && i.metadata.name === namespace);
    const classes = items.filter((i) => i.kind === "StorageClass");
    return {
        serverVersion: version.gitVersion,
        nodeHostnames: items.filter((i) => i.kind === "Node").map((n) => n.metadata.labels?.[HOSTNAME_LABEL] ?? n.metadata.name),
        storageClasses: classes.map((c) => c.metadata.name),
        defaultStorageClass: classes.find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true")?.metadata.name,
        namespacePhase: ns?.status?.phase,
    };
}

export class ClusterPreflightError extends pulumi.RunError {
    constructor(readonly problems: Problem[]) {
        super("the cluster cannot hold this stack as configured; nothing was changed.\n" +
            problems.map((p) => `  - ${p.key}: ${p.problem}\n    fix: ${p.fix}`).join("\n"));
        this.name = "ClusterPreflightError";
    }
}

/** Stops the program before its first resource when the cluster cannot hold the stack. */
export function refuseClusterThatCannotHold(needs: ClusterNeeds, run: Kubectl): void {
    const problems = preflightProblems(needs, readClusterFacts(needs.namespace, run));
    if (problems.length > 0) throw new ClusterPreflightError(problems);
}
