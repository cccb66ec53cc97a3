// Reads the stack configuration once, validates all of it, and returns one typed Settings
// object. Nothing is deployed until this has passed: every problem is reported together, each
// with the key, what is wrong and the `pulumi config` command that fixes it.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { LocalChart, readLocalChart } from "./chart";
import { DEFAULT_IMAGES, dagsterImage, ThirdPartyImages } from "./components/images";
import { NetworkAccessSettings } from "./components/networkAccess";
import { ShareWriter, USER_CODE_USER } from "./components/podSecurity";
import { ConfigReader, configRm, configSet, Json, Problem } from "./configReader";
import { NetworkSettingsReader } from "./networkSettings";
import * as rules from "./rules";

export { Problem };

export const PROJECT = "imqcam-dagster";

export interface NfsSource { kind: "nfs"; server: string; path: string }
export interface HostPathSource { kind: "hostPath"; path: string }

/** The shared folder behind Dagster's FilesystemIOManager. */
export interface IoVolumeSettings {
    source: NfsSource | HostPathSource;
    size: string;
    mountPath: string;
    /** Who writes on it (code servers, run and step pods, backups, log pruning); unset: the user-code image's user. */
    writer: ShareWriter;
}

/** A claim that keeps a stateful service's data (run history, broker queues). */
export interface DataVolumeSettings { storageClass?: string; size: string }

export interface CodeLocationSettings {
    name: string;
    module: string;
    attribute: string;
    port: number;
    /** Image repository without tag or digest. */
    image: string;
    /** Built from this folder and pushed by the program, which pins the pushed digest. */
    build?: { context: string; dockerfile: string };
    /** Or an image someone else pushed (a CI pipeline): run as `image@pushedDigest`, never built. */
    pushedDigest?: string;
}

/** Where the Dagster Helm chart comes from: its repository, or a chart file or folder of this machine. */
export type ChartSource = { kind: "repository" } | { kind: "local"; path: string; kubeVersion?: string };

/** CPU and memory of one container, as Kubernetes takes them. */
export interface ComputeResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** Scheduled `pg_dump`s of the run history to the NFS share. */
/** A label per generated password; setting a new one rotates that password. Unset: never rotated. */
export interface PasswordRotation {
    postgresql?: string;
    rabbitmq?: string;
}

export interface BackupSettings {
    /** Cron schedule, in the cluster's time zone (UTC unless the cluster says otherwise). */
    schedule: string;
    /** How many scheduled backups to keep; older ones are deleted. */
    keep: number;
}

/** One Kubernetes Secret of environment variables; only `data` holds secret values. */
export interface EnvSecretSettings {
    name: string;
    keys: string[];
    data: pulumi.Output<Record<string, string>>;
}

export interface RegistrySettings {
    server: string;
    username?: string;
    password?: pulumi.Output<string>;
    /** Whether the cluster needs credentials to pull the user-code images. */
    private: boolean;
}

export interface Settings {
    namespace: string;
    dagsterVersion: string;
    /** Nodes every Dagster pod must run on; empty means no pinning. */
    nodeHostnames: string[];
    ioVolume: IoVolumeSettings;
    envSecrets: EnvSecretSettings[];
    codeLocations: CodeLocationSettings[];
    registry: RegistrySettings;
    chart: ChartSource;
    celeryWorkerReplicas: number;
    finishedJobTtlSeconds: number;
    postgresqlVolume: DataVolumeSettings;
    rabbitmqVolume: DataVolumeSettings;
    backups: BackupSettings;
    /** Days the runs' and steps' stdout/stderr stay on the IO volume. */
    computeLogRetentionDays: number;
    /** Runs at once; more wait in Dagster's run queue. */
    maxConcurrentRuns: number;
    /** Step Jobs one Celery worker watches at once: with the workers, the most steps at once. */
    stepsPerCeleryWorker: number;
    /** The run worker pod of each run, and each step pod. */
    runPodResources: ComputeResources;
    stepPodResources: ComputeResources;
    /** Third-party images, each by tag or pinned by digest. */
    images: ThirdPartyImages;
    /** What the NetworkPolicies let out of the namespace: the API server, and user code's peers. */
    network: NetworkAccessSettings;
    passwordRotation: PasswordRotation;
}

