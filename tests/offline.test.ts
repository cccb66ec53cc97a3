// Deploying where Docker or the chart repository cannot be reached: a code location given as
// an image already pushed and pinned by digest, and the Dagster chart from a local file or folder.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../src/settings/load";
import { ofType, one, promiseOf, releaseValuesOf, runProgram, T, unwrap } from "./harness/mockProgram";
import { REPO_ROOT } from "../scripts/stackConfig";
import { withSecrets } from "./configCases";
import { DAGSTER, NEXT_DAGSTER } from "./fixtures";

const PUSHED = `sha256:${"4e".repeat(32)}`;
const pushedLocation = {
    codeLocations: { value: [{ name: "imqcam-example-1", module: "imqcam", attribute: "defs", port: 3030,
        image: `ghcr.io/openmsi/imqcam-code@${PUSHED}` }] },
};

/** A chart with only a Chart.yaml, as a folder and as `helm package` lays out a .tgz, under .cache/. */
function chartFixture(version: string, name = "dagster"): { folder: string; tgz: string } {
    const root = path.join(".cache", "test-charts", `${name}-${version}`);
    const folder = path.join(root, name);
    fs.mkdirSync(path.join(REPO_ROOT, folder, "charts", "postgresql"), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, folder, "Chart.yaml"),
        `apiVersion: v2\nname: ${name}\nversion: ${version}\nkubeVersion: '>= 1.18.0-0'\n`);
    // A subchart's Chart.yaml deeper in the archive must not be taken for the chart's own.
    fs.writeFileSync(path.join(REPO_ROOT, folder, "charts", "postgresql", "Chart.yaml"), "apiVersion: v2\nname: postgresql\nversion: 8.1.0\n");
    const tgz = path.join(root, `${name}-${version}.tgz`);
    execFileSync("tar", ["-czf", path.join(REPO_ROOT, tgz), "-C", path.join(REPO_ROOT, root),
        `${name}/charts/postgresql/Chart.yaml`, `${name}/Chart.yaml`]);
    return { folder, tgz };
}

describe("a code location given as an image already pushed, pinned by digest", () => {
    it("builds and pushes nothing, and runs exactly that image", async () => {
        const run = await runProgram({ overrides: withSecrets(pushedLocation) });
        assert.strictEqual(run.error, undefined);
        assert.deepStrictEqual(ofType(run, T.image), [], "no docker image is built");
        const [deployment] = releaseValuesOf(run)["dagster-user-deployments"].deployments;
        assert.strictEqual(`${deployment.image.repository}@${deployment.image.digest}`, `ghcr.io/openmsi/imqcam-code@${PUSHED}`);
        assert.strictEqual(await promiseOf(run.outputs!.codeLocationImages["imqcam-example-1"]), `ghcr.io/openmsi/imqcam-code@${PUSHED}`);
    });

    it("needs no registry login and is not held to the registry pushed to", async () => {
        const run = await runProgram({ overrides: { ...pushedLocation, registry: { value: { server: "docker.io", private: false } } } });
        assert.strictEqual(run.error, undefined, String(run.error));
    });
});

describe("the Dagster chart from a local chart", () => {
    for (const form of ["folder", "tgz"] as const) {
        it(`installs a chart ${form} of dagsterVersion, without the chart repository`, async () => {
            const chart = chartFixture(DAGSTER)[form];
            const run = await runProgram({ overrides: withSecrets({ dagsterChart: { value: chart } }) });
            assert.strictEqual(run.error, undefined, String(run.error));
            const inputs = unwrap(one(run, T.release).inputs) as Record<string, unknown>;
            assert.strictEqual(inputs.chart, chart);
            assert.strictEqual(inputs.repositoryOpts, undefined);
        });
    }

    it("takes the chart from its repository, at dagsterVersion, when dagsterChart is not set", async () => {
        const inputs = unwrap(one(await runProgram({ overrides: withSecrets({}) }), T.release).inputs) as any;
        assert.deepStrictEqual([inputs.chart, inputs.version, inputs.repositoryOpts],
            ["dagster", DAGSTER, { repo: "https://dagster-io.github.io/helm" }]);
    });

    for (const [what, chart, says] of [
        ["a chart of another version", () => chartFixture(NEXT_DAGSTER).tgz, `is chart version ${NEXT_DAGSTER}, and dagsterVersion is ${DAGSTER}`],
        ["another chart", () => chartFixture(DAGSTER, "rabbitmq").folder, "is the chart \"rabbitmq\", not \"dagster\""],
    ] as const) {
        it(`refuses ${what}, naming dagsterChart, before any resource`, async () => {
            const run = await runProgram({ overrides: withSecrets({ dagsterChart: { value: chart() } }) });
            assert.ok(run.error instanceof ConfigError, String(run.error));
            assert.strictEqual(run.resources.length, 0);
            const problem = run.error.problems.find((p) => p.key === "dagsterChart");
            assert.ok(problem?.problem.includes(says), run.error.message);
            assert.match(problem!.fix, /^pulumi config set/);
        });
    }
});
