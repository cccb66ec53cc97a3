// Review before apply: the GitHub workflow (checked by actionlint, rhysd/actionlint from the Go
// module proxy, and read for which job each event runs: the tests on pull requests and on main,
// the preview on pull requests, the drift check on its schedule and on demand) and `npm run values`.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { execFileSync, spawnSync } from "child_process";
import * as os from "os";
import { releaseValuesOf, REPO_ROOT, runProgram } from "./harness/mockProgram";
import { ENCRYPTED_PLACEHOLDER } from "../scripts/stackConfig";

const ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12";
const WORKFLOW = path.join(REPO_ROOT, ".github", "workflows", "preview.yml");

interface Step { uses?: string; run?: string; with?: Record<string, unknown> }
interface Job { if?: string; steps: Step[] }
const workflow = () => yaml.load(fs.readFileSync(WORKFLOW, "utf8")) as
    { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };

/** actionlint's findings for the repository's .github folder, or for a copy with one file changed. */
function actionlint(change?: (text: string) => string): string {
    let dir = REPO_ROOT;
    if (change) {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
        fs.cpSync(path.join(REPO_ROOT, ".github"), path.join(dir, ".github"), { recursive: true });
        fs.writeFileSync(path.join(dir, ".github", "workflows", "preview.yml"), change(fs.readFileSync(WORKFLOW, "utf8")));
        execFileSync("git", ["init", "-q"], { cwd: dir }); // actionlint finds the project by its .git
    }
    const done = spawnSync("go", ["run", ACTIONLINT], { cwd: dir, encoding: "utf8" });
    if (change) fs.rmSync(dir, { recursive: true, force: true });
    return `${done.stdout}${done.stderr}`.trim() + (done.status === 0 ? "" : `\n(exit ${done.status})`);
}

/** The jobs an event runs: their `if` compares github.event_name with the event. */
function jobsOn(event: string): string[] {
    return Object.entries(workflow().jobs).filter(([, job]) => {
        const names = [...(job.if ?? "").matchAll(/github\.event_name == '([a-z_]+)'/g)].map((m) => m[1]);
        assert.ok(job.if === undefined || names.length > 0, `an \`if\` this test cannot read: ${job.if}`);
        return job.if === undefined || names.includes(event);
    }).map(([name]) => name).sort();
}

const pulumiStep = (job: string) => workflow().jobs[job].steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;

describe("the GitHub workflow", function () {
    this.timeout(600000); // the first `go run` fetches and builds actionlint

    it("passes actionlint, which finds a mistake when there is one", () => {
        assert.strictEqual(actionlint(), "");
        const typo = actionlint((t) => t.replace(/kubeconfig: \$\{\{ secrets\.KUBECONFIG \}\}/, "kubeconfg: ${{ secrets.KUBECONFIG }}"));
        assert.match(typo, /kubeconfg/);
    });

    it("runs the tests on pull requests and on main, the preview on pull requests, the drift check on schedule", () => {
        assert.deepStrictEqual(Object.keys(workflow().on).sort(), ["pull_request", "push", "schedule", "workflow_dispatch"]);
        assert.deepStrictEqual(jobsOn("pull_request"), ["preview", "test"]);
        assert.deepStrictEqual(jobsOn("push"), ["test"]);
        assert.deepStrictEqual(jobsOn("schedule"), ["drift"]);
        assert.deepStrictEqual(jobsOn("workflow_dispatch"), ["drift"]);
    });

    it("tests with README's command", () => {
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const command = /\n    (npm ci && npm test)\n/.exec(readme)![1];
        assert.ok(workflow().jobs.test.steps.some((s) => s.run === command), command);
    });

    it("previews the kde04 stack on pull requests, with the cluster's kubeconfig, and comments the diff", () => {
        const job = workflow().jobs.preview;
        const step = pulumiStep("preview");
        assert.strictEqual(step.with!.command, "preview");
        assert.match(String(step.with!["stack-name"]), /kde04/);
        assert.strictEqual(step.with!["comment-on-pr"], true);
        assert.strictEqual(step.with!["github-token"], "${{ secrets.GITHUB_TOKEN }}");
        assert.strictEqual((step as any).env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
        assert.strictEqual(workflow().permissions["pull-requests"], "write", "needed to comment the diff");
        for (const name of ["preview", "drift"]) {
            const steps = workflow().jobs[name].steps;
            const access = steps.findIndex((s) => s.uses === "./.github/actions/stack-access");
            const pulumi = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
            assert.ok(access >= 0 && access < pulumi, `${name}: the kubeconfig before pulumi`);
            assert.deepStrictEqual(steps[access].with, { kubeconfig: "${{ secrets.KUBECONFIG }}" });
        }
        const action = yaml.load(fs.readFileSync(path.join(REPO_ROOT, ".github/actions/stack-access/action.yml"), "utf8")) as any;
        const write = action.runs.steps.find((s: any) => s.env?.KUBECONFIG_CONTENT);
        assert.strictEqual(write.env.KUBECONFIG_CONTENT, "${{ inputs.kubeconfig }}");
        assert.match(write.run, /chmod 600 ~\/\.kube\/config/);
        assert.strictEqual(job.if, "github.event_name == 'pull_request'");
    });

    it("checks drift with a refreshed preview of the reviewed stack that fails on any change", () => {
        const drift = pulumiStep("drift").with!, preview = pulumiStep("preview").with!;
        assert.strictEqual(drift.command, "preview");
        assert.strictEqual(drift.refresh, true);
        assert.strictEqual(drift["expect-no-changes"], true);
        assert.strictEqual(drift["stack-name"], preview["stack-name"]);
        assert.strictEqual(drift["cloud-url"], preview["cloud-url"]);
        assert.match(String((workflow().on.schedule as Array<{ cron: string }>)[0].cron), /^\d+ \d+ \* \* \*$/);
    });
});

describe("npm run values", () => {
    it("prints exactly the values the program passes to the Release, and nothing else, as README pipes it", async () => {
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const piped = /^ {6}(npm run --silent values -- --stack kde04) \| helm template /m.exec(readme);
        assert.ok(piped, "README pipes the values printout into helm template");
        const command: string = piped[1];
        for (const stack of ["kde04", "local"]) {
            // The very command README gives, through a shell as a user pastes it.
            const printed = execFileSync("sh", ["-c", command.replace("kde04", stack)], { cwd: REPO_ROOT, encoding: "utf8" });
            // As a fresh checkout has it: kde04's registry password not set yet, so a placeholder.
            const run = await runProgram({ stack, overrides: stack === "kde04"
                ? { registryPassword: { value: ENCRYPTED_PLACEHOLDER, secret: true } } : {} });
            assert.deepStrictEqual(yaml.load(printed), releaseValuesOf(run));
        }
    });

    it("refuses to run without a stack", () => {
        assert.throws(() => execFileSync("npx", ["ts-node", "--transpile-only", "scripts/values.ts"],
            { cwd: REPO_ROOT, encoding: "utf8", stdio: "pipe" }), /usage: npm run values -- --stack/);
    });
});
