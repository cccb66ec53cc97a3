// Before the first resource, `pulumi up` and `pulumi preview` read the cluster they are pointed
// at and stop when it cannot hold the stack: otherwise the Release waits out its timeout on pods
// that can never be scheduled, or claims that can never bind, and the cause is a few kubectl
// commands away. Read once, read-only (src/guards/clusterReads.ts); every problem names the
// setting and its fix.
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import type { ClusterItem, ClusterSnapshot } from "./clusterReads";
import { configSet, Problem, problemList } from "../problem";
import { parseBytes } from "../settings/rules";
import { HOSTNAME_LABEL } from "../components/parts/placement";

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
    /** StorageClasses without a provisioner: their claims bind only to volumes made in advance. */
    noProvisionerClasses: string[];
    /** Volumes a new claim could bind: Available, of a class, with their capacity and nodes. */
    freeVolumes: FreeVolume[];
    /** `<namespace>/<claim>` of every claim a volume is bound to. */
    boundClaims: string[];
    /** The namespace's phase, undefined when it does not exist yet. */
    namespacePhase?: string;
}

export interface FreeVolume {
    name: string;
    storageClass: string;
    capacity: string;
    /** The kubernetes.io/hostname values its node affinity allows; undefined: any node. */
    nodes?: string[];
    /** The claim it is reserved for (`<namespace>/<claim>`), if any. */
    reservedFor?: string;
}

/** What the stack needs from the cluster; from the validated settings. */
export interface ClusterNeeds {
    namespace: string;
    nodeHostnames: string[];
    /**
     * Claims by config key, with the StorageClass each names (undefined: the cluster default),
     * the claim's name and its size.
     */
    dataVolumes: Record<"postgresqlVolume" | "rabbitmqVolume", { storageClass?: string; claimName: string; size: string }>;
    /** The chart's kubeVersion constraint (Chart.yaml), and what it is called in messages. */
    chartKubeVersion: { range: string; source: string };
}

export function preflightProblems(needs: ClusterNeeds, facts: ClusterFacts): Problem[] {
    const problems: Problem[] = [];
    const version = semver.coerce(facts.serverVersion)?.version;
    for (const [range, whose] of [[PROGRAM_KUBE_VERSION, "this program"], [needs.chartKubeVersion.range, needs.chartKubeVersion.source]]) {
        if (!version || !semver.satisfies(version, range, { includePrerelease: true })) {
            problems.push({ key: "kubernetes:context", problem: `points at Kubernetes ${facts.serverVersion}, and ` +
                `${whose} needs ${range}; upgrade the cluster, or deploy to a supported one`,
            fix: configSet("kubernetes:context") });
        }
    }
    needs.nodeHostnames.forEach((name, i) => {
        if (facts.nodeHostnames.includes(name)) return;
        const key = needs.nodeHostnames.length === 1 ? "nodeHostname" : `nodeHostname[${i}]`;
        problems.push({ key, problem: `names node "${name}", and the cluster has no node with ${HOSTNAME_LABEL}=${name} ` +
            `(it has ${facts.nodeHostnames.join(", ") || "no nodes"}); nothing pinned to it could start`,
        fix: configSet(key, facts.nodeHostnames.length === 1 ? facts.nodeHostnames[0] : undefined) });
    });
    for (const [key, volume] of Object.entries(needs.dataVolumes)) {
        if (volume.storageClass !== undefined && !facts.storageClasses.includes(volume.storageClass)) {
            problems.push({ key: `${key}.storageClass`, problem: `is "${volume.storageClass}", and the cluster has no such ` +
                `StorageClass (it has ${facts.storageClasses.join(", ") || "none"}); the claim would never bind`,
            fix: configSet(`${key}.storageClass`, facts.storageClasses.length === 1 ? facts.storageClasses[0] : undefined) });
        } else if (volume.storageClass === undefined && facts.defaultStorageClass === undefined) {
            problems.push({ key: `${key}.storageClass`, problem: "is not set, and the cluster has no default StorageClass " +
                `(it has ${facts.storageClasses.join(", ") || "none"}); the claim would never bind`,
            fix: configSet(`${key}.storageClass`, facts.storageClasses.length === 1 ? facts.storageClasses[0] : undefined) });
        }
    }
    problems.push(...unbindableClaims(needs, facts));
    if (facts.namespacePhase === "Terminating") {
        problems.push({ key: "namespace", problem: `"${needs.namespace}" is being deleted; objects created in it now ` +
            "would be deleted with it; wait until it is gone (or deploy into another namespace)",
        fix: `kubectl wait --for=delete namespace/${needs.namespace} --timeout=10m` });
    }
    return problems;
}

/**
 * A class without a provisioner (kde04's `local-storage-kde04`) binds a new claim only to a volume
 * made in advance: Available, at least the claim's size, on a node the stack may run on. Without
 * one the claim stays Pending, and with it the database or the broker and every Dagster pod, until
 * `pulumi up` times out (on a takeover, with the old deployment already uninstalled). Each claim
 * still to be made takes the smallest volume that fits, as the volume binder does.
 */
