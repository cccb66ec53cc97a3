// README's table "What a change restarts", row by row: each change made to the kde04 stack under
// mocks, the Release values before and after, and the chart's Deployments those values restart
// or only scale (tests/chartRollouts.ts, the chart's roll triggers).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Override } from "../scripts/stackConfig";
import { releaseValuesOf, runProgram } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { rollouts } from "./chartRollouts";
import { codeLocationLockedFor, KDE04_SECRETS, ROTATED_ENV_SECRETS, DAGSTER, NEXT_DAGSTER } from "./fixtures";

const digest = (c: string) => `sha256:${c.repeat(64)}`;

interface Change {
    /** The first column of README's row. */
    change: string;
    before: { overrides?: Record<string, Override>; digests?: Record<string, string>; lock?: string };
    after: { overrides?: Record<string, Override>; digests?: Record<string, string>; lock?: string };
}

const CHANGES: Change[] = [
    { change: "a new image digest (a code change)",
        before: { digests: { "imqcam-example-1": digest("1") } }, after: { digests: { "imqcam-example-1": digest("2") } } },
    { change: "a rotated `envSecrets` value",
        before: {}, after: { overrides: { envSecrets: { value: ROTATED_ENV_SECRETS, secret: true } } } },
    { change: "more Celery workers (`celeryWorkerReplicas`)",
        before: {}, after: { overrides: { celeryWorkerReplicas: { value: "3" } } } },
    { change: "a run or step pod limit (`runPodResources`, `stepPodResources`)",
        before: {}, after: { overrides: { stepPodResources: { value: {
            requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "8Gi" } } } } } },
    { change: "more steps per worker (`stepsPerCeleryWorker`)",
        before: {}, after: { overrides: { stepsPerCeleryWorker: { value: "3" } } } },
    { change: "more runs at once (`maxConcurrentRuns`)",
        before: {}, after: { overrides: { maxConcurrentRuns: { value: "8" } } } },
    { change: "a rotated PostgreSQL password (`passwordRotation.postgresql`)",
        before: {}, after: { overrides: { passwordRotation: { value: { postgresql: "2026-12-02" } } } } },
    { change: "a rotated RabbitMQ password (`passwordRotation.rabbitmq`)",
        before: {}, after: { overrides: { passwordRotation: { value: { rabbitmq: "2026-12-02" } } } } },
    { change: "a new Dagster version (`dagsterVersion`)",
        before: { lock: DAGSTER }, after: { lock: NEXT_DAGSTER, overrides: { dagsterVersion: { value: NEXT_DAGSTER } } } },
];

async function valuesFor(side: Change["before"]): Promise<Record<string, any>> {
    const location = side.lock ? codeLocationLockedFor(side.lock) : {};
    const run = await runProgram({ overrides: { ...KDE04_SECRETS, ...location, ...side.overrides }, digests: side.digests });
    if (run.error) throw run.error;
    return releaseValuesOf(run);
}

/** README's table: first column -> [restarts, scaled], each a sorted list of Deployment names. */
function readmeTable(): Map<string, [string[], string[]]> {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.split("### What a change restarts")[1]?.split("\n### ")[0];
    assert.ok(section, "README has a section \"What a change restarts\"");
    const names = (cell: string) => (cell.trim() === "nothing" ? [] : cell.split(",").map((n) => n.trim().replace(/`/g, "")).sort());
    const rows = new Map<string, [string[], string[]]>();
    for (const line of section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| change"))) {
        const [change, restarts, scaled] = line.split(" | ").map((c) => c.replace(/^\| /, ""));
        rows.set(change.trim(), [names(restarts), names(scaled)]);
    }
    return rows;
}

describe("what a change restarts (README's table)", () => {
    const table = readmeTable();

    it("has a row for each change and no other", () => {
        assert.deepStrictEqual([...table.keys()].sort(), CHANGES.map((c) => c.change).sort());
    });

    for (const c of CHANGES) {
        it(`restarts and scales what README says for ${c.change}`, async () => {
            const moved = rollouts(await valuesFor(c.before), await valuesFor(c.after));
            assert.deepStrictEqual([moved.restarted, moved.scaled], table.get(c.change));
        });
    }
});