export const DEFAULT_IO_SIZE = "5Gi";
export const DEFAULT_IO_MOUNT_PATH = "/tmp/imqcam_filesystem_io_data";
export const DEFAULT_DATA_SIZE = "8Gi";
export const DEFAULT_BACKUP_SCHEDULE = "30 2 * * *";
export const DEFAULT_BACKUPS_KEPT = 14;
export const DEFAULT_RUN_POD_RESOURCES: ComputeResources = {
    requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" },
};
export const DEFAULT_STEP_POD_RESOURCES: ComputeResources = {
    requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" },
};
/** The Celery worker reads a step pod's logs after it finishes: keep finished pods a while. */
export const MIN_FINISHED_JOB_TTL_SECONDS = 300;
export const MAX_FINISHED_JOB_TTL_SECONDS = 30 * 24 * 3600;

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
            problems.map((p) => `  - ${p.key}: ${p.problem}\n    fix: ${p.fix}`).join("\n"),
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
    const p = new Reader(raw);
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

/** The project's settings, read field by field (configReader.ts has the building blocks). */
class Reader extends ConfigReader {
    /** `images`: any third-party image pinned by digest, `repository:tag@sha256:<hex>`. */
    images(dagsterVersion: string | undefined): ThirdPartyImages | undefined {
        // The digest is the registry's to tell (README, "Pinning images"): the CLI prompts for the value.
        const o = this.raw["images"] === undefined ? {} : this.object("images",
            ["postgresql", "rabbitmq", "busybox", "chartWait", "dagster"], configRm("images"));
        if (!o) return undefined;
        const fix = (key: string) => configSet(`images.${key}`);
        const pinned = (key: string, tagged: string): string | undefined => o[key] === undefined || o[key] === null
            ? tagged : this.check(`images.${key}`, String(o[key]), (v) => {
                const wrong = rules.pinnedImage(v);
                return wrong && `${wrong}, e.g. ${tagged}@sha256:<digest>`;
            }, fix(key));
        const dagsterTagged = dagsterImage(dagsterVersion ?? "<dagsterVersion>");
        const dagster = pinned("dagster", dagsterTagged);
        const [dagsterName, dagsterDigest] = (dagster ?? "").split("@");
        if (dagster && dagsterDigest && dagsterName !== dagsterTagged) {
            this.report("images.dagster", `"${dagster}" is not ${dagsterTagged} pinned; the chart runs that image ` +
                "at dagsterVersion, so only its digest can be given", fix("dagster"));
        }
        const result = {
            postgresql: pinned("postgresql", DEFAULT_IMAGES.postgresql), rabbitmq: pinned("rabbitmq", DEFAULT_IMAGES.rabbitmq),
            busybox: pinned("busybox", DEFAULT_IMAGES.busybox), chartWait: pinned("chartWait", DEFAULT_IMAGES.chartWait),
        };
        if (!dagster || Object.values(result).includes(undefined)) return undefined;
        return { ...(result as Omit<ThirdPartyImages, "dagsterDigest">), ...(dagsterDigest ? { dagsterDigest } : {}) };
    }

    nodeHostnames(): string[] {
        const value = this.raw["nodeHostname"];
        const fix = configSet("nodeHostname");
        if (value === undefined || value.trim() === "" || value.trim() === "[]") return [];
        let names: Json = value;
        if (value.trim().startsWith("[")) names = this.json("nodeHostname", value) ?? [];
        const list = Array.isArray(names) ? names : [names];
        const result: string[] = [];
        list.forEach((name, i) => {
            const key = Array.isArray(names) ? `nodeHostname[${i}]` : "nodeHostname";
            if (typeof name !== "string") {
                this.report(key, "is not a node name", fix);
            } else if (result.includes(name)) {
                this.report(key, `names node "${name}" twice`, configRm(key));
            } else if (this.check(key, name, rules.nodeName, fix) !== undefined) {
                result.push(name);
            }
        });
        return result;
    }

