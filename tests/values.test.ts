// The values builder and placement helpers, called directly: no mocks.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { dagsterK8sJobConfig, podPlacement } from "../src/components/parts/placement";
import { hardenedJobConfig, USER_CODE_USER } from "../src/components/parts/podSecurity";
import { DEFAULT_IMAGES } from "../src/components/parts/images";
import { buildReleaseValues, ReleaseValuesArgs } from "../src/chart/values";

const args = (patch: Partial<ReleaseValuesArgs> = {}): ReleaseValuesArgs => ({
    dagsterVersion: "1.13.27",
    nodeHostnames: [],
    finishedJobTtlSeconds: 3600,
    celeryWorkerReplicas: 2,
    stepsPerCeleryWorker: 2,
    maxConcurrentRuns: 4,
    runPodResources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
    stepPodResources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    ioVolume: { claimName: "io-claim", mountPath: "/data/io", writer: USER_CODE_USER },
    codeLocations: [{ name: "loc-a", module: "pkg_a", attribute: "defs", port: 4000,
        repository: "registry.example/a", digest: `sha256:${"a".repeat(64)}` }],
    envSecretNames: ["creds-1234"],
    envSecretsVersion: "uid-1",
    imagePullSecretNames: [],
    postgresql: { secretName: "pg-secret", host: "pg-service" },
    celeryConfigSecretName: "celery-secret",
    images: DEFAULT_IMAGES,
    passwordRotation: {},
    ...patch,
});

/** Every object in the tree that carries a pod scheduling key, with its path. */
function schedulingKeys(tree: unknown, at = ""): string[] {
    if (tree === null || typeof tree !== "object") return [];
    return Object.entries(tree).flatMap(([k, v]) =>
        ["nodeSelector", "affinity", "node_selector", "pod_spec_config"].includes(k) ? [`${at}.${k}`] : schedulingKeys(v, `${at}.${k}`));
}

