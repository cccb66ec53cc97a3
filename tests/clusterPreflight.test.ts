// The cluster check before the first resource: what it concludes from what the cluster says.
// tests/cluster/ runs the same check against a real API server.
import * as assert from "assert";
import * as preflight from "../src/guards/clusterPreflight";
import { ClusterFacts, clusterFacts, ClusterNeeds } from "../src/guards/clusterPreflight";
import { ClusterSnapshot } from "../src/guards/clusterReads";
import { assertPasteable } from "./pasteable";

/** The check's problems, each fix first run through a shell parser. */
const preflightProblems = (needs: ClusterNeeds, facts: ClusterFacts) => {
    const problems = preflight.preflightProblems(needs, facts);
    for (const p of problems) assertPasteable(p.fix, p.key);
    return problems;
};

const NEEDS: ClusterNeeds = {
    namespace: "imqcam-dagster", nodeHostnames: ["kde04.idies.jhu.edu"],
    dataVolumes: {
        postgresqlVolume: { storageClass: "local-storage-kde04", claimName: "dagster-postgresql-data", size: "100Gi" },
        rabbitmqVolume: { claimName: "dagster-rabbitmq-data", size: "8Gi" },
    },
    chartKubeVersion: { range: ">= 1.18.0-0", source: "the Dagster chart 1.13.27" },
};
const KDE04: ClusterFacts = {
    serverVersion: "v1.31.4", nodeHostnames: ["kde01.idies.jhu.edu", "kde04.idies.jhu.edu"],
    storageClasses: ["local-storage-kde04", "nfs-client"], defaultStorageClass: "nfs-client", namespacePhase: "Active",
    noProvisionerClasses: ["local-storage-kde04"], boundClaims: ["imqcam-dagster/data-dagster-postgresql-0"],
    freeVolumes: [{ name: "local-pv-1", storageClass: "local-storage-kde04", capacity: "200Gi", nodes: ["kde04.idies.jhu.edu"] }],
};
const KDE04_BOTH_LOCAL: Partial<ClusterNeeds> = { dataVolumes: {
    postgresqlVolume: { storageClass: "local-storage-kde04", claimName: "dagster-postgresql-data", size: "100Gi" },
    rabbitmqVolume: { storageClass: "local-storage-kde04", claimName: "dagster-rabbitmq-data", size: "100Gi" },
} };
const localVolume = (name: string, capacity: string, extra: object = {}) =>
    ({ name, storageClass: "local-storage-kde04", capacity, nodes: ["kde04.idies.jhu.edu"], ...extra });
const keys = (facts: Partial<ClusterFacts>, needs: Partial<ClusterNeeds> = {}) =>
    preflightProblems({ ...NEEDS, ...needs }, { ...KDE04, ...facts }).map((p) => p.key);