    ioVolume(): IoVolumeSettings | undefined {
        const o = this.object("ioVolume", ["nfs", "hostPath", "size", "mountPath", "writer"],
            configSet("ioVolume.nfs.server", "sciserver-fs1"));
        if (!o) return undefined;
        const size = this.optionalString(o, "ioVolume", "size", rules.storageQuantity, DEFAULT_IO_SIZE);
        const mountPath = this.optionalString(o, "ioVolume", "mountPath", rules.absolutePath, DEFAULT_IO_MOUNT_PATH);
        const sources = ["nfs", "hostPath"].filter((k) => o[k] !== undefined);
        if (sources.length !== 1) {
            this.report("ioVolume", sources.length === 0
                ? "names no storage: set either ioVolume.nfs (server and path) or ioVolume.hostPath (path)"
                : "names both nfs and hostPath: keep exactly one",
            sources.length === 0
                ? `${configSet("ioVolume.nfs.server")} && ${configSet("ioVolume.nfs.path")}`
                : configRm("ioVolume.hostPath"));
            return undefined;
        }
        let source: NfsSource | HostPathSource | undefined;
        if (sources[0] === "nfs") {
            const nfs = this.object("ioVolume.nfs", ["server", "path"], configRm("ioVolume.nfs"), o.nfs);
            const server = nfs && this.requiredString(nfs, "ioVolume.nfs", "server", rules.host, "sciserver-fs1");
            const exportPath = nfs && this.requiredString(nfs, "ioVolume.nfs", "path", rules.absolutePath, "/srv/export/path");
            if (server && exportPath) source = { kind: "nfs", server, path: exportPath };
        } else {
            const hostPath = this.object("ioVolume.hostPath", ["path"], configRm("ioVolume.hostPath"), o.hostPath);
            const hostDir = hostPath && this.requiredString(hostPath, "ioVolume.hostPath", "path", rules.absolutePath, "/var/local-data/dagster-io");
            if (hostDir) source = { kind: "hostPath", path: hostDir };
        }
        const writer = o.writer === undefined ? USER_CODE_USER : this.shareWriter(o.writer);
        return source && size && mountPath && writer ? { source, size, mountPath, writer } : undefined;
    }

    /** `ioVolume.writer`: {uid, gid}, neither root: nothing the stack runs writes on the share as root. */
    private shareWriter(value: Json): ShareWriter | undefined {
        const o = this.object("ioVolume.writer", ["uid", "gid"], configRm("ioVolume.writer"), value);
        if (!o) return undefined;
        const id = (field: "uid" | "gid") => {
            const n = Number(o[field]);
            if (Number.isInteger(n) && n >= 1 && n <= 2147483647) return n;
            this.report(`ioVolume.writer.${field}`, o[field] === undefined ? "is not set"
                : `"${o[field]}" is not a ${field} from 1 to 2147483647 (unset, the share's writer is ${USER_CODE_USER.uid}:${USER_CODE_USER.gid}, the user-code image's user); ` +
                "give the share owner's, which npm run take-over -- --stack <stack> --dry-run prints",
            configSet(`ioVolume.writer.${field}`));
            return undefined;
        };
        const uid = id("uid"), gid = id("gid");
        return uid && gid ? { uid, gid } : undefined;
    }

