// `ts-node scripts/dagsterVersion.ts [--set <version>]`: the project's Dagster version, one for
// every stack, the chart and the lock: `dagsterVersion`'s default in Pulumi.yaml (a stack file may
// not set it; src/settings/load.ts refuses one that does). With --set, writes a new one there first, in place,
// so the file keeps its comments. `npm run lock -- --dagster-version <version>` runs this.
import * as fs from "fs";
import * as path from "path";
import * as rules from "../src/settings/rules";
import { projectDefaults, REPO_ROOT } from "./stackConfig";

const PROJECT_FILE = path.join(REPO_ROOT, "Pulumi.yaml");
// The `default:` line of the `dagsterVersion:` entry of Pulumi.yaml's config.
const DEFAULT_LINE = /^(  dagsterVersion:\n(?:    .*\n)*?    default: )(\S+)$/m;

export function projectDagsterVersion(text?: string): string {
    return String(projectDefaults(text).dagsterVersion);
}

export function withDagsterVersion(text: string, version: string): string {
    const problem = rules.dagsterVersion(version);
    if (problem) throw new Error(`--dagster-version "${version}" ${problem}`);
    if (!DEFAULT_LINE.test(text)) throw new Error("Pulumi.yaml has no `default:` line under config.dagsterVersion");
    const changed = text.replace(DEFAULT_LINE, `$1${version}`);
    if (projectDagsterVersion(changed) !== version) throw new Error("Pulumi.yaml's dagsterVersion did not change");
    return changed;
}

if (require.main === module) {
    try {
        const at = process.argv.indexOf("--set");
        if (at >= 0) fs.writeFileSync(PROJECT_FILE, withDagsterVersion(fs.readFileSync(PROJECT_FILE, "utf8"), process.argv[at + 1] ?? ""));
        process.stdout.write(`${projectDagsterVersion()}\n`);
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
}
