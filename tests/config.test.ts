// Bad configuration fails before any resource is registered, naming the key, what is wrong
// and the command that fixes it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "shell-quote";
import { ConfigError, parseSettings, plainTextSecrets, projectSettingsIn } from "../src/settings/load";
import { stackConfig, REPO_ROOT } from "../scripts/stackConfig";
import { BAD_INPUTS, withSecrets } from "./configCases";
import { runProgram } from "./harness/mockProgram";
import { codeLocationLockedFor, DAGSTER, KDE04_SECRETS } from "./fixtures";
import { assertPasteable, whyNotPasteable } from "./pasteable";
import { asInReadme, readmeRejectedInputs } from "./readmeRejected";

describe("configuration validation", () => {
    const readme = readmeRejectedInputs();
    for (const bad of BAD_INPUTS) {
        it(`rejects ${bad.what}`, async () => {
            const run = await runProgram({ overrides: withSecrets(bad.overrides) });
            assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
            assert.strictEqual(run.resources.length, 0, "no resource may be registered");
            const problem = run.error.problems.find((p) => p.key === bad.key);
            assert.ok(problem, `no problem names ${bad.key}: ${run.error.message}`);
            assert.ok(problem.problem.includes(bad.says), `"${problem.problem}" should say "${bad.says}"`);
            assert.match(problem.fix, bad.fix ?? /^pulumi config (set|rm)/);
            assert.ok(run.error.message.includes(bad.key) && run.error.message.includes(problem.fix));
            for (const p of run.error.problems) assertPasteable(p.fix, p.key);
            assert.deepStrictEqual(readme.get(bad.what), { key: problem.key, message: asInReadme(problem.problem),
                fix: asInReadme(problem.fix) }, `README's row "${bad.what}" differs from what the program prints`);
        });
    }

    it("lists in README's table every rejected input it tests, and no other without naming its test", () => {
        for (const input of readme.keys()) {
            if (!BAD_INPUTS.some((bad) => bad.what === input)) assert.match(input, / \(`tests\/[\w.]+\.test\.ts`\)$/, input);
        }
        assert.ok(readme.size >= BAD_INPUTS.length);
    });

    it("tells a fix a shell runs as pasted from one it does not", () => {
        for (const fix of ["pulumi config set --path 'ioVolume.nfs.server'", "pulumi config set --path 'backups.schedule' '30 2 * * *'",
            "pulumi config rm envSecrets && pulumi config set --secret --path 'envSecrets.a.B'", "npm run lock"]) {
            assert.deepStrictEqual(whyNotPasteable(fix), [], fix);
        }
        // What the program printed before: a redirection, a subshell, a glob, prose, a quoted placeholder.
        for (const fix of ["pulumi config set --path 'registry.username' <user>",
            "pulumi config set nodeHostname kde04  (or --path 'nodeHostname[0]' for a list)",
            "pulumi config set --path backups.schedule 30 2 * * *", "pulumi config set --path ... with each node once",
            "find out whose data it is; back it up", "pulumi config set --path 'images.busybox' 'busybox:1.36@sha256:<digest>'"]) {
            assert.notDeepStrictEqual(whyNotPasteable(fix), [], fix);
        }
    });

    it("accepts a code location whose lock is for dagsterVersion, and one without a lock", async () => {
        const location = codeLocationLockedFor("1.13.30");
        const locked = await runProgram({ overrides: withSecrets({ ...location, dagsterVersion: { value: "1.13.30" } }) });
        assert.strictEqual(locked.error, undefined);
        fs.rmSync(path.join(REPO_ROOT, ".cache/test-code-locations/imqcam/requirements.lock"));
        const unlocked = await runProgram({ overrides: withSecrets({ ...location, dagsterVersion: { value: "1.13.31" } }) });
        assert.strictEqual(unlocked.error, undefined);
    });

    it("rejects a lock that pins no dagster", async () => {
        const run = await runProgram({ overrides: withSecrets(codeLocationLockedFor(null)) });
        assert.ok(run.error instanceof ConfigError);
        const problem = run.error.problems.find((p) => p.key === "dagsterVersion");
        assert.ok(problem?.problem.includes("installs no exact dagster"), run.error.message);
        assert.strictEqual(problem!.fix, "npm run lock");
    });

    it("refuses a Dagster version a stack file sets: the version is the project's, in Pulumi.yaml", async () => {
        // As `pulumi config set dagsterVersion 1.13.28` leaves it: the CLI hands the program the
        // stack's value in place of Pulumi.yaml's, so only the file shows who set it.
        const stackFile = path.join(REPO_ROOT, "Pulumi.version-test.yaml");
        fs.writeFileSync(stackFile, "config:\n  imqcam-dagster:ioVolume:\n    hostPath: {path: /data/io}\n" +
            `  imqcam-dagster:dagsterVersion: ${DAGSTER}\n`);  // even the project's own
        try {
            const run = await runProgram({ stack: "version-test" });
            assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
            assert.strictEqual(run.resources.length, 0);
            const [problem] = run.error.problems;
            assert.deepStrictEqual(run.error.problems.map((p) => p.key), ["dagsterVersion"]);
            assert.ok(problem.problem.startsWith("is set in the stack file, but it is the project's"), problem.problem);
            assert.deepStrictEqual(parse(problem.fix), ["pulumi", "config", "rm", "dagsterVersion"]);
        } finally {
            fs.rmSync(stackFile);
        }
        assert.deepStrictEqual(projectSettingsIn("config:\n  imqcam-dagster:namespace: x\n"), []);
    });

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

    it("finds secret values written in clear text in a stack file", () => {
        const stackFile = [
            "config:",
            "  imqcam-dagster:registryPassword:",
            "    secure: v1:abc",
            "  imqcam-dagster:envSecrets:",
            "    girder-connection-info:",
            "      GIRDER_API_KEY:",
            "        secure: v1:def",
            "      GIRDER_API_URL: https://girder.example/api",
            "  imqcam-dagster:namespace: imqcam-dagster",
        ].join("\n");
        assert.deepStrictEqual(plainTextSecrets(stackFile), ["envSecrets.girder-connection-info.GIRDER_API_URL"]);
        assert.deepStrictEqual(plainTextSecrets("config:\n  imqcam-dagster:registryPassword: hunter2\n"), ["registryPassword"]);
        assert.deepStrictEqual(plainTextSecrets("config: {}\n"), []);
    });

    it("reads a real stack file and refuses the clear-text secret value in it, before any resource", async () => {
        // As `pulumi config set --path 'envSecrets.x.K' v` without --secret leaves it beside an
        // encrypted value: the CLI calls the whole key secret, only the file shows the clear text.
        const stackFile = path.join(REPO_ROOT, "Pulumi.cleartext-test.yaml");
        fs.writeFileSync(stackFile, [
            "config:",
            "  imqcam-dagster:ioVolume:",
            "    hostPath: {path: /data/io}",
            "  imqcam-dagster:envSecrets:",
            "    girder-connection-info:",
            "      GIRDER_API_KEY:",
            "        secure: v1:AAAA",
            "      GIRDER_API_URL: https://girder.example/api/v1",
        ].join("\n"));
        try {
            const run = await runProgram({ stack: "cleartext-test", overrides: { envSecrets: { secret: true, value: {
                "girder-connection-info": { GIRDER_API_KEY: "k", GIRDER_API_URL: "https://girder.example/api/v1" } } } } });
            assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
            assert.strictEqual(run.resources.length, 0);
            assert.deepStrictEqual(run.error.problems.map((p) => p.key), ["envSecrets.girder-connection-info.GIRDER_API_URL"]);
        } finally {
            fs.rmSync(stackFile);
        }
    });

    it("rejects a secret value written in clear text in the stack file, though the CLI marks the key secret", () => {
        const { config, secretKeys } = stackConfig("kde04", KDE04_SECRETS);
        const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace("imqcam-dagster:", ""), v]));
        const parse = (plain: string[]) => parseSettings(raw, (k) => secretKeys.includes(`imqcam-dagster:${k}`), REPO_ROOT, plain);
        assert.doesNotThrow(() => parse([]));
        assert.throws(() => parse(["envSecrets.girder-connection-info.GIRDER_API_URL"]), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.deepStrictEqual(e.problems.map((p) => [p.key, p.fix]), [["envSecrets.girder-connection-info.GIRDER_API_URL",
                "pulumi config set --secret --path 'envSecrets.girder-connection-info.GIRDER_API_URL'"]]);
            return true;
        });
    });

    it("accepts the kde04 stack with its secrets", async () => {
        const run = await runProgram({ overrides: KDE04_SECRETS });
        assert.strictEqual(run.error, undefined);
        assert.ok(run.resources.length > 0);
    });
});
