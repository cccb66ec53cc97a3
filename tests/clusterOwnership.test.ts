// No `pulumi up` takes over an object it did not create without saying so.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ownership from "../src/guards/clusterOwnership";
import {
    ClusterOwnershipError, INSTANCE_ANNOTATION, NamedObjects, Observation, ObservedObject, observe, OWNER_ANNOTATION, TAKE_OVER_ENV,
} from "../src/guards/clusterOwnership";
import { ClusterSnapshot } from "../src/guards/clusterReads";
import { ofType, promiseOf, runProgram, T } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { KDE04_SECRETS } from "./fixtures";
import { assertPasteable } from "./pasteable";

/** The check's problems, each fix first run through a shell parser. */
const objectsNotCreatedHere = (...args: Parameters<typeof ownership.objectsNotCreatedHere>) => {
    const problems = ownership.objectsNotCreatedHere(...args);
    for (const p of problems) assertPasteable(p.fix, p.key);
    return problems;
};

const OWNER = "imqcam-dagster/kde04";
const INSTANCE = "5e1f0c2a-7b3d-4c8e-9a6f-0d2b4e6a8c10";
const EXPECTED: NamedObjects = {
    namespace: "imqcam-dagster", ioVolume: "imqcam-dagster-io-data", ioClaim: "imqcam-dagster-io-data",
    dataClaims: ["dagster-postgresql-data", "dagster-rabbitmq-data"], releaseName: "dagster",
    credentialsSecrets: ["dagster-postgresql-credentials", "dagster-celery-config"],
};
const object = (kind: string, name: string, owner?: string): ObservedObject =>
    ({ kind, name, annotations: owner ? { [OWNER_ANNOTATION]: owner } : {} });
/** What kde04 holds today: the manual deployment, made with kubectl and helm. */
const MANUAL: Observation = {
    objects: [
        object("Namespace", "imqcam-dagster"),
        object("PersistentVolume", "imqcam-dagster-io-data"),
        object("PersistentVolumeClaim", "imqcam-dagster-io-data"),
    ],
    releases: ["dagster"],
};
const keys = (o: Observation, takeOver = false) => objectsNotCreatedHere(EXPECTED, o, OWNER, takeOver).map((p) => p.key);

describe("objects this stack did not create", () => {
    it("finds nothing in an empty cluster, or in one holding only this stack's objects", () => {
        assert.deepStrictEqual(keys({ objects: [], releases: [] }), []);
        const ours = MANUAL.objects.map((o) => object(o.kind, o.name, OWNER));
        assert.deepStrictEqual(keys({ objects: ours, releases: ["dagster"] }), []);
    });

    it("stops at the manual deployment and names the takeover", () => {
        const problems = objectsNotCreatedHere(EXPECTED, MANUAL, OWNER, false);
        assert.deepStrictEqual(problems.map((p) => p.key), [
            "Namespace imqcam-dagster", "PersistentVolume imqcam-dagster-io-data",
            "PersistentVolumeClaim imqcam-dagster-io-data", "Helm release dagster",
        ]);
        for (const p of problems) assert.strictEqual(p.fix, "npm run take-over -- --stack kde04");
        assert.match(new ClusterOwnershipError(problems, OWNER).message, /nothing was changed[\s\S]*npm run take-over/);
    });

    it("lets the takeover adopt the namespace and the IO volume, once the old release is gone", () => {
        assert.deepStrictEqual(keys(MANUAL, true), ["Helm release dagster"]);
        assert.deepStrictEqual(keys({ ...MANUAL, releases: [] }, true), []);
    });

    it("never adopts a claim that holds a database's or a broker's data", () => {
        const withData = { objects: [...MANUAL.objects, object("PersistentVolumeClaim", "dagster-postgresql-data")], releases: [] };
        assert.deepStrictEqual(keys(withData, true), ["PersistentVolumeClaim dagster-postgresql-data"]);
    });

    it("refuses another stack's objects, takeover or not", () => {
        const other = { objects: [object("Namespace", "imqcam-dagster", "imqcam-dagster/local")], releases: [] };
        for (const takeOver of [false, true]) {
            const [problem] = objectsNotCreatedHere(EXPECTED, other, OWNER, takeOver);
            assert.match(problem.problem, /belongs to stack imqcam-dagster\/local/);
        }
    });
});

