// Bad configuration fails before any resource is registered, naming the key, what is wrong
// and the command that fixes it.
import * as assert from "assert";
import { ConfigError } from "../config";
import { BAD_INPUTS, withSecrets } from "./configCases";
import { runProgram } from "../scripts/mockProgram";
import { KDE04_SECRETS } from "./fixtures";

describe("configuration validation", () => {
    for (const bad of BAD_INPUTS) {
        it(`rejects ${bad.what}`, async () => {
            const run = await runProgram({ overrides: withSecrets(bad.overrides) });
            assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
            assert.strictEqual(run.resources.length, 0, "no resource may be registered");
            const problem = run.error.problems.find((p) => p.key === bad.key);
            assert.ok(problem, `no problem names ${bad.key}: ${run.error.message}`);
            assert.ok(problem.problem.includes(bad.says), `"${problem.problem}" should say "${bad.says}"`);
            assert.match(problem.fix, /^pulumi config (set|rm)/);
            assert.ok(run.error.message.includes(bad.key) && run.error.message.includes(problem.fix));
        });
    }

    it("reports every problem at once", async () => {
        const run = await runProgram({ overrides: withSecrets({
            namespace: { value: "Bad_Namespace" }, finishedJobTtlSeconds: { value: "10" },
        }) });
        assert.ok(run.error instanceof ConfigError);
        assert.deepStrictEqual(run.error.problems.map((p) => p.key).sort(), ["finishedJobTtlSeconds", "namespace"]);
    });

    it("never prints a secret value in an error", async () => {
        const run = await runProgram({ overrides: withSecrets({
            envSecrets: { secret: false, value: { "girder-connection-info": { GIRDER_API_KEY: "s3cr3t-value-8842" } } },
        }) });
        assert.ok(run.error instanceof ConfigError);
        assert.ok(!run.error.message.includes("s3cr3t-value-8842"));
    });

    it("accepts the kde04 stack with its secrets", async () => {
        const run = await runProgram({ overrides: KDE04_SECRETS });
        assert.strictEqual(run.error, undefined);
        assert.ok(run.resources.length > 0);
    });
});