function unbindableClaims(needs: ClusterNeeds, facts: ClusterFacts): Problem[] {
    const taken = new Set<string>();
    const problems: Problem[] = [];
    const claims = Object.entries(needs.dataVolumes)
        .filter(([, v]) => v.storageClass !== undefined && facts.noProvisionerClasses.includes(v.storageClass))
        .filter(([, v]) => !facts.boundClaims.includes(`${needs.namespace}/${v.claimName}`))
        .sort(([, a], [, b]) => parseBytes(b.size) - parseBytes(a.size));
    for (const [key, volume] of claims) {
        const claim = `${needs.namespace}/${volume.claimName}`;
        const fits = (v: FreeVolume) => v.storageClass === volume.storageClass && !taken.has(v.name) &&
            (v.reservedFor === undefined || v.reservedFor === claim) && parseBytes(v.capacity) >= parseBytes(volume.size) &&
            (v.nodes === undefined || needs.nodeHostnames.length === 0 || needs.nodeHostnames.some((n) => v.nodes!.includes(n)));
        const chosen = facts.freeVolumes.filter(fits).sort((a, b) => parseBytes(a.capacity) - parseBytes(b.capacity))[0];
        if (chosen) {
            taken.add(chosen.name);
            continue;
        }
        const where = needs.nodeHostnames.length ? ` on ${needs.nodeHostnames.join(" or ")}` : "";
        const others = claims.filter(([k, v]) => k !== key && v.storageClass === volume.storageClass).map(([, v]) => v.claimName);
        problems.push({ key: `${key}.storageClass`, problem: `is "${volume.storageClass}", a class without a provisioner, and ` +
            `no free volume of it${where} has ${volume.size} or more for the claim ${volume.claimName}` +
            `${others.length ? ` (besides one for ${others.join(", ")})` : ""}; the claim would stay Pending, and Dagster with it. ` +
            `Create a PersistentVolume of class ${volume.storageClass}${where} with at least ${volume.size} ` +
            `(README, "Storage without a provisioner"), or give a class with a provisioner`,
        fix: configSet(`${key}.storageClass`) });
    }
    return problems;
}

const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
const NO_PROVISIONER = "kubernetes.io/no-provisioner";

/** What the checks need of the cluster's version, nodes, StorageClasses, namespaces and volumes. */
export function clusterFacts(namespace: string, cluster: ClusterSnapshot): ClusterFacts {
    const items = cluster.clusterItems;
    const ns = items.find((i) => i.kind === "Namespace" && i.metadata.name === namespace);
    const classes = items.filter((i) => i.kind === "StorageClass");
    const volumes = items.filter((i) => i.kind === "PersistentVolume");
    const claimOf = (v: ClusterItem) => v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : undefined;
    return {
        serverVersion: cluster.serverVersion,
        nodeHostnames: items.filter((i) => i.kind === "Node").map((n) => n.metadata.labels?.[HOSTNAME_LABEL] ?? n.metadata.name),
        storageClasses: classes.map((c) => c.metadata.name),
        defaultStorageClass: classes.find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true")?.metadata.name,
        noProvisionerClasses: classes.filter((c) => c.provisioner === NO_PROVISIONER).map((c) => c.metadata.name),
        freeVolumes: volumes.filter((v) => v.status?.phase === "Available").map((v) => ({
            name: v.metadata.name, storageClass: v.spec?.storageClassName ?? "", capacity: v.spec?.capacity?.storage ?? "0",
            nodes: hostnamesOf(v.spec?.nodeAffinity), reservedFor: claimOf(v),
        })),
        boundClaims: volumes.filter((v) => v.status?.phase === "Bound").map(claimOf).filter((c): c is string => !!c),
        namespacePhase: ns?.status?.phase,
    };
}

/** The hostnames a volume's required node affinity allows (`In` on kubernetes.io/hostname); undefined: any. */
function hostnamesOf(affinity: any): string[] | undefined {
    const terms: any[] = affinity?.required?.nodeSelectorTerms ?? [];
    const names = terms.flatMap((t) => (t.matchExpressions ?? [])
        .filter((e: any) => e.key === HOSTNAME_LABEL && e.operator === "In").flatMap((e: any) => e.values ?? []));
    return terms.length ? names : undefined;
}

export class ClusterPreflightError extends pulumi.RunError {
    constructor(readonly problems: Problem[]) {
        super("the cluster cannot hold this stack as configured; nothing was changed.\n" +
            problemList(problems));
        this.name = "ClusterPreflightError";
    }
}

/** Stops the program before its first resource when the cluster cannot hold the stack. */
export function refuseClusterThatCannotHold(needs: ClusterNeeds, cluster: ClusterSnapshot): void {
    const problems = preflightProblems(needs, clusterFacts(needs.namespace, cluster));
    if (problems.length > 0) throw new ClusterPreflightError(problems);
}
