// README's "Upgrading Dagster", followed as written on a copy of the repository: its `npm run lock`
// line resolves the image's packages for another Dagster release from PyPI and sets the version in
// Pulumi.yaml, and afterwards both stacks, the lock, what the tests pass to the image and the
// program's tests agree.
import * as assert from "assert";
import { execFileSync, execSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { projectDagsterVersion, withDagsterVersion } from "../scripts/dagsterVersion";
import { REPO_ROOT } from "../scripts/stackConfig";

/** The commands of README's "Upgrading Dagster" block, without their comments. */
function readmeUpgradeCommands(): string[] {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.split("\n### Upgrading Dagster\n")[1].split("\n#")[0];
    return section.split("\n").filter((l) => l.startsWith("    ")).map((l) => l.trim().replace(/\s+#.*$/, ""));
}

/** The repository's tracked files that exist (as committed or edited). */
function tracked(): string[] {
    return execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0")
        .filter((f) => f && fs.existsSync(path.join(REPO_ROOT, f)) && fs.statSync(path.join(REPO_ROOT, f)).isFile()).sort();
}

/** The tracked files, with the dependencies and the cached resolver shared. */
function copyOfTheRepository(): string {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "imqcam-upgrade-"));
    for (const file of tracked()) {
        fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO_ROOT, file), path.join(copy, file));
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(copy, "node_modules"));
    fs.mkdirSync(path.join(copy, ".cache"));
    for (const tools of fs.readdirSync(path.join(REPO_ROOT, ".cache")).filter((d) => d.startsWith("lock-tools-"))) {
        fs.symlinkSync(path.join(REPO_ROOT, ".cache", tools), path.join(copy, ".cache", tools));
    }
    return copy;
}

/** Another release on PyPI for certain: the patch before this project's (the next may not be out yet). */
function otherRelease(version: string): string {
    const [major, minor, patch] = version.split(".").map(Number);
    return `${major}.${minor}.${patch > 0 ? patch - 1 : patch + 1}`;
}

describe("upgrading Dagster as README says", function () {
    this.timeout(900000);
    const from = projectDagsterVersion();
    const to = otherRelease(from);
    let copy: string;
    // The project's own tools first, as npm scripts have them.
    const env = { ...process.env, PATH: `${path.join(REPO_ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` };
    const inCopy = (command: string) => execSync(command, { cwd: copy, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });

    before(function () {
        if (!fs.existsSync(path.join(REPO_ROOT, ".git"))) this.skip();
        copy = copyOfTheRepository();
        const lock = readmeUpgradeCommands().filter((c) => c.startsWith("npm run lock"));
        assert.deepStrictEqual(lock, ["npm run lock -- --dagster-version 1.13.28"], "README's one upgrade step");
        // Run as README writes it, for another release than this project's.
        inCopy(lock[0].replace("1.13.28", to));
    });
    after(() => { if (copy) fs.rmSync(copy, { recursive: true, force: true }); });

    it("changes one line of Pulumi.yaml and the locks, nothing else", () => {
        const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");
        assert.strictEqual(read(copy, "Pulumi.yaml"), withDagsterVersion(read(REPO_ROOT, "Pulumi.yaml"), to));
        const changed = tracked().filter((f) => read(copy, f) !== read(REPO_ROOT, f));
        assert.deepStrictEqual(changed.filter((f) => !f.endsWith("requirements-test.lock")),
            ["Pulumi.yaml", "code-locations/imqcam/requirements.lock"], "no stack file holds a version");
        assert.match(read(copy, "code-locations/imqcam/requirements.lock"), new RegExp(`^dagster==${to.replace(/\./g, "\\.")} \\\\$`, "m"));
    });

    it("leaves both stacks, the chart, the images and the tests' version agreeing with the lock", () => {
        for (const stack of ["kde04", "local"]) {
            // The program's own checks (the lock against the version among them), then its values.
            const values = inCopy(`ts-node --transpile-only scripts/values.ts --stack ${stack}`);
            assert.match(values, new RegExp(`tag: ${to.replace(/\./g, "\\.")}\\n`), stack);
            assert.doesNotMatch(values, new RegExp(from.replace(/\./g, "\\.")), stack);
            assert.strictEqual(inCopy(`ts-node --transpile-only scripts/stackConfig.ts ${stack} dagsterVersion`).trim(), to);
        }
        // What `npm run test:code-location` and `npm run test:node` build and test the image for.
        assert.strictEqual(inCopy("ts-node --transpile-only scripts/dagsterVersion.ts").trim(), to);
    });

    it("leaves the program's tests passing as they are, for the new version", () => {
        // Those whose expectations name the project's version: they read it from Pulumi.yaml.
        const specs = ["stack.kde04", "stack.local", "images", "images.pinning", "database", "offline", "operations",
            "restarts", "config"].map((name) => `tests/${name}.test.ts`);
        const done = spawnSync("mocha", ["--no-config", "-r", "ts-node/register/transpile-only", "--extension", "ts",
            "--timeout", "60000", "--reporter", "dot", ...specs], { cwd: copy, encoding: "utf8", env });
        assert.strictEqual(done.status, 0, `${done.stdout.slice(-3000)}${done.stderr.slice(-2000)}`);
        assert.match(done.stdout, /[1-9]\d* passing/);
    });

    it("refuses a version that is not an exact supported release, and changes nothing", () => {
        const before = fs.readFileSync(path.join(copy, "Pulumi.yaml"), "utf8");
        assert.throws(() => inCopy("bash scripts/lock-code-location.sh --dagster-version 1.13"), /not an exact Dagster release/);
        assert.throws(() => inCopy("bash scripts/lock-code-location.sh --stack local"), /usage: npm run lock/);
        assert.strictEqual(fs.readFileSync(path.join(copy, "Pulumi.yaml"), "utf8"), before);
    });
});
