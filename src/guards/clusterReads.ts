// The one read of the cluster that the checks before the first resource share: three read-only
// kubectl calls, one after another (timed against the real API server by `npm run bench:cluster`,
// as a ratio to one bare GET). kubectl, not a client library in the program: loading
// @kubernetes/client-node alone took longer than all of kubectl's calls (README, "The cluster it
// is pointed at").
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { INSTANCE_ANNOTATION, OWNER_ANNOTATION } from "./clusterOwnership";

export type Kubectl = (args: string[]) => string;

/** kubectl, on the kube context the Kubernetes provider uses (`kubernetes:context`, else the current one). */
export function kubectl(context: string | undefined): Kubectl {
    return (args) => {
        try {
            return execFileSync("kubectl", [...(context ? ["--context", context] : []), ...args],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
            const err = e as { stderr?: string; message: string };
            throw new pulumi.RunError(`could not read the cluster with \`kubectl ${args.join(" ")}\` ` +
                `before deploying: ${(err.stderr || err.message).trim()}`);
        }
    };
}

/** An object of the cluster-wide lists, as `kubectl get -o json` prints it. */
export interface ClusterItem {
    kind: string;
    metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    status?: { phase?: string };
    provisioner?: string;
    spec?: any;
}

/** A claim or Secret of the stack's namespace: its name and the few labels and annotations the checks read. */
export interface NamespacedItem {
    kind: string;
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
}

/** What the checks know of the cluster, read once. */
export interface ClusterSnapshot {
    /** `/version`'s gitVersion, e.g. v1.37.2. */
    serverVersion: string;
    /** Nodes, StorageClasses, namespaces and PersistentVolumes. */
    clusterItems: ClusterItem[];
    /** Claims and Secrets of the stack's namespace (none when it does not exist). */
    namespaced: NamespacedItem[];
}

/**
 * Of the namespace's claims and Secrets, only these, printed by kubectl: no Secret's data (nor a
 * last-applied annotation, which may hold it) reaches the program.
 */
const NAMESPACED_LABELS = ["owner", "name"];  // Helm 3 marks each release revision's Secret owner=helm, name=<release>
const NAMESPACED_ANNOTATIONS = [OWNER_ANNOTATION, INSTANCE_ANNOTATION];

export function readCluster(namespace: string, run: Kubectl): ClusterSnapshot {
    const version = JSON.parse(run(["get", "--raw", "/version"])) as { gitVersion: string };
    const clusterItems = (JSON.parse(run(["get", "nodes,storageclasses,namespaces,persistentvolumes", "-o", "json"])).items ?? []) as ClusterItem[];
    const fields = ["{.kind}", "{.metadata.name}", ...NAMESPACED_LABELS.map((l) => `{.metadata.labels['${l}']}`),
        ...NAMESPACED_ANNOTATIONS.map((a) => `{.metadata.annotations['${a}']}`)].join('{"\\t"}');
    const out = run(["get", "persistentvolumeclaims,secrets", "--namespace", namespace,
        "-o", `jsonpath={range .items[*]}${fields}{"\\n"}{end}`]);
    const namespaced = out.split("\n").filter((line) => line.trim()).map((line) => {
        const [kind, name, ...values] = line.split("\t");
        const pick = (keys: string[], offset: number) =>
            Object.fromEntries(keys.map((k, i) => [k, values[offset + i]]).filter(([, v]) => v));
        return { kind, name, labels: pick(NAMESPACED_LABELS, 0), annotations: pick(NAMESPACED_ANNOTATIONS, NAMESPACED_LABELS.length) };
    });
    return { serverVersion: version.gitVersion, clusterItems, namespaced };
}
