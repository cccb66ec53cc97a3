// The local kind stack: the same program with a host folder, no pinning and a local registry.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { one, ofType, releaseValuesOf as values, Run, runProgram, T, unwrap, REPO_ROOT } from "./harness/mockProgram";
import { KDE04_SECRETS, DAGSTER } from "./fixtures";

/** The shape of a values tree: its key paths, with list items collapsed to []. */
function shape(tree: unknown, at = ""): string[] {
    if (Array.isArray(tree)) return tree.flatMap((x) => shape(x, `${at}[]`));
    if (tree !== null && typeof tree === "object") {
        return Object.entries(tree).flatMap(([k, v]) => [`${at}.${k}`, ...shape(v, `${at}.${k}`)]);
    }
    return [];
}

describe("local stack under mocks", () => {
    let local: Run;
    let kde04: Run;
    before(async () => {
        local = await runProgram({ stack: "local" });
        kde04 = await runProgram({ stack: "kde04", overrides: KDE04_SECRETS });
        if (local.error) throw local.error;
    });

    it("needs no secrets and deploys into namespace dagster", () => {
        assert.strictEqual((one(local, T.namespace).inputs.metadata as any).name, "dagster");
        assert.strictEqual(one(local, T.release).inputs.namespace, "dagster");
        assert.deepStrictEqual(ofType(local, T.secret).map((s) => s.name).sort(), [
            "chart-credentials-celery-config", "chart-credentials-postgresql-credentials", "chart-credentials-rabbitmq-credentials"]);
    });

    it("pins nothing to any node, anywhere", () => {
        const text = JSON.stringify(local.resources.map((r) => unwrap(r.inputs)));
        for (const key of ["nodeSelector", "affinity", "node_selector", "kubernetes.io/hostname"]) {
            assert.ok(!text.includes(key), `found ${key}`);
        }
    });

    it("uses the folder the kind nodes mount as the IO volume", () => {
        const pv = unwrap(one(local, T.pv).inputs) as any;
        assert.deepStrictEqual(pv.spec.hostPath, { path: "/var/local-dagster/io", type: "DirectoryOrCreate" });
        assert.strictEqual(pv.spec.nfs, undefined);
        const cluster = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "kind/cluster.yaml"), "utf8")) as any;
        const workers = cluster.nodes.filter((n: any) => n.role === "worker");
        assert.ok(workers.length >= 1);
        for (const worker of workers) assert.strictEqual(worker.extraMounts[0].containerPath, pv.spec.hostPath.path);
    });

    it("builds into the local registry and runs one Celery worker", () => {
        const image = unwrap(one(local, T.image).inputs) as any;
        assert.strictEqual(image.imageName, `localhost:5001/imqcam-example:dagster-${DAGSTER}`);
        assert.strictEqual(image.registry, undefined, "the local registry needs no login");
        const v = values(local);
        assert.strictEqual(v["dagster-user-deployments"].deployments[0].image.repository, "localhost:5001/imqcam-example");
        assert.strictEqual(v.runLauncher.config.celeryK8sRunLauncher.workerQueues[0].replicaCount, 1);
    });

    it("has the same Release structure as kde04 but for placement and secrets", () => {
        const ignore = /nodeSelector|affinity|envSecrets\[\]|imagePullSecrets\[\]/;
        const localShape = shape(values(local)).filter((p) => !ignore.test(p));
        const kde04Shape = shape(values(kde04)).filter((p) => !ignore.test(p));
        assert.deepStrictEqual(localShape, kde04Shape);
        const strip = (r: Record<string, unknown>) => ({ ...r, values: undefined, namespace: undefined });
        assert.deepStrictEqual(strip(one(local, T.release).inputs), strip(one(kde04, T.release).inputs));
    });
});
