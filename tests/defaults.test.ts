// Defaults are written twice: in Pulumi.yaml, where the CLI applies them and `pulumi config`
// shows them, and in the program, which falls back to them for a field a stack leaves out. They
// must be the same values.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { DEFAULT_NETWORK_ACCESS } from "../src/components/parts/networkAccess";
import {
    DEFAULT_BACKUP_SCHEDULE, DEFAULT_BACKUPS_KEPT, DEFAULT_DATA_SIZE, DEFAULT_RUN_POD_RESOURCES, DEFAULT_STEP_POD_RESOURCES,
} from "../src/settings/types";
import { REPO_ROOT } from "../scripts/stackConfig";

const project = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as
    { config: Record<string, { default?: unknown }> };
const defaultOf = (key: string) => project.config[key]?.default;

describe("defaults", () => {
    it("are the same in Pulumi.yaml and in the program", () => {
        assert.deepStrictEqual(defaultOf("postgresqlVolume"), { size: DEFAULT_DATA_SIZE });
        assert.deepStrictEqual(defaultOf("rabbitmqVolume"), { size: DEFAULT_DATA_SIZE });
        assert.deepStrictEqual(defaultOf("backups"), { schedule: DEFAULT_BACKUP_SCHEDULE, keep: DEFAULT_BACKUPS_KEPT });
        assert.deepStrictEqual(defaultOf("runPodResources"), DEFAULT_RUN_POD_RESOURCES);
        assert.deepStrictEqual(defaultOf("stepPodResources"), DEFAULT_STEP_POD_RESOURCES);
        assert.deepStrictEqual(defaultOf("network"), DEFAULT_NETWORK_ACCESS);
    });
});