describe("placement", () => {
    it("pins one node with a selector, several with a required node affinity, none with nothing", () => {
        assert.deepStrictEqual(podPlacement([]), {});
        assert.deepStrictEqual(podPlacement(["n1"]), { nodeSelector: { "kubernetes.io/hostname": "n1" } });
        assert.deepStrictEqual(podPlacement(["n1", "n2"]), { affinity: { nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
                { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1", "n2"] }] }] } } } });
    });

    it("produces exactly the Job configs the code location's tests parse with dagster_k8s", () => {
        const file = path.join(__dirname, "../code-locations/imqcam/tests/k8s_job_config_examples.json");
        const examples = JSON.parse(fs.readFileSync(file, "utf8"));
        const cases = Object.entries(examples).filter(([name]) => !name.startsWith("_"));
        assert.strictEqual(cases.length, 4);
        for (const [name, e] of cases as [string, any][]) {
            assert.deepStrictEqual(dagsterK8sJobConfig(e.nodes, e.finishedJobTtlSeconds, e.resources), e.config, name);
        }
    });

    it("gives Dagster's Jobs the same placement in snake_case, and the TTL", () => {
        assert.deepStrictEqual(dagsterK8sJobConfig([], 900), { job_spec_config: { ttl_seconds_after_finished: 900 } });
        assert.deepStrictEqual(dagsterK8sJobConfig(["n1"], 900), {
            pod_spec_config: { node_selector: { "kubernetes.io/hostname": "n1" } },
            job_spec_config: { ttl_seconds_after_finished: 900 },
        });
        assert.deepStrictEqual((dagsterK8sJobConfig(["n1", "n2"], 900) as any).pod_spec_config.affinity.node_affinity
            .required_during_scheduling_ignored_during_execution.node_selector_terms[0].match_expressions,
        [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1", "n2"] }]);
    });
});

describe("buildReleaseValues", () => {
    it("uses the CeleryK8sRunLauncher with the dagster queue and the configured worker count", () => {
        const v = buildReleaseValues(args({ celeryWorkerReplicas: 3 })) as any;
        assert.strictEqual(v.runLauncher.type, "CeleryK8sRunLauncher");
        assert.deepStrictEqual(v.runLauncher.config.celeryK8sRunLauncher.workerQueues,
            [{ name: "dagster", replicaCount: 3, labels: { component: "celery" } }]);
        // The broker runs outside the chart; the chart's own would need its password in values.
        assert.deepStrictEqual(v.rabbitmq, { enabled: false });
        assert.deepStrictEqual(v.telemetry, { enabled: false });
    });

    it("runs one Dagster version everywhere: webserver, daemon and Celery workers", () => {
        const v = buildReleaseValues(args({ dagsterVersion: "1.13.30" })) as any;
        for (const image of [v.dagsterWebserver.image, v.dagsterDaemon.image, v.runLauncher.config.celeryK8sRunLauncher.image]) {
            assert.deepStrictEqual(image, { repository: "docker.io/dagster/dagster-celery-k8s", tag: "1.13.30", pullPolicy: "IfNotPresent" });
        }
    });

    it("pins the user-code image by digest and runs the configured module", () => {
        const d = (buildReleaseValues(args()) as any)["dagster-user-deployments"].deployments[0];
        assert.deepStrictEqual(d.image, { repository: "registry.example/a", digest: `sha256:${"a".repeat(64)}`, pullPolicy: "IfNotPresent" });
        assert.strictEqual(d.image.tag, undefined);
        assert.deepStrictEqual(d.dagsterApiGrpcArgs, ["--module-name", "pkg_a", "--attribute", "defs"]);
        assert.strictEqual(d.port, 4000);
        assert.strictEqual(d.name, "loc-a");
    });

    it("mounts the IO volume and attaches envSecrets on code servers and the run launcher alike", () => {
        const v = buildReleaseValues(args()) as any;
        const d = v["dagster-user-deployments"].deployments[0];
        const launcher = v.runLauncher.config.celeryK8sRunLauncher;
        for (const target of [d, launcher]) {
            assert.deepStrictEqual(target.volumes, [{ name: "io-data", persistentVolumeClaim: { claimName: "io-claim" } }]);
            assert.deepStrictEqual(target.volumeMounts, [{ name: "io-data", mountPath: "/data/io" }]);
            assert.deepStrictEqual(target.envSecrets, [{ name: "creds-1234" }]);
        }
    });

    it("lets launched runs carry each code location's config, so run pods get its env and volumes", () => {
        const v = buildReleaseValues(args()) as any;
        for (const d of v["dagster-user-deployments"].deployments) assert.deepStrictEqual(d.includeConfigInLaunchedRuns, { enabled: true });
    });

    it("names credentials Secrets instead of carrying passwords", () => {
        const v = buildReleaseValues(args()) as any;
        assert.strictEqual(v.generatePostgresqlPasswordSecret, false);
        assert.strictEqual(v.generateCeleryConfigSecret, false);
        assert.deepStrictEqual(v.global, { postgresqlSecretName: "pg-secret", celeryConfigSecretName: "celery-secret" });
        assert.ok(!("postgresqlPassword" in v.postgresql), "no password in the values, not even an empty one");
    });

    it("points every pod's storage at the program's own PostgreSQL, with the chart's subchart off", () => {
        const v = buildReleaseValues(args()) as any;
        assert.strictEqual(v.postgresql.enabled, false);
        assert.strictEqual(v.postgresql.postgresqlHost, "pg-service");
        assert.strictEqual(v.postgresql.service.port, 5432);
        assert.strictEqual(v.postgresql.postgresqlUsername, "dagster");
        assert.strictEqual(v.postgresql.postgresqlDatabase, "dagster");
    });

    it("names the psycopg2 driver for every pod's storage, which is all dagster-postgres installs", () => {
        // Rendered as `scheme:` under `postgres_db`; the code location's tests open a real
        // PostgreSQL with these values and fail without it.
        const v = buildReleaseValues(args()) as any;
        assert.strictEqual(v.postgresql.postgresqlScheme, "postgresql+psycopg2");
    });

    it("pins every image to an explicit tag or digest, none of them latest or a withdrawn Bitnami image", () => {
        const images: any[] = [];
        const walk = (t: any) => {
            if (t && typeof t === "object") {
                if (t.image && typeof t.image === "object") images.push(t.image);
                Object.values(t).forEach(walk);
            }
        };
        walk(buildReleaseValues(args()));
        // busybox, webserver, daemon, user code, Celery workers, PostgreSQL (its `pg_isready` checks).
        assert.strictEqual(images.length, 6, `found ${images.length} images`);
        for (const image of images) {
            assert.ok(image.digest || (image.tag && image.tag !== "latest"), JSON.stringify(image));
            assert.ok(!String(image.repository).startsWith("bitnami/"), `withdrawn image ${image.repository}`);
            assert.ok(image.pullPolicy, "the chart's schema requires pullPolicy");
        }
    });

    it("pins nothing when no node is configured", () => {
        assert.deepStrictEqual(schedulingKeys(buildReleaseValues(args())), []);
        const env = (buildReleaseValues(args()) as any).runLauncher.config.celeryK8sRunLauncher.env;
        assert.deepStrictEqual(JSON.parse(env.IMQCAM_K8S_JOB_CONFIG), hardenedJobConfig({
            container_config: { resources: args().runPodResources }, job_spec_config: { ttl_seconds_after_finished: 3600 } }, true, USER_CODE_USER));
        assert.strictEqual(JSON.parse(env.IMQCAM_K8S_JOB_CONFIG).pod_spec_config.node_selector, undefined);
    });

    it("pins every component and every Job to several nodes with node affinity", () => {
        const v = buildReleaseValues(args({ nodeHostnames: ["n1", "n2"] })) as any;
        const expected = podPlacement(["n1", "n2"]).affinity;
        for (const target of [v.dagsterWebserver, v.dagsterDaemon, v["dagster-user-deployments"].deployments[0],
            v.runLauncher.config.celeryK8sRunLauncher]) {
            assert.deepStrictEqual(target.affinity, expected);
            assert.strictEqual(target.nodeSelector, undefined);
        }
        const jobConfig = JSON.parse(v.runLauncher.config.celeryK8sRunLauncher.env.IMQCAM_K8S_JOB_CONFIG);
        assert.deepStrictEqual(jobConfig, hardenedJobConfig(dagsterK8sJobConfig(["n1", "n2"], 3600, args().runPodResources), true, USER_CODE_USER));
    });

    it("gives each code location its own deployment", () => {
        const second = { name: "loc-b", module: "pkg_b", attribute: "defs", port: 4001,
            repository: "registry.example/b", digest: `sha256:${"b".repeat(64)}` };
        const deployments = (buildReleaseValues(args({ codeLocations: [args().codeLocations[0], second] })) as any)
            ["dagster-user-deployments"].deployments;
        assert.deepStrictEqual(deployments.map((d: any) => [d.name, d.port, d.image.digest]),
            [["loc-a", 4000, `sha256:${"a".repeat(64)}`], ["loc-b", 4001, `sha256:${"b".repeat(64)}`]]);
    });

    it("adds image pull Secrets for code servers and Jobs when given", () => {
        const v = buildReleaseValues(args({ imagePullSecretNames: ["pull-1"] })) as any;
        assert.deepStrictEqual(v.imagePullSecrets, [{ name: "pull-1" }]);
        assert.deepStrictEqual(v["dagster-user-deployments"].imagePullSecrets, [{ name: "pull-1" }]);
    });

    it("is a pure function: same inputs, same values", () => {
        assert.deepStrictEqual(buildReleaseValues(args()), buildReleaseValues(args()));
    });
});
