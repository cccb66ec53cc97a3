// Reads the stack configuration once, validates all of it, and returns one typed Settings
// object. Nothing is deployed until this has passed: every problem is reported together, each
// with the key, what is wrong and the `pulumi config` command that fixes it.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { configRm, configSet, Problem, problemList } from "../problem";
import { LOCK_FILE, lockedDagsterVersion } from "./buildSettings";
import { SettingsReader } from "./clusterSettings";
import { NetworkSettingsReader } from "./network";
import * as rules from "./rules";
import { DEFAULT_RUN_POD_RESOURCES, DEFAULT_STEP_POD_RESOURCES, MAX_FINISHED_JOB_TTL_SECONDS,
    MIN_FINISHED_JOB_TTL_SECONDS, PROJECT, Settings } from "./types";


const KEYS = [
    "namespace", "dagsterVersion", "nodeHostname", "ioVolume", "envSecrets", "codeLocations",
    "registry", "registryPassword", "celeryWorkerReplicas", "finishedJobTtlSeconds",
    "postgresqlVolume", "rabbitmqVolume", "backups", "computeLogRetentionDays",
    "maxConcurrentRuns", "stepsPerCeleryWorker", "runPodResources", "stepPodResources", "dagsterChart", "images",
    "network", "passwordRotation",
] as const;

/** Bad configuration; raised before any resource is registered. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: Problem[]) {
        super(
            `the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}; ` +
            "nothing was deployed.\n" +
            problemList(problems),
        );
        this.name = "ConfigError";
    }
}

/** Loads the settings of the running stack (project config namespace `imqcam-dagster`). */
export function loadSettings(projectDir: string = process.cwd()): Settings {
    const prefix = `${PROJECT}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    const stackFile = path.join(projectDir, `Pulumi.${pulumi.getStack()}.yaml`);
    const text = fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : "";
    return parseSettings(raw, (key) => isConfigSecret(prefix + key), projectDir, plainTextSecrets(text),
        projectSettingsIn(text));
}

/** Settings of the whole project, never of one stack: one Dagster for every stack and the lock. */
const PROJECT_KEYS = ["dagsterVersion"];

/** Project settings a stack file sets (`pulumi config set` writes there), which the program refuses. */
export function projectSettingsIn(stackFileText: string): string[] {
    const config = (yaml.load(stackFileText) as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    return PROJECT_KEYS.filter((key) => config[`${PROJECT}:${key}`] !== undefined);
}

/** Keys whose every value must be encrypted in the stack file. */
const SECRET_KEYS = ["envSecrets", "registryPassword"];

/**
 * Paths of secret settings written in clear text in a stack file. The CLI marks a whole key
 * secret once any of its values is, so `pulumi config set --path 'envSecrets.a.B' v` without
 * --secret leaves that one value readable in a committed file: only the file itself tells.
 */
export function plainTextSecrets(stackFileText: string): string[] {
    const config = (yaml.load(stackFileText) as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    const found: string[] = [];
    const walk = (value: unknown, at: string): void => {
        if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
        else if (value !== null && typeof value === "object") {
            if ("secure" in value) return;
            for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`);
        } else found.push(at);
    };
    for (const key of SECRET_KEYS) {
        const value = config[`${PROJECT}:${key}`];
        if (value !== undefined) walk(value, key);
    }
    return found;
}

// Whether a key was set with --secret: the CLI passes the list, the SDK keeps the reader internal.
function isConfigSecret(fullKey: string): boolean {
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(k: string): boolean };
    return runtimeConfig.isConfigSecret(fullKey);
}

/**
 * Validates raw configuration (values as the CLI stores them: strings, objects as JSON) and
 * returns typed settings, or throws one ConfigError that lists every problem.
 */
