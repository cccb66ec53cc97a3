// Celery workers restarted by a change finish the steps they watch first: the grace period the
// program gives the chart's worker Deployment. tests/broker shows the warm shutdown itself with a
// real broker and worker; tests/cluster shows the patch surviving Helm upgrades on a real API server.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    CELERY_WORKER_CONTAINER, CELERY_WORKER_GRACE_SECONDS, CELERY_WORKER_PRE_STOP, FIELD_MANAGER, STEP_JOB_WAIT_SECONDS,
} from "../src/components/celeryWorkerShutdown";
import { one, ofType, runProgram, unwrap } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { KDE04_SECRETS } from "./fixtures";

const PATCH = "kubernetes:apps/v1:DeploymentPatch";

describe("Celery worker shutdown", () => {
    it("patches the chart's one worker Deployment with a grace period longer than a step may be watched, and a hook that starts the shutdown", async () => {
        const run = await runProgram({ overrides: KDE04_SECRETS });
        const [patch] = ofType(run, PATCH);
        assert.strictEqual(ofType(run, PATCH).length, 1);
        const inputs = unwrap(patch.inputs) as any;
        assert.deepStrictEqual(inputs.metadata, { name: "dagster-celery-workers-dagster", namespace: "imqcam-dagster",
            annotations: { "pulumi.com/patchFieldManager": FIELD_MANAGER, "pulumi.com/patchForce": "true" } });
        assert.deepStrictEqual(inputs.spec, { template: { spec: {
            terminationGracePeriodSeconds: CELERY_WORKER_GRACE_SECONDS,
            containers: [{ name: CELERY_WORKER_CONTAINER, lifecycle: { preStop: { exec: { command: CELERY_WORKER_PRE_STOP } } } }],
        } } });
        assert.ok(CELERY_WORKER_GRACE_SECONDS > STEP_JOB_WAIT_SECONDS);
        // After the release: the Deployment must exist to be patched.
        const release = one(run, "kubernetes:helm.sh/v3:Release");
        assert.ok(patch.dependencies.includes(release.urn), `depends on the release: ${patch.dependencies}`);
    });

    it("covers the longest watch: the code location's jobs keep the executor's default job_wait_timeout", () => {
        // dagster_k8s.client.DEFAULT_WAIT_TIMEOUT is one day; a job that set job_wait_timeout
        // higher would outlast the grace period.
        const jobs = fs.readFileSync(path.join(REPO_ROOT, "code-locations/imqcam/imqcam/jobs.py"), "utf8");
        assert.ok(!jobs.includes("job_wait_timeout"), "a job sets job_wait_timeout: raise CELERY_WORKER_GRACE_SECONDS with it");
        assert.strictEqual(STEP_JOB_WAIT_SECONDS, 86400);
    });
});
