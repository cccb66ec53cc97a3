// The checks before the first resource read the cluster once: three read-only kubectl calls.
import * as assert from "assert";
import { INSTANCE_ANNOTATION, OWNER_ANNOTATION } from "../src/guards/clusterOwnership";
import { readCluster } from "../src/guards/clusterReads";

describe("the cluster's one read", () => {
    const calls: string[][] = [];
    const nodes = { kind: "Node", metadata: { name: "kde04.idies.jhu.edu" } };
    // kubectl's jsonpath prints an empty field for a label or annotation an object lacks.
    const namespaced = [
        "PersistentVolumeClaim\tdagster-postgresql-data\t\t\timqcam-dagster/kde04\t",
        "Secret\tsh.helm.release.v1.dagster.v1\thelm\tdagster\t\t",
        "Secret\tdagster-postgresql-credentials\t\t\timqcam-dagster/kde04\t5e1f0c2a",
        "",
    ].join("\n");
    const cluster = readCluster("imqcam-dagster", (args) => {
        calls.push(args);
        if (args[1] === "--raw") return JSON.stringify({ gitVersion: "v1.37.2" });
        return args[1].startsWith("nodes") ? JSON.stringify({ kind: "List", items: [nodes] }) : namespaced;
    });

    it("asks for the version, the cluster-wide lists and the namespace's claims and Secrets, read-only", () => {
        assert.deepStrictEqual(calls.map((c) => c.slice(0, 2)),
            [["get", "--raw"], ["get", "nodes,storageclasses,namespaces,persistentvolumes"], ["get", "persistentvolumeclaims,secrets"]]);
        assert.deepStrictEqual(calls[2].slice(2, 4), ["--namespace", "imqcam-dagster"]);
    });

    it("prints of the namespace's objects only their kind, name, Helm's two labels and the program's two marks", () => {
        const template = calls[2][calls[2].indexOf("-o") + 1];
        const fields = [...template.matchAll(/\{(\.[^}]*)\}/g)].map((m) => m[1]);
        assert.deepStrictEqual(fields, [".kind", ".metadata.name", ".metadata.labels['owner']", ".metadata.labels['name']",
            `.metadata.annotations['${OWNER_ANNOTATION}']`, `.metadata.annotations['${INSTANCE_ANNOTATION}']`]);
    });

    it("keeps what the checks read, an empty field as no label or annotation", () => {
        assert.deepStrictEqual(cluster, {
            serverVersion: "v1.37.2",
            clusterItems: [nodes],
            namespaced: [
                { kind: "PersistentVolumeClaim", name: "dagster-postgresql-data", labels: {},
                    annotations: { [OWNER_ANNOTATION]: "imqcam-dagster/kde04" } },
                { kind: "Secret", name: "sh.helm.release.v1.dagster.v1", labels: { owner: "helm", name: "dagster" }, annotations: {} },
                { kind: "Secret", name: "dagster-postgresql-credentials", labels: {},
                    annotations: { [OWNER_ANNOTATION]: "imqcam-dagster/kde04", [INSTANCE_ANNOTATION]: "5e1f0c2a" } },
            ],
        });
    });
});
