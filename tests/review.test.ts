// Review before apply: the preview workflow and `npm run values`.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { execFileSync } from "child_process";
import { releaseValuesOf, REPO_ROOT, runProgram } from "../scripts/mockProgram";
import { ENCRYPTED_PLACEHOLDER } from "../scripts/stackConfig";

describe("the preview workflow", () => {
    const workflow = yaml.load(fs.readFileSync(path.join(REPO_ROOT, ".github/workflows/preview.yml"), "utf8")) as any;

    it("runs on pull requests and on pushes to main", () => {
        assert.deepStrictEqual(workflow.on.pull_request.branches, ["main"]);
        assert.deepStrictEqual(workflow.on.push.branches, ["main"]);
        assert.strictEqual(workflow.permissions["pull-requests"], "write", "needed to comment the diff");
    });

    it("previews the kde04 stack on pull requests and comments the diff", () => {
        const job = workflow.jobs.preview;
        assert.strictEqual(job.if, "github.event_name == 'pull_request'");
        const step = job.steps.find((s: any) => String(s.uses ?? "").startsWith("pulumi/actions@"));
        assert.ok(step, "uses pulumi/actions");
        assert.strictEqual(step.with.command, "preview");
        assert.match(step.with["stack-name"], /kde04/);
        assert.strictEqual(step.with["comment-on-pr"], true);
        assert.strictEqual(step.with["github-token"], "${{ secrets.GITHUB_TOKEN }}");
        assert.strictEqual(step.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
        const kubeconfig = job.steps.find((s: any) => s.env?.KUBECONFIG_CONTENT);
        assert.strictEqual(kubeconfig.env.KUBECONFIG_CONTENT, "${{ secrets.KUBECONFIG }}");
        assert.ok(job.steps.indexOf(kubeconfig) < job.steps.indexOf(step), "kubeconfig before preview");
    });

    it("runs README's test command on pushes to main", () => {
        const job = workflow.jobs.test;
        assert.strictEqual(job.if, "github.event_name == 'push'");
        assert.ok(job.steps.some((s: any) => s.run === "npm ci && npm test"));
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        assert.ok(readme.includes("npm ci && npm test"));
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