describe("checking the cluster before deploying", () => {
    it("finds nothing wrong with a cluster that holds the stack", () => {
        assert.deepStrictEqual(keys({}), []);
        assert.deepStrictEqual(keys({ namespacePhase: undefined, serverVersion: "v1.37.2+k3s1" }), []);
    });

    it("names each node nodeHostname names that the cluster lacks", () => {
        const problems = preflightProblems({ ...NEEDS, nodeHostnames: ["kde04.idies.jhu.edu", "kde05.idies.jhu.edu"] }, KDE04);
        assert.deepStrictEqual(problems.map((p) => p.key), ["nodeHostname[1]"]);
        assert.match(problems[0].problem, /no node with kubernetes\.io\/hostname=kde05\.idies\.jhu\.edu/);
        assert.match(problems[0].problem, /\(it has kde01\.idies\.jhu\.edu, kde04\.idies\.jhu\.edu\)/);
        assert.strictEqual(problems[0].fix, "pulumi config set --path 'nodeHostname[1]'");
        // One node: the fix names it.
        const [only] = preflightProblems({ ...NEEDS, nodeHostnames: ["kde05.idies.jhu.edu"] }, { ...KDE04, nodeHostnames: ["kde04.idies.jhu.edu"] });
        assert.strictEqual(only.fix, "pulumi config set nodeHostname kde04.idies.jhu.edu");
    });

    it("names a StorageClass the cluster lacks, and a claim without class on a cluster without a default", () => {
        assert.deepStrictEqual(keys({ storageClasses: ["nfs-client"] }), ["postgresqlVolume.storageClass"]);
        assert.deepStrictEqual(keys({ defaultStorageClass: undefined }), ["rabbitmqVolume.storageClass"]);
    });

    it("counts free volumes of a class without a provisioner: by class, node, size and reservation, one per claim", () => {
        // The takeover's case: the old claims hold kde04's volumes, none is free.
        const none = preflightProblems({ ...NEEDS, ...KDE04_BOTH_LOCAL }, { ...KDE04, freeVolumes: [] });
        assert.deepStrictEqual(none.map((p) => p.key), ["postgresqlVolume.storageClass", "rabbitmqVolume.storageClass"]);
        assert.match(none[0].problem, /"local-storage-kde04", a class without a provisioner, and no free volume of it on kde04\.idies\.jhu\.edu has 100Gi or more for the claim dagster-postgresql-data/);
        assert.match(none[0].problem, /Create a PersistentVolume of class local-storage-kde04 on kde04\.idies\.jhu\.edu with at least 100Gi/);
        assert.strictEqual(none[0].fix, "pulumi config set --path 'postgresqlVolume.storageClass'");
        // One spare: the second claim still has none.
        assert.deepStrictEqual(keys({ freeVolumes: [localVolume("a", "100Gi")] }, KDE04_BOTH_LOCAL).length, 1);
        // Exactly enough, the larger volume left to whichever claim needs it.
        assert.deepStrictEqual(keys({ freeVolumes: [localVolume("a", "100Gi"), localVolume("b", "120Gi")] }, KDE04_BOTH_LOCAL), []);
        // Too small, on another node, of another class, reserved for another claim: none of them counts.
        assert.deepStrictEqual(keys({ freeVolumes: [
            localVolume("small", "99Gi"), localVolume("elsewhere", "1Ti", { nodes: ["kde01.idies.jhu.edu"] }),
            localVolume("other-class", "1Ti", { storageClass: "nfs-client" }),
            localVolume("reserved", "1Ti", { reservedFor: "kafka/data-broker-0" }),
        ] }), ["postgresqlVolume.storageClass"]);
        // A volume reserved for this very claim, or one without node affinity, counts.
        assert.deepStrictEqual(keys({ freeVolumes: [localVolume("mine", "100Gi", { reservedFor: "imqcam-dagster/dagster-postgresql-data" })] }), []);
        assert.deepStrictEqual(keys({ freeVolumes: [localVolume("anywhere", "1Ti", { nodes: undefined })] }), []);
        // A claim already bound needs no volume; a class with a provisioner needs none made in advance.
        assert.deepStrictEqual(keys({ freeVolumes: [], boundClaims: ["imqcam-dagster/dagster-postgresql-data"] }), []);
        assert.deepStrictEqual(keys({ freeVolumes: [], noProvisionerClasses: [] }), []);
    });

    it("refuses a namespace that is being deleted", () => {
        assert.deepStrictEqual(keys({ namespacePhase: "Terminating" }), ["namespace"]);
    });

    it("refuses a Kubernetes older than the program or the chart needs", () => {
        const [program] = preflightProblems(NEEDS, { ...KDE04, serverVersion: "v1.22.17" });
        assert.match(program.problem, /Kubernetes v1\.22\.17, and this program needs >=1\.23\.0-0/);
        const local = { range: ">=1.32.0-0", source: "the chart ./charts/dagster-1.13.27.tgz" };
        const [chart] = preflightProblems({ ...NEEDS, chartKubeVersion: local }, KDE04);
        assert.match(chart.problem, /v1\.31\.4, and the chart \.\/charts\/dagster-1\.13\.27\.tgz needs >=1\.32\.0-0/);
        assert.deepStrictEqual(keys({ serverVersion: "v0.0.0-master+$Format:%H$" }), ["kubernetes:context", "kubernetes:context"]);
    });

    it("reads the version, nodes, StorageClasses, namespaces and volumes from the cluster's one read", () => {
        const cluster: ClusterSnapshot = { serverVersion: "v1.37.2", namespaced: [], clusterItems: [
            { kind: "Node", metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "kde04.idies.jhu.edu" } } },
            { kind: "StorageClass", metadata: { name: "standard", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
              provisioner: "rancher.io/local-path" },
            { kind: "StorageClass", metadata: { name: "local-storage-kde04" }, provisioner: "kubernetes.io/no-provisioner" },
            { kind: "PersistentVolume", metadata: { name: "free" }, status: { phase: "Available" },
              spec: { storageClassName: "local-storage-kde04", capacity: { storage: "100Gi" }, nodeAffinity: { required: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["kde04.idies.jhu.edu"] }] }] } } } },
            { kind: "PersistentVolume", metadata: { name: "held" }, status: { phase: "Bound" },
              spec: { storageClassName: "local-storage-kde04", capacity: { storage: "100Gi" },
                  claimRef: { namespace: "imqcam-dagster", name: "data-dagster-postgresql-0" } } },
            { kind: "Namespace", metadata: { name: "default" }, status: { phase: "Active" } },
            { kind: "Namespace", metadata: { name: "imqcam-dagster" }, status: { phase: "Terminating" } },
        ] };
        assert.deepStrictEqual(clusterFacts("imqcam-dagster", cluster), {
            serverVersion: "v1.37.2", nodeHostnames: ["kde04.idies.jhu.edu"], storageClasses: ["standard", "local-storage-kde04"],
            defaultStorageClass: "standard", namespacePhase: "Terminating", noProvisionerClasses: ["local-storage-kde04"],
            freeVolumes: [{ name: "free", storageClass: "local-storage-kde04", capacity: "100Gi", nodes: ["kde04.idies.jhu.edu"], reservedFor: undefined }],
            boundClaims: ["imqcam-dagster/data-dagster-postgresql-0"],
        });
    });
});
