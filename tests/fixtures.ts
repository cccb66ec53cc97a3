// Sample secrets, as a kde04 user sets them with `pulumi config set --secret`, and a code
// location whose lock a test can rewrite.
import * as fs from "fs";
import * as path from "path";
import { projectDagsterVersion } from "../scripts/dagsterVersion";
import { Override, REPO_ROOT } from "../scripts/stackConfig";

/** The project's Dagster version (Pulumi.yaml), and the patch after it, for a test's own upgrade. */
export const DAGSTER = projectDagsterVersion();
export const NEXT_DAGSTER = DAGSTER.replace(/\d+$/, (patch) => String(Number(patch) + 1));

/** The secrets every production stack sets (README, "Deploy to kde04"). */
export const KDE04_SECRETS: Record<string, Override> = {
    registryPassword: { value: "registry-password-7f3a", secret: true },
    envSecrets: {
        secret: true,
        value: {
            "girder-connection-info": { GIRDER_API_URL: "https://girder.example/api/v1", GIRDER_API_KEY: "girder-key-91c2" },
            "globus-compute-creds": { GLOBUS_COMPUTE_CLIENT_ID: "globus-id-5d7e", GLOBUS_COMPUTE_CLIENT_SECRET: "globus-secret-0b4f" },
        },
    },
};

/** KDE04_SECRETS' envSecrets with one value rotated (GIRDER_API_KEY -> rotated-4c1d). */
export const ROTATED_ENV_SECRETS = {
    ...KDE04_SECRETS.envSecrets.value as object,
    "girder-connection-info": { GIRDER_API_URL: "https://girder.example/api/v1", GIRDER_API_KEY: "rotated-4c1d" },
};

/**
 * The example code location, copied into an ignored folder with its lock rewritten for
 * `dagsterVersion` as `npm run lock` would (null: a lock without dagster): the same relative context on every call, so two
 * evaluations differ only in what the test changes.
 */
export function codeLocationLockedFor(dagsterVersion: string | null): Record<string, Override> {
    const source = path.join(REPO_ROOT, "code-locations/imqcam");
    const context = ".cache/test-code-locations/imqcam";
    const target = path.join(REPO_ROOT, context);
    fs.mkdirSync(target, { recursive: true });
    fs.copyFileSync(path.join(source, "Dockerfile"), path.join(target, "Dockerfile"));
    const lock = fs.readFileSync(path.join(source, "requirements.lock"), "utf8")
        .replace(/^dagster==\S+/m, dagsterVersion ? `dagster==${dagsterVersion}` : "");
    fs.writeFileSync(path.join(target, "requirements.lock"), lock);
    return {
        codeLocations: {
            value: [{
                name: "imqcam-example-1", module: "imqcam", attribute: "defs", port: 3030,
                image: "docker.io/openmsi/testing_k8s_dagster", context,
            }],
        },
    };
}
