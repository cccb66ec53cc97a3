// Every run's and step's stdout/stderr, kept on the IO volume and readable in the webserver.
import * as assert from "assert";
import { one, releaseValuesOf, Run, runProgram, T, unwrap } from "./harness/mockProgram";
import { KDE04_SECRETS } from "./fixtures";

const kde04 = (overrides = {}) => runProgram({ overrides: { ...KDE04_SECRETS, ...overrides } });
const MOUNT = "/tmp/imqcam_filesystem_io_data";
const IO_MOUNT = [{ name: "io-data", mountPath: MOUNT }];
const IO_VOLUME = [{ name: "io-data", persistentVolumeClaim: { claimName: "imqcam-dagster-io-data" } }];

describe("compute logs", () => {
    let run: Run;
    before(async () => {
        run = await kde04();
        if (run.error) throw run.error;
    });

    it("are written by Dagster's file compute log manager into the IO volume's own folder", () => {
        const v = releaseValuesOf(run) as any;
        assert.deepStrictEqual(v.computeLogManager, {
            type: "CustomComputeLogManager",
            config: { customComputeLogManager: {
                module: "dagster._core.storage.local_compute_log_manager", class: "LocalComputeLogManager",
                config: { base_dir: `${MOUNT}/compute-logs` },
            } },
        });
    });

    it("are on the same volume, at the same path, for the pods that write and the webserver that reads", () => {
        const v = releaseValuesOf(run) as any;
        const launcher = v.runLauncher.config.celeryK8sRunLauncher; // run and step pods, and Celery workers
        for (const pods of [v.dagsterWebserver, v.dagsterDaemon, launcher, v["dagster-user-deployments"].deployments[0]]) {
            assert.deepStrictEqual(pods.volumeMounts, IO_MOUNT);
            assert.deepStrictEqual(pods.volumes, IO_VOLUME);
        }
    });

    it("older than computeLogRetentionDays are deleted once a day, on the pinned node", async () => {
        const cronJob = unwrap(one(run, T.cronJob, "compute-log-pruning").inputs) as any;
        const pod = cronJob.spec.jobTemplate.spec.template.spec;
        const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
        assert.deepStrictEqual(env, { LOG_ROOT: MOUNT, LOG_DIR: `${MOUNT}/compute-logs`, KEEP_DAYS: "30" });
        assert.deepStrictEqual(pod.containers[0].volumeMounts, IO_MOUNT);
        assert.deepStrictEqual(pod.volumes, IO_VOLUME);
        assert.match(pod.containers[0].image, /^docker\.io\/library\/busybox:\d+\.\d+\.\d+$/);
        assert.deepStrictEqual(pod.nodeSelector, { "kubernetes.io/hostname": "kde04.idies.jhu.edu" });

        const longer = await kde04({ computeLogRetentionDays: { value: "90" } });
        const other = unwrap(one(longer, T.cronJob, "compute-log-pruning").inputs) as any;
        assert.strictEqual(other.spec.jobTemplate.spec.template.spec.containers[0].env
            .find((e: any) => e.name === "KEEP_DAYS").value, "90");
    });
});

describe("run and step Jobs", () => {
    it("pull their pinned image only when the node does not have it", async () => {
        const run = await kde04();
        const v = releaseValuesOf(run) as any;
        assert.strictEqual(v.runLauncher.config.celeryK8sRunLauncher.imagePullPolicy, "IfNotPresent");
    });
});
