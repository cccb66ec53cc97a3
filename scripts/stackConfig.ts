// A stack's configuration as the Pulumi CLI hands it to the program: the project's defaults
// from Pulumi.yaml, replaced key by key by the stack file's values (the CLI's merge rule).
// Used by the tests, the values printer and the Python test runner, so they all see the
// configuration `pulumi up` would.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { PROJECT } from "../src/settings/types";

export const REPO_ROOT = path.resolve(__dirname, "..");

export type ConfigValue = string | number | boolean | object;
export interface Override { value?: ConfigValue; secret?: boolean; remove?: boolean }

/** The configuration of `stack`, with test overrides applied; keys fully qualified. */
/** The project's defaults, from Pulumi.yaml's `config:` (or from that file's text). */
export function projectDefaults(text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")): Record<string, ConfigValue> {
    const project = yaml.load(text) as { config: Record<string, { default?: ConfigValue }> };
    const values: Record<string, ConfigValue> = {};
    for (const [key, decl] of Object.entries(project.config)) {
        if (decl.default !== undefined) values[key] = decl.default;
    }
    return values;
}

export function stackConfig(stack: string, overrides: Record<string, Override> = {}) {
    const values = projectDefaults();
    const stackFile = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
    const stackValues = (yaml.load(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, ConfigValue> }).config ?? {};
    const secretKeys: string[] = [];
    for (const [fullKey, value] of Object.entries(stackValues)) {
        const key = fullKey.replace(`${PROJECT}:`, "");
        // Encrypted values (`secure: v1:...`) cannot be read here; they stand in as placeholders.
        const { plain, encrypted } = withoutCiphertext(value);
        values[key] = plain;
        if (encrypted) secretKeys.push(`${PROJECT}:${key}`);
    }
    for (const [key, o] of Object.entries(overrides)) {
        if (o.remove) delete values[key];
        else if (o.value !== undefined) values[key] = o.value;
        if (o.secret) secretKeys.push(`${PROJECT}:${key}`);
    }
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return { config, secretKeys };
}

export const ENCRYPTED_PLACEHOLDER = "<encrypted in the stack file>";

/**
 * Stand-ins for the secrets a fresh checkout of a stack lacks, so that the program can be
 * evaluated for review: the registry password, where the stack names a registry user.
 */
export function secretStandIns(stack: string): Record<string, Override> {
    const { config } = stackConfig(stack);
    const needsPassword = config[`${PROJECT}:registryPassword`] === undefined &&
        JSON.parse(config[`${PROJECT}:registry`] ?? "{}").username !== undefined;
    return needsPassword ? { registryPassword: { value: ENCRYPTED_PLACEHOLDER, secret: true } } : {};
}

function withoutCiphertext(value: ConfigValue): { plain: ConfigValue; encrypted: boolean } {
    if (value === null || typeof value !== "object") return { plain: value, encrypted: false };
    if (!Array.isArray(value) && "secure" in value) return { plain: ENCRYPTED_PLACEHOLDER, encrypted: true };
    let encrypted = false;
    const entries = Object.entries(value).map(([k, v]) => {
        const inner = withoutCiphertext(v as ConfigValue);
        encrypted ||= inner.encrypted;
        return [k, inner.plain] as const;
    });
    return { plain: Array.isArray(value) ? entries.map(([, v]) => v) : Object.fromEntries(entries), encrypted };
}

// `ts-node scripts/stackConfig.ts <stack> <key>` prints one setting, e.g. for shell scripts.
if (require.main === module) {
    const [stack, key] = process.argv.slice(2);
    const value = stackConfig(stack).config[`${PROJECT}:${key}`];
    if (value === undefined) {
        console.error(`stack ${stack} has no setting ${key}`);
        process.exit(2);
    }
    console.log(value);
}