    envSecrets(storedAsSecret: boolean): EnvSecretSettings[] {
        const value = this.raw["envSecrets"];
        if (value === undefined) return [];
        const all = this.object("envSecrets", undefined, configRm("envSecrets"));
        if (!all) return [];
        if (!storedAsSecret && Object.keys(all).length > 0) {
            // Say nothing of the values themselves: they are what must not be printed. Each set
            // prompts for its value, which the CLI then encrypts.
            const again = Object.entries(all).flatMap(([name, vars]) => vars !== null && typeof vars === "object"
                ? Object.keys(vars).map((v) => configSet(`envSecrets.${name}.${v}`, undefined, true)) : []);
            this.report("envSecrets", "is stored in plain text in the stack file; it must be encrypted: " +
                "remove it, then set each value again with --secret", [configRm("envSecrets"), ...again].join(" && "));
        }
        const result: EnvSecretSettings[] = [];
        for (const [name, entry] of Object.entries(all)) {
            const key = `envSecrets.${name}`;
            this.check(key, name, rules.dnsSubdomain, configRm(key));
            const vars = this.object(key, undefined, configRm(key), entry);
            if (!vars) continue;
            if (Object.keys(vars).length === 0) {
                this.report(key, "has no variables", configRm(key));
            }
            const data: Record<string, string> = {};
            for (const [variable, v] of Object.entries(vars)) {
                const varKey = `${key}.${variable}`;
                this.check(varKey, variable, rules.envVarName, configRm(varKey));
                if (v === null || typeof v === "object" || String(v) === "") {
                    this.report(varKey, "has no value (it must be a non-empty string)",
                        configSet(varKey, undefined, true));
                } else {
                    data[variable] = String(v);
                }
            }
            result.push({ name, keys: Object.keys(data).sort(), data: pulumi.secret(data) });
        }
        return result;
    }

    codeLocations(projectDir: string): CodeLocationSettings[] {
        const value = this.raw["codeLocations"];
        const list = value === undefined ? undefined : this.json("codeLocations", value);
        if (!Array.isArray(list) || list.length === 0) {
            // The example code location of this repository, field by field.
            const example = { name: "imqcam-example-1", module: "imqcam", attribute: "defs", port: 3030,
                image: "docker.io/openmsi/testing_k8s_dagster", context: "code-locations/imqcam" };
            this.report("codeLocations", "must be a non-empty list of code locations",
                Object.entries(example).map(([field, v]) => configSet(`codeLocations[0].${field}`, v)).join(" && "));
            return [];
        }
        const result: CodeLocationSettings[] = [];
        list.forEach((entry, i) => {
            const key = `codeLocations[${i}]`;
            const o = this.object(key, ["name", "module", "attribute", "port", "image", "context"], configRm(key), entry);
            if (!o) return;
            const name = this.requiredString(o, key, "name", rules.serviceName, "imqcam-example-1");
            const module = this.requiredString(o, key, "module", rules.pythonModule, "imqcam");
            const attribute = this.requiredString(o, key, "attribute", rules.pythonIdentifier, "defs");
            const image = this.requiredString(o, key, "image", rules.codeLocationImage, "docker.io/openmsi/testing_k8s_dagster");
            const [repository, pushedDigest] = (image ?? "").split("@");
            let context: string | undefined;
            if (!pushedDigest) {
                context = this.requiredString(o, key, "context", buildContext(projectDir), "code-locations/imqcam");
            } else if (o.context !== undefined) {
                this.report(`${key}.context`, `is set, but ${key}.image is pinned by digest, so nothing is built; ` +
                    "keep one: a folder to build, or an image already pushed", configRm(`${key}.context`));
            }
            const port = Number(o.port);
            if (!Number.isInteger(port) || port < 1 || port > 65535) {
                this.report(`${key}.port`, "is not a port number from 1 to 65535", configSet(`${key}.port`, 3030));
            }
            for (const earlier of result) {
                if (earlier.name === name) {
                    this.report(`${key}.name`, `"${name}" is used by another code location; names must be unique`,
                        configSet(`${key}.name`, `${name}-2`));
                }
                if (earlier.port === port) {
                    this.report(`${key}.port`, `${port} is used by code location "${earlier.name}"; ports must be unique`,
                        configSet(`${key}.port`, port + 1));
                }
            }
            if (name && module && attribute && image && (context || pushedDigest) && Number.isInteger(port)) {
                result.push({ name, module, attribute, port, image: repository,
                    ...(pushedDigest ? { pushedDigest } : { build: { context: context!, dockerfile: `${context}/Dockerfile` } }) });
            }
        });
        return result;
    }

