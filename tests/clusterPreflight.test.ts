// The cluster check before the first resource: what it concludes from what the cluster says.
// tests/cluster/ runs the same check against a real API server.
import * as assert from "assert";
import { ClusterFacts, ClusterNeeds, preflightProblems, readClusterFacts } from "../clusterPreflight";

const NEEDS: ClusterNeeds = {
    namespace: "imqcam-dagster", nodeHostnames: ["kde04.idies.jhu.edu"],
    dataVolumes: { postgresqlVolume: { storageClass: "local-storage-kde04" }, rabbitmqVolume: {} },
    chartKubeVersion: { range: ">= 1.18.0-0", source: "the Dagster chart 1.13.27" },
};
const KDE04: ClusterFacts = {
    serverVersion: "v1.31.4", nodeHostnames: ["kde01.idies.jhu.edu", "kde04.idies.jhu.edu"],
    storageClasses: ["local-storage-kde04", "nfs-client"], defaultStorageClass: "nfs-client", namespacePhase: "Active",
};
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
        assert.match(problems[0].fix, /^pulumi config set nodeHostname <one of: kde01\.idies\.jhu\.edu, kde04\.idies\.jhu\.edu>/);
    });

    it("names a StorageClass the cluster lacks, and a claim without class on a cluster without a default", () => {
        assert.deepStrictEqual(keys({ storageClasses: ["nfs-client"] }), ["postgresqlVolume.storageClass"]);
        assert.deepStrictEqual(keys({ defaultStorageClass: undefined }), ["rabbitmqVolume.storageClass"]);
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

    it("reads the cluster in two read-only kubectl calls", () => {
        const calls: string[][] = [];
        const answers: Record<string, string> = {
            "get --raw /version": JSON.stringify({ gitVersion: "v1.37.2" }),
            "get nodes,storageclasses,namespaces -o json": JSON.stringify({ items: [
                { kind: "Node", metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "kde04.idies.jhu.edu" } } },
                { kind: "StorageClass", metadata: { name: "standard", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } },
                { kind: "StorageClass", metadata: { name: "local-storage-kde04" } },
                { kind: "Namespace", metadata: { name: "default" }, status: { phase: "Active" } },
                { kind: "Namespace", metadata: { name: "imqcam-dagster" }, status: { phase: "Terminating" } },
            ] }),
        };
        const facts = readClusterFacts("imqcam-dagster", (args) => { calls.push(args); return answers[args.join(" ")]; });
        assert.deepStrictEqual(calls.map((c) => c.join(" ")), Object.keys(answers));
        assert.deepStrictEqual(facts, {
            serverVersion: "v1.37.2", nodeHostnames: ["kde04.idies.jhu.edu"], storageClasses: ["standard", "local-storage-kde04"],
            defaultStorageClass: "standard", namespacePhase: "Terminating",
        });
    });
});