describe("the named objects in the cluster's one read", () => {
    it("picks the named objects and this release's revisions, with this program's marks, and nothing else", () => {
        const cluster: ClusterSnapshot = {
            serverVersion: "v1.37.2",
            clusterItems: [
                { kind: "Namespace", metadata: { name: "imqcam-dagster" } },
                { kind: "Namespace", metadata: { name: "kafka" } },
                { kind: "PersistentVolume", metadata: { name: "imqcam-dagster-io-data", annotations: { [OWNER_ANNOTATION]: OWNER } } },
                { kind: "PersistentVolume", metadata: { name: "kafka-data" } },
                { kind: "Node", metadata: { name: "imqcam-dagster" } },
            ],
            namespaced: [
                { kind: "PersistentVolumeClaim", name: "dagster-rabbitmq-data", labels: {}, annotations: { [OWNER_ANNOTATION]: OWNER } },
                { kind: "PersistentVolumeClaim", name: "scratch", labels: {}, annotations: {} },
                { kind: "Secret", name: "dagster-postgresql-credentials", labels: {},
                    annotations: { [OWNER_ANNOTATION]: OWNER, [INSTANCE_ANNOTATION]: INSTANCE } },
                { kind: "Secret", name: "dagster-celery-config", labels: {}, annotations: {} },
                { kind: "Secret", name: "girder-connection-info", labels: {}, annotations: {} },
                { kind: "Secret", name: "sh.helm.release.v1.other.v1", labels: { owner: "helm", name: "other" }, annotations: {} },
            ],
        };
        assert.deepStrictEqual(observe(EXPECTED, cluster), {
            objects: [
                object("Namespace", "imqcam-dagster"), object("PersistentVolume", "imqcam-dagster-io-data", OWNER),
                object("PersistentVolumeClaim", "dagster-rabbitmq-data", OWNER),
                { kind: "Secret", name: "dagster-postgresql-credentials",
                    annotations: { [OWNER_ANNOTATION]: OWNER, [INSTANCE_ANNOTATION]: INSTANCE } },
                { kind: "Secret", name: "dagster-celery-config", annotations: {} },
            ],
            releases: [],
        });
        const revision = { kind: "Secret", name: "sh.helm.release.v1.dagster.v3", labels: { owner: "helm", name: "dagster" }, annotations: {} };
        assert.deepStrictEqual(observe(EXPECTED, { ...cluster, namespaced: [revision] }).releases, ["dagster"]);
        assert.deepStrictEqual(observe(EXPECTED, { serverVersion: "v1.37.2", clusterItems: [], namespaced: [] }),
            { objects: [], releases: [] });
    });
});

/** kde04's node and the StorageClass of its local volumes, as `kubectl get nodes,storageclasses,namespaces` lists them. */
const KDE04_NODES_AND_CLASSES = { kind: "List", items: [
    { kind: "Node", metadata: { name: "kde04.idies.jhu.edu", labels: { "kubernetes.io/hostname": "kde04.idies.jhu.edu" } } },
    { kind: "StorageClass", metadata: { name: "local-storage-kde04" } },
] };
/** And the manual deployment's namespace, made with kubectl. */
const KDE04_MANUAL = { ...KDE04_NODES_AND_CLASSES,
    items: [...KDE04_NODES_AND_CLASSES.items, { kind: "Namespace", metadata: { name: "imqcam-dagster" } }] };

describe("the entry point", () => {
    // A kubectl on PATH that answers as the cluster would: the manual deployment, or nothing.
    let bin: string;
    const savedPath = process.env.PATH;
    before(() => {
        bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kubectl-"));
        fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/sh
case "$*" in
  *"--raw /version"*) echo '{"gitVersion":"v1.31.4"}' ;;
  *nodes,storageclasses*)
    if [ "$FAKE_CLUSTER" = manual ]; then echo '${JSON.stringify(KDE04_MANUAL)}'; else echo '${JSON.stringify(KDE04_NODES_AND_CLASSES)}'; fi ;;
  *persistentvolumeclaims,secrets*)
    if [ "$FAKE_CLUSTER" = manual ]; then printf 'Secret\\tsh.helm.release.v1.dagster.v1\\thelm\\tdagster\\t\\t\\n'; fi ;;
  *) echo "unexpected: kubectl $*" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
        process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    });
    after(() => {
        process.env.PATH = savedPath;
        delete process.env.FAKE_CLUSTER;
        fs.rmSync(bin, { recursive: true, force: true });
    });

    // The entry point deploys on import, as under `pulumi up`.
    const runIndex = (exports: (index: Record<string, unknown>) => void = () => undefined) => runProgram({
        overrides: KDE04_SECRETS,
        program: () => {
            delete require.cache[require.resolve(path.join(REPO_ROOT, "index.ts"))];
            exports(require(path.join(REPO_ROOT, "index.ts")));
            return undefined;
        },
    });

    it("looks at the cluster before the first resource and stops at objects it did not create", async () => {
        process.env.FAKE_CLUSTER = "manual";
        const run = await runIndex();
        assert.ok(run.error instanceof ClusterOwnershipError, `expected a ClusterOwnershipError, got ${run.error}`);
        assert.strictEqual(run.resources.length, 0, "nothing may be registered");
        assert.deepStrictEqual(run.error.problems.map((p) => p.key), ["Namespace imqcam-dagster", "Helm release dagster"]);
    });

    it("deploys into a cluster that holds none of them, and exports the stack outputs", async () => {
        process.env.FAKE_CLUSTER = "empty";
        let exported: Record<string, unknown> = {};
        const run = await runIndex((index) => { exported = index; });
        assert.strictEqual(run.error, undefined);
        assert.strictEqual(ofType(run, T.release).length, 1, "the entry point deployed the release");
        assert.deepStrictEqual(Object.keys(exported).sort(), [
            "chartVersion", "codeLocationImages", "namespace", "portForwardCommand", "releaseName", "stackInstance",
            "webserverService"]);
        assert.strictEqual(await promiseOf(exported.portForwardCommand as any),
            "kubectl -n imqcam-dagster port-forward svc/dagster-dagster-webserver 9000:80");
    });

    it("lets the takeover's `pulumi up` adopt the namespace, but not over the old release", async () => {
        process.env.FAKE_CLUSTER = "manual";
        process.env[TAKE_OVER_ENV] = "1";
        try {
            const run = await runIndex();
            assert.ok(run.error instanceof ClusterOwnershipError);
            assert.deepStrictEqual(run.error.problems.map((p) => p.key), ["Helm release dagster"]);
        } finally {
            delete process.env[TAKE_OVER_ENV];
        }
    });
});