    registry(passwordStoredAsSecret: boolean): RegistrySettings | undefined {
        const o = this.object("registry", ["server", "username", "private"], configSet("registry.server", "docker.io"));
        if (!o) return undefined;
        const server = this.requiredString(o, "registry", "server", rules.registryServer, "docker.io");
        const username = this.optionalString(o, "registry", "username", (v) => (v.trim() ? undefined : "is empty"), undefined);
        const isPrivate = o.private === undefined ? false : o.private === true || o.private === "true";
        if (o.private !== undefined && typeof o.private !== "boolean" && !["true", "false"].includes(String(o.private))) {
            this.report("registry.private", "is not true or false", configSet("registry.private", "true"));
        }
        const rawPassword = this.raw["registryPassword"];
        const fixPassword = configSet("registryPassword", undefined, true);
        if (rawPassword !== undefined && !passwordStoredAsSecret) {
            this.report("registryPassword", "is stored in plain text in the stack file; it must be encrypted",
                `${configRm("registryPassword")} && ${fixPassword}`);
        } else if (rawPassword === "") {
            this.report("registryPassword", "is empty", fixPassword);
        }
        if (username && rawPassword === undefined) {
            this.report("registryPassword", `is not set, but registry.username "${username}" needs it to push`, fixPassword);
        }
        if (!username && rawPassword !== undefined) {
            this.report("registry.username", "is not set, but registryPassword is", configSet("registry.username"));
        }
        if (isPrivate && (!username || rawPassword === undefined)) {
            this.report("registry.private", "is true, so the cluster needs registry.username and registryPassword to pull",
                `${configSet("registry.username")} && ${fixPassword}`);
        }
        if (!server) return undefined;
        return {
            server,
            username,
            password: rawPassword ? pulumi.secret(rawPassword) : undefined,
            private: isPrivate,
        };
    }

    dataVolume(key: "postgresqlVolume" | "rabbitmqVolume"): DataVolumeSettings | undefined {
        const o = this.raw[key] === undefined ? {} : this.object(key, ["storageClass", "size"], configSet(`${key}.size`, "100Gi"));
        if (!o) return undefined;
        const size = this.optionalString(o, key, "size", rules.storageQuantity, DEFAULT_DATA_SIZE);
        const storageClass = this.optionalString(o, key, "storageClass", rules.dnsSubdomain, undefined);
        return size ? { size, storageClass } : undefined;
    }

    backups(): BackupSettings | undefined {
        const o = this.raw["backups"] === undefined ? {} : this.object("backups", ["schedule", "keep"], configSet("backups.keep", 14));
        if (!o) return undefined;
        const schedule = this.optionalString(o, "backups", "schedule", rules.cronSchedule, DEFAULT_BACKUP_SCHEDULE);
        const keep = this.optionalInteger(o, "backups", "keep", 1, 365, DEFAULT_BACKUPS_KEPT);
        return keep !== undefined ? { schedule, keep } : undefined;
    }

    /** `passwordRotation.postgresql`/`.rabbitmq`: labels; a new one rotates that generated password. */
    passwordRotation(): PasswordRotation {
        const key = "passwordRotation";
        const o = this.raw[key] === undefined ? {} : this.object(key, ["postgresql", "rabbitmq"],
            configSet(`${key}.postgresql`, "2026-12-02")) ?? {};
        const label = (server: string) => o[server] === undefined || o[server] === null ? undefined
            : this.check(`${key}.${server}`, String(o[server]), rules.rotationLabel, configSet(`${key}.${server}`, "2026-12-02"));
        return { postgresql: label("postgresql"), rabbitmq: label("rabbitmq") };
    }

    /**
     * dagsterVersion: Pulumi.yaml's, set by `npm run lock -- --dagster-version`, never by a stack.
     * The fix sets it to the version the code location's lock installs, else the lowest supported.
     */
    dagsterVersion(locked: string | null | undefined): string | undefined {
        return this.check("dagsterVersion", this.raw["dagsterVersion"] ?? "", rules.dagsterVersion,
            `npm run lock -- --dagster-version ${locked ?? rules.MIN_DAGSTER_VERSION}`);
    }

