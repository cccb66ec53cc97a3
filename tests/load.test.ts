// Bounded load on one shared node: a run queue, at most so many step pods, requests and limits for
// every pod, and the database and broker the last to be killed.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { describeBudget, nodeBudget } from "./budget";
import { loadSettings } from "../src/settings/load";
import { one, releaseValuesOf, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { KDE04_SECRETS } from "./fixtures";

const kde04 = (overrides = {}) => runProgram({ overrides: { ...KDE04_SECRETS, ...overrides } });
const hasRequestsAndLimits = (r: any) =>
    r && r.requests?.cpu && r.requests?.memory && r.limits?.cpu && r.limits?.memory;

describe("load on the node", () => {
    let run: Run;
    before(async () => {
        run = await kde04();
        if (run.error) throw run.error;
    });

    it("queues runs beyond maxConcurrentRuns", async () => {
        const coordinator = (releaseValuesOf(run) as any).dagsterDaemon.runCoordinator;
        assert.deepStrictEqual(coordinator, {
            enabled: true, type: "QueuedRunCoordinator", config: { queuedRunCoordinator: { maxConcurrentRuns: 4 } },
        });
        const more = await kde04({ maxConcurrentRuns: { value: "8" } });
        assert.strictEqual((releaseValuesOf(more) as any).dagsterDaemon.runCoordinator.config.queuedRunCoordinator
            .maxConcurrentRuns, 8);
    });

    it("lets each Celery worker watch stepsPerCeleryWorker step Jobs at once", async () => {
        const launcher = (releaseValuesOf(run) as any).runLauncher.config.celeryK8sRunLauncher;
        assert.deepStrictEqual(launcher.configSource, { worker_concurrency: 2 });
        const more = await kde04({ stepsPerCeleryWorker: { value: "3" } });
        assert.deepStrictEqual((releaseValuesOf(more) as any).runLauncher.config.celeryK8sRunLauncher.configSource,
            { worker_concurrency: 3 });
    });

    it("gives every pod of the release requests and limits", () => {
        const v = releaseValuesOf(run) as any;
        for (const [name, pods] of Object.entries({
            webserver: v.dagsterWebserver, daemon: v.dagsterDaemon, "code server": v["dagster-user-deployments"].deployments[0],
            "Celery workers": v.runLauncher.config.celeryK8sRunLauncher,
        })) {
            assert.ok(hasRequestsAndLimits((pods as any).resources), name);
        }
        // Run and step pods: through the Job config each code location applies.
        const env = v.runLauncher.config.celeryK8sRunLauncher.env;
        for (const variable of ["IMQCAM_K8S_JOB_CONFIG", "IMQCAM_K8S_STEP_CONFIG"]) {
            assert.ok(hasRequestsAndLimits(JSON.parse(env[variable]).container_config.resources), variable);
        }
    });

    it("gives every container the program runs requests and limits, and the rest a namespace default", () => {
        for (const r of run.resources.filter((x) => [T.statefulSet, T.job, T.cronJob].includes(x.type))) {
            const spec = unwrap(r.inputs) as any;
            const pod = spec.spec.jobTemplate?.spec.template.spec ?? spec.spec.template.spec;
            for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
                assert.ok(hasRequestsAndLimits(c.resources), `${r.name}/${c.name}`);
            }
        }
        const limitRange = unwrap(one(run, T.limitRange).inputs) as any;
        assert.strictEqual(limitRange.metadata.namespace, "imqcam-dagster");
        const [defaults] = limitRange.spec.limits;
        assert.strictEqual(defaults.type, "Container");
        assert.ok(hasRequestsAndLimits({ requests: defaults.defaultRequest, limits: defaults.default }));
    });

    it("gives the database and the broker Guaranteed QoS, so a step is killed before they are", () => {
        for (const name of ["postgresql", "rabbitmq"]) {
            const [container] = (unwrap(one(run, T.statefulSet, name).inputs) as any).spec.template.spec.containers;
            assert.ok(hasRequestsAndLimits(container.resources), name);
            assert.deepStrictEqual(container.resources.requests, container.resources.limits, name);
        }
    });

    it("takes run and step pod resources from config", async () => {
        const bigger = { requests: { cpu: "1", memory: "8Gi" }, limits: { cpu: "4", memory: "16Gi" } };
        const more = await kde04({ stepPodResources: { value: bigger } });
        const env = (releaseValuesOf(more) as any).runLauncher.config.celeryK8sRunLauncher.env;
        assert.deepStrictEqual(JSON.parse(env.IMQCAM_K8S_STEP_CONFIG).container_config.resources, bigger);
        assert.deepStrictEqual(JSON.parse(env.IMQCAM_K8S_JOB_CONFIG).container_config.resources,
            { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } });
    });

    it("states README's node budget as the program computes it for kde04", async () => {
        let settings: ReturnType<typeof loadSettings> | undefined;
        const evaluated = await runProgram({ overrides: KDE04_SECRETS, program: () => { settings = loadSettings(REPO_ROOT); return undefined; } });
        assert.strictEqual(evaluated.error, undefined);
        const budget = nodeBudget({ ...settings!, codeLocations: settings!.codeLocations.length });
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        assert.ok(readme.includes(`requests ${describeBudget(budget.requests)}`), describeBudget(budget.requests));
        assert.ok(readme.includes(`limits ${describeBudget(budget.limits)}`), describeBudget(budget.limits));
    });
});