export function parseSettings(
    raw: Record<string, string>,
    isSecret: (key: string) => boolean,
    projectDir: string,
    plainTextInStackFile: string[] = [],
    projectSettingsInStackFile: string[] = [],
): Settings {
    const p = new SettingsReader(raw);
    for (const key of plainTextInStackFile) {
        p.report(key, "is written in clear text in the stack file; it must be encrypted",
            configSet(key, undefined, true));
    }
    for (const key of projectSettingsInStackFile) {
        p.report(key, "is set in the stack file, but it is the project's, one for every stack and the lock " +
            "(Pulumi.yaml; to change it: npm run lock -- --dagster-version <version>)", configRm(key));
    }
    for (const key of Object.keys(raw)) {
        if (!(KEYS as readonly string[]).includes(key)) {
            p.report(key, `is not a setting of this program (known settings: ${KEYS.join(", ")})`,
                configRm(key));
        }
    }

    const namespace = p.string("namespace", rules.dnsLabel, "imqcam-dagster");
    const codeLocations = p.codeLocations(projectDir);
    const dagsterVersion = p.dagsterVersion(codeLocations.map((l) => l.build &&
        lockedDagsterVersion(path.join(projectDir, l.build.context, LOCK_FILE))).find(Boolean));
    const nodeHostnames = p.nodeHostnames();
    const ioVolume = p.ioVolume();
    const envSecrets = p.envSecrets(isSecret("envSecrets"));
    const registry = p.registry(isSecret("registryPassword"));
    for (const [i, location] of codeLocations.entries()) {
        if (registry && location.build && !location.image.startsWith(`${registry.server}/`)) {
            p.report(`codeLocations[${i}].image`,
                `"${location.image}" is not in the registry the program pushes to (registry.server ` +
                `"${registry.server}"); write the repository with that host in front`,
                configSet(`codeLocations[${i}].image`, `${registry.server}/${location.image.slice(location.image.indexOf("/") + 1)}`));
        }
    }
    for (const [i, location] of codeLocations.entries()) {
        if (!location.build) continue;
        const lock = path.join(location.build.context, LOCK_FILE);
        const locked = lockedDagsterVersion(path.join(projectDir, lock));
        if (dagsterVersion && locked !== undefined && locked !== dagsterVersion) {
            p.report("dagsterVersion",
                `is ${dagsterVersion}, but ${lock} (codeLocations[${i}]) installs ` +
                `${locked === null ? "no exact dagster" : `dagster ${locked}`}; the image must run the chart's Dagster. ` +
                `Lock it again for ${dagsterVersion} and commit ${lock}`,
                "npm run lock");
        }
    }
    const chart = p.chartSource(projectDir, dagsterVersion);
    const celeryWorkerReplicas = p.integer("celeryWorkerReplicas", 1, 50, 2);
    const finishedJobTtlSeconds = p.integer("finishedJobTtlSeconds",
        MIN_FINISHED_JOB_TTL_SECONDS, MAX_FINISHED_JOB_TTL_SECONDS, 3600,
        "the Celery worker reads a step pod's logs after the pod finishes, so it must outlive that read");
    const postgresqlVolume = p.dataVolume("postgresqlVolume");
    const rabbitmqVolume = p.dataVolume("rabbitmqVolume");
    const backups = p.backups();
    const computeLogRetentionDays = p.integer("computeLogRetentionDays", 1, 3650, 30);
    const maxConcurrentRuns = p.integer("maxConcurrentRuns", 1, 200, 4);
    const stepsPerCeleryWorker = p.integer("stepsPerCeleryWorker", 1, 32, 2);
    const runPodResources = p.resources("runPodResources", DEFAULT_RUN_POD_RESOURCES);
    const stepPodResources = p.resources("stepPodResources", DEFAULT_STEP_POD_RESOURCES);
    const images = p.images(dagsterVersion);
    const passwordRotation = p.passwordRotation();
    const networkReader = new NetworkSettingsReader(raw);
    const network = networkReader.network();
    p.problems.push(...networkReader.problems);

    if (p.problems.length > 0) throw new ConfigError(p.problems);
    return {
        namespace: namespace!, dagsterVersion: dagsterVersion!, nodeHostnames, ioVolume: ioVolume!,
        envSecrets, codeLocations, registry: registry!, chart: chart!, celeryWorkerReplicas: celeryWorkerReplicas!,
        finishedJobTtlSeconds: finishedJobTtlSeconds!, postgresqlVolume: postgresqlVolume!,
        rabbitmqVolume: rabbitmqVolume!, backups: backups!, computeLogRetentionDays: computeLogRetentionDays!,
        maxConcurrentRuns: maxConcurrentRuns!, stepsPerCeleryWorker: stepsPerCeleryWorker!,
        runPodResources: runPodResources!, stepPodResources: stepPodResources!, images: images!,
        network: network!, passwordRotation,
    };
}