    /** dagsterChart: a chart file (.tgz) or folder of this project or machine, for its version. */
    chartSource(projectDir: string, dagsterVersion: string | undefined): ChartSource | undefined {
        const value = this.raw["dagsterChart"];
        if (value === undefined || value === "") return { kind: "repository" };
        // Without a chart file of the right version at hand, the chart repository is the way out.
        const fix = dagsterVersion ? configSet("dagsterChart", `./charts/dagster-${dagsterVersion}.tgz`) : configRm("dagsterChart");
        let chart: LocalChart;
        try {
            chart = readLocalChart(path.resolve(projectDir, value));
        } catch (e) {
            this.report("dagsterChart", `"${value}": ${(e as Error).message}`, fix);
            return undefined;
        }
        if (chart.name !== "dagster") {
            this.report("dagsterChart", `"${value}" is the chart "${chart.name}", not "dagster"`, fix);
        } else if (dagsterVersion && chart.version !== dagsterVersion) {
            this.report("dagsterChart", `"${value}" is chart version ${chart.version}, and dagsterVersion is ${dagsterVersion}; ` +
                "the chart, the Celery workers and the user code must run one Dagster (or, for every stack, " +
                `npm run lock -- --dagster-version ${chart.version})`, fix);
        }
        return { kind: "local", path: value, kubeVersion: chart.kubeVersion };
    }

    /** {requests: {cpu, memory}, limits: {cpu, memory}}, each request at most its limit. */
    resources(key: "runPodResources" | "stepPodResources", fallback: ComputeResources): ComputeResources | undefined {
        if (this.raw[key] === undefined) return fallback;
        const fix = configSet(`${key}.limits.memory`, fallback.limits.memory);
        const o = this.object(key, ["requests", "limits"], fix);
        if (!o) return undefined;
        const part = (name: "requests" | "limits") => {
            const inner = this.object(`${key}.${name}`, ["cpu", "memory"], fix, o[name] ?? {});
            if (!inner) return undefined;
            const cpu = this.optionalString(inner, `${key}.${name}`, "cpu", rules.cpuQuantity, fallback[name].cpu);
            const memory = this.optionalString(inner, `${key}.${name}`, "memory", rules.memoryQuantity, fallback[name].memory);
            return { cpu, memory };
        };
        const requests = part("requests");
        const limits = part("limits");
        if (!requests || !limits || this.problems.some((p) => p.key.startsWith(`${key}.`))) return undefined;
        for (const what of ["cpu", "memory"] as const) {
            const parse = what === "cpu" ? rules.parseCpu : rules.parseBytes;
            if (parse(requests[what]) > parse(limits[what])) {
                this.report(`${key}.requests.${what}`, `"${requests[what]}" is more than its limit "${limits[what]}"`,
                    configSet(`${key}.requests.${what}`, limits[what]));
            }
        }
        return { requests, limits };
    }
}

/** A code location's dependency lock (`npm run lock`), beside its Dockerfile. */
export const LOCK_FILE = "requirements.lock";

/** The `dagster==X` a lock pins; undefined without a lock, null if it pins none. */
function lockedDagsterVersion(file: string): string | null | undefined {
    if (!fs.existsSync(file)) return undefined;
    const match = /^dagster==([^\s\\;]+)/m.exec(fs.readFileSync(file, "utf8"));
    return match ? match[1] : null;
}

/** A build context: a relative folder with a Dockerfile, so builds are the same on every machine. */
function buildContext(projectDir: string): rules.Rule {
    return (v) => {
        if (path.isAbsolute(v)) return "is an absolute path; give it relative to the project folder";
        const dir = path.join(projectDir, v);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return "is not a folder in the project";
        if (!fs.existsSync(path.join(dir, "Dockerfile"))) return "has no Dockerfile";
        return undefined;
    };
}
