// Before the first resource: the objects this program creates by fixed name must not already
// exist unless this stack made them. The Kubernetes provider's server-side apply would otherwise
// take over whatever it finds (a manual deployment's namespace, NFS volume, database claim)
// without a word. The program marks what it creates with OWNER_ANNOTATION and looks first
// (and with INSTANCE_ANNOTATION, which src/guards/instanceOwnership.ts judges).
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSnapshot } from "./clusterReads";
import { configSet, Problem, problemList } from "../problem";

export const OWNER_ANNOTATION = "imqcam-dagster/stack";
/** The stack instance that made an object, for src/guards/instanceOwnership.ts. */
export const INSTANCE_ANNOTATION = "imqcam-dagster/stack-instance";
/** Set by the takeover (takeover/), which has backed up and uninstalled what stood there. */
export const TAKE_OVER_ENV = "IMQCAM_TAKE_OVER";
/** The takeover of the manual deployment, for the stack `owner` ("<project>/<stack>") names. */
export function takeOverCommand(owner: string): string {
    return `npm run take-over -- --stack ${owner.slice(owner.indexOf("/") + 1)}`;
}

/** What the program will create by name; the broker's and database's claims hold data. */
export interface NamedObjects {
    namespace: string;
    ioVolume: string;
    /** Claims in the namespace: the IO claim may be adopted, the data claims never. */
    ioClaim: string;
    dataClaims: string[];
    releaseName: string;
    /** Secrets holding the generated passwords: judged by src/guards/instanceOwnership.ts, not here. */
    credentialsSecrets: string[];
}

export interface ObservedObject {
    kind: string;
    name: string;
    annotations: Record<string, string>;
}

export interface Observation {
    objects: ObservedObject[];
    /** Helm releases of that name in the namespace (from Helm's release Secrets). */
    releases: string[];
}

/** The problems that must stop `pulumi up`; empty when the cluster holds nothing unexpected. */
export function objectsNotCreatedHere(expected: NamedObjects, observed: Observation, owner: string, takeOver: boolean): Problem[] {
    const problems: Problem[] = [];
    const find = (kind: string, name: string) => observed.objects.find((o) => o.kind === kind && o.name === name);
    const check = (kind: string, name: string, adoptable: boolean) => {
        const found = find(kind, name);
        if (!found) return;
        const ownedBy = found.annotations[OWNER_ANNOTATION];
        if (ownedBy === owner) return;
        if (ownedBy !== undefined) {
            problems.push({ key: `${kind} ${name}`, problem: `exists and belongs to stack ${ownedBy}, not ${owner}; ` +
                "deploy this stack into another namespace", fix: configSet("namespace") });
        } else if (!adoptable) {
            // The way out that keeps the data: deleting the claim is for its owner, after a backup.
            problems.push({ key: `${kind} ${name}`, problem: "exists and holds data this stack did not create; deploy " +
                `this stack into another namespace, or find out whose data it is, back it up, then kubectl -n ${expected.namespace} ` +
                `delete pvc ${name}`, fix: configSet("namespace") });
        } else if (!takeOver) {
            problems.push({ key: `${kind} ${name}`, problem: "exists, but this stack did not create it", fix: takeOverCommand(owner) });
        }
    };
    check("Namespace", expected.namespace, true);
    check("PersistentVolume", expected.ioVolume, true);
    check("PersistentVolumeClaim", expected.ioClaim, true);
    for (const claim of expected.dataClaims) check("PersistentVolumeClaim", claim, false);
    const namespace = find("Namespace", expected.namespace);
    if (observed.releases.includes(expected.releaseName) && namespace?.annotations[OWNER_ANNOTATION] !== owner) {
        problems.push({ key: `Helm release ${expected.releaseName}`,
            problem: `is installed in namespace ${expected.namespace}, but not by this stack`, fix: takeOverCommand(owner) });
    }
    return problems;
}

export class ClusterOwnershipError extends pulumi.RunError {
    constructor(readonly problems: Problem[], owner: string) {
        super(
            "the cluster already holds objects this stack did not create; nothing was changed.\n" +
            problemList(problems) +
            `\nTo switch from the manual deployment without losing its run history, run the takeover: ` +
            `${takeOverCommand(owner)} (README, "Taking over the manual deployment").`,
        );
        this.name = "ClusterOwnershipError";
    }
}

/** The named objects, as the cluster holds them (src/guards/clusterReads.ts). */
export function observe(expected: NamedObjects, cluster: ClusterSnapshot): Observation {
    const named = (kind: string, names: string[]) => (o: { kind: string; name: string }) => o.kind === kind && names.includes(o.name);
    const clusterScoped = cluster.clusterItems
        .map((i) => ({ kind: i.kind, name: i.metadata.name, annotations: i.metadata.annotations ?? {} }))
        .filter((o) => named("Namespace", [expected.namespace])(o) || named("PersistentVolume", [expected.ioVolume])(o));
    const claims = cluster.namespaced.filter(named("PersistentVolumeClaim", [expected.ioClaim, ...expected.dataClaims]));
    // The credentials Secrets' names and marks only: their values never reach the program.
    const secrets = cluster.namespaced.filter(named("Secret", expected.credentialsSecrets));
    const releases = cluster.namespaced.filter((o) => o.kind === "Secret" && o.labels.owner === "helm" &&
        o.labels.name === expected.releaseName);
    return {
        objects: [...clusterScoped, ...claims, ...secrets].map(({ kind, name, annotations }) => ({ kind, name, annotations })),
        releases: releases.length > 0 ? [expected.releaseName] : [],
    };
}

/**
 * Stops the program before its first resource when the cluster holds objects it did not create;
 * returns what it found, for the check of the stack instance (src/guards/instanceOwnership.ts).
 */
export function refuseObjectsNotCreatedHere(expected: NamedObjects, cluster: ClusterSnapshot, owner: string,
    takeOver = process.env[TAKE_OVER_ENV] === "1"): Observation {
    const observed = observe(expected, cluster);
    const problems = objectsNotCreatedHere(expected, observed, owner, takeOver);
    if (problems.length > 0) throw new ClusterOwnershipError(problems, owner);
    return observed;
}
