// Every rejected input, with the key the error must name and a fragment of what it says.
// tests/config.test.ts runs each through the whole program; README's table lists the same.
import { Override } from "../scripts/stackConfig";
import { KDE04_SECRETS } from "./fixtures";

export interface BadInput {
    what: string;
    overrides: Record<string, Override>;
    key: string;
    says: string;
}

const envSecrets = (value: object, secret = true): Record<string, Override> => ({ envSecrets: { value, secret } });
const girder = { GIRDER_API_URL: "https://girder.example/api/v1", GIRDER_API_KEY: "girder-key-91c2" };
const location = (patch: object) => ({
    codeLocations: {
        value: [{
            name: "imqcam-example-1", module: "imqcam", attribute: "defs", port: 3030,
            image: "docker.io/openmsi/testing_k8s_dagster", context: "code-locations/imqcam", ...patch,
        }],
    },
});
const nfs = (patch: object) => ({
    ioVolume: { value: { nfs: { server: "sciserver-fs1", path: "/srv/vc_crypt/IMQCAM/dagster_filesystem_io" }, ...patch } },
});

export const BAD_INPUTS: BadInput[] = [
    { what: "an empty envSecrets value", overrides: envSecrets({ "girder-connection-info": { ...girder, GIRDER_API_KEY: "" } }),
        key: "envSecrets.girder-connection-info.GIRDER_API_KEY", says: "has no value" },
    { what: "an envSecrets entry without variables", overrides: envSecrets({ "girder-connection-info": {} }),
        key: "envSecrets.girder-connection-info", says: "has no variables" },
    { what: "envSecrets stored in plain text", overrides: envSecrets({ "girder-connection-info": girder }, false),
        key: "envSecrets", says: "plain text" },
    { what: "a Secret name that is not a Kubernetes name", overrides: envSecrets({ Girder_Info: girder }),
        key: "envSecrets.Girder_Info", says: "not a valid Kubernetes object name" },
    { what: "an environment variable name with a dash", overrides: envSecrets({ "girder-connection-info": { "GIRDER-KEY": "x" } }),
        key: "envSecrets.girder-connection-info.GIRDER-KEY", says: "not a valid environment variable name" },
    { what: "a namespace that is not a Kubernetes name", overrides: { namespace: { value: "Imqcam_Dagster" } },
        key: "namespace", says: "not a valid Kubernetes name" },
    { what: "a relative NFS path", overrides: nfs({ nfs: { server: "sciserver-fs1", path: "srv/data" } }),
        key: "ioVolume.nfs.path", says: "not an absolute path" },
    { what: "an empty NFS server", overrides: nfs({ nfs: { server: "", path: "/srv/data" } }),
        key: "ioVolume.nfs.server", says: "is not set" },
    { what: "a relative mount path", overrides: nfs({ mountPath: "tmp/io" }),
        key: "ioVolume.mountPath", says: "not an absolute path" },
    { what: "both nfs and hostPath", overrides: nfs({ hostPath: { path: "/data" } }),
        key: "ioVolume", says: "names both nfs and hostPath" },
    { what: "neither nfs nor hostPath", overrides: { ioVolume: { value: { size: "5Gi" } } },
        key: "ioVolume", says: "names no storage" },
    { what: "an IO volume size that is not a quantity", overrides: nfs({ size: "5GB" }),
        key: "ioVolume.size", says: "not a Kubernetes quantity" },
    { what: "an unknown field in ioVolume", overrides: nfs({ nfss: {} }),
        key: "ioVolume.nfss", says: "not a known field" },
    { what: "a dagsterVersion that is not an exact release", overrides: { dagsterVersion: { value: "1.13" } },
        key: "dagsterVersion", says: "not an exact Dagster release" },
    { what: "a dagsterVersion range", overrides: { dagsterVersion: { value: "^1.13.27" } },
        key: "dagsterVersion", says: "not an exact Dagster release" },
    { what: "a Dagster major version other than 1", overrides: { dagsterVersion: { value: "2.0.0" } },
        key: "dagsterVersion", says: "is not supported" },
    { what: "a Dagster release before 1.13", overrides: { dagsterVersion: { value: "1.12.7" } },
        key: "dagsterVersion", says: "is not supported" },
    { what: "a dagsterVersion the code location's lock was not made for", overrides: { dagsterVersion: { value: "1.13.999" } },
        key: "dagsterVersion", says: "but code-locations/imqcam/requirements.lock (codeLocations[0]) installs dagster " },
    { what: "a backup schedule that is not a cron schedule", overrides: { backups: { value: { schedule: "every night" } } },
        key: "backups.schedule", says: "is not a cron schedule" },
    { what: "a backup schedule with a minute out of range", overrides: { backups: { value: { schedule: "61 2 * * *" } } },
        key: "backups.schedule", says: "has an invalid minute \"61\"" },
    { what: "a backup schedule on day-of-week 7", overrides: { backups: { value: { schedule: "0 2 * * 7" } } },
        key: "backups.schedule", says: "has an invalid day-of-week \"7\": Kubernetes takes 0-6 (0 is Sunday)" },
    { what: "a backup schedule with a time zone in it", overrides: { backups: { value: { schedule: "TZ=UTC 30 2 * * *" } } },
        key: "backups.schedule", says: "names a time zone" },
    { what: "keeping no backups", overrides: { backups: { value: { keep: 0 } } },
        key: "backups.keep", says: "is not a whole number from 1 to 365" },
    { what: "an unknown field in backups", overrides: { backups: { value: { retention: 7 } } },
        key: "backups.retention", says: "not a known field" },
    { what: "keeping compute logs for no day", overrides: { computeLogRetentionDays: { value: "0" } },
        key: "computeLogRetentionDays", says: "is not a whole number from 1 to 3650" },
    { what: "keeping compute logs for ten years and more", overrides: { computeLogRetentionDays: { value: "4000" } },
        key: "computeLogRetentionDays", says: "is not a whole number from 1 to 3650" },
    { what: "no run at a time", overrides: { maxConcurrentRuns: { value: "0" } },
        key: "maxConcurrentRuns", says: "is not a whole number from 1 to 200" },
    { what: "no step per Celery worker", overrides: { stepsPerCeleryWorker: { value: "0" } },
        key: "stepsPerCeleryWorker", says: "is not a whole number from 1 to 32" },
    { what: "a CPU quantity that is not one", overrides: { runPodResources: { value: { limits: { cpu: "two" } } } },
        key: "runPodResources.limits.cpu", says: "is not a CPU quantity" },
    { what: "a memory quantity that is not one", overrides: { stepPodResources: { value: { requests: { memory: "1GB" } } } },
        key: "stepPodResources.requests.memory", says: "is not a memory quantity" },
    { what: "a request above its limit", overrides: { stepPodResources: { value: {
        requests: { cpu: "4", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } } } },
        key: "stepPodResources.requests.cpu", says: "is more than its limit" },
    { what: "an unknown field in pod resources", overrides: { runPodResources: { value: { limit: {} } } },
        key: "runPodResources.limit", says: "not a known field" },
    { what: "two code locations with one name", overrides: { codeLocations: { value: [
        ...(location({}).codeLocations.value), { ...location({}).codeLocations.value[0], port: 3031 }] } },
        key: "codeLocations[1].name", says: "names must be unique" },
    { what: "two code locations on one port", overrides: { codeLocations: { value: [
        ...(location({}).codeLocations.value), { ...location({}).codeLocations.value[0], name: "second" }] } },
        key: "codeLocations[1].port", says: "ports must be unique" },
    { what: "an unknown field in a code location", overrides: location({ img: "x" }),
        key: "codeLocations[0].img", says: "not a known field" },
    { what: "a code-location name that is not a Service name", overrides: location({ name: "Imqcam_1" }),
        key: "codeLocations[0].name", says: "not a valid Kubernetes Service name" },
    { what: "a port out of range", overrides: location({ port: 70000 }),
        key: "codeLocations[0].port", says: "not a port number" },
    { what: "a module that is not a Python module path", overrides: location({ module: "imqcam-example" }),
        key: "codeLocations[0].module", says: "not a Python module path" },
    { what: "a missing build context", overrides: location({ context: "code-locations/missing" }),
        key: "codeLocations[0].context", says: "not a folder in the project" },
    { what: "a build context without Dockerfile", overrides: location({ context: "components" }),
        key: "codeLocations[0].context", says: "has no Dockerfile" },
    { what: "an absolute build context", overrides: location({ context: "/work/code" }),
        key: "codeLocations[0].context", says: "absolute path" },
    { what: "an image with a tag", overrides: location({ image: "docker.io/openmsi/testing_k8s_dagster:latest" }),
        key: "codeLocations[0].image", says: "has a tag" },
    { what: "an image that is not a valid reference", overrides: location({ image: "docker.io/OpenMSI/Testing" }),
        key: "codeLocations[0].image", says: "not a valid image repository" },
    { what: "a pinned image with a digest that is not sha256", overrides: location({ image: "docker.io/openmsi/testing_k8s_dagster@sha256:abc", context: undefined }),
        key: "codeLocations[0].image", says: "a pinned image ends in @sha256: and 64 lower-case hex digits" },
    { what: "a pinned image that also names a folder to build", overrides: location({ image: `docker.io/openmsi/testing_k8s_dagster@sha256:${"a".repeat(64)}` }),
        key: "codeLocations[0].context", says: "is pinned by digest, so nothing is built" },
    { what: "a dagsterChart that does not exist", overrides: { dagsterChart: { value: "charts/dagster-1.13.27.tgz" } },
        key: "dagsterChart", says: "no such file or folder" },
    { what: "a dagsterChart folder that is no chart", overrides: { dagsterChart: { value: "components" } },
        key: "dagsterChart", says: "folder without Chart.yaml" },
    { what: "a dagsterChart file that is no packaged chart", overrides: { dagsterChart: { value: "README.md" } },
        key: "dagsterChart", says: "neither a folder nor a .tgz" },
    { what: "an image outside the registry pushed to", overrides: location({ image: "ghcr.io/openmsi/testing_k8s_dagster" }),
        key: "codeLocations[0].image", says: "not in the registry" },
    { what: "registryPassword stored in plain text", overrides: { registryPassword: { value: "hunter2" } },
        key: "registryPassword", says: "plain text" },
    { what: "registryPassword without a registry user", overrides: { registry: { value: { server: "docker.io" } } },
        key: "registry.username", says: "is not set, but registryPassword is" },
    { what: "a registry user without registryPassword", overrides: { registryPassword: { remove: true } },
        key: "registryPassword", says: "is not set" },
    { what: "a private registry without credentials", overrides: {
        registry: { value: { server: "docker.io", private: true } }, registryPassword: { remove: true } },
        key: "registry.private", says: "needs registry.username and registryPassword" },
    { what: "a node name that is not a Kubernetes name", overrides: { nodeHostname: { value: "KDE04!" } },
        key: "nodeHostname", says: "not a valid Kubernetes object name" },
    { what: "a node name longer than a label value may be", overrides: { nodeHostname: { value: `${"a".repeat(60)}.idies.jhu.edu` } },
        key: "nodeHostname", says: "longer than the 63 characters" },
    { what: "the same node twice", overrides: { nodeHostname: { value: ["kde04.idies.jhu.edu", "kde04.idies.jhu.edu"] } },
        key: "nodeHostname[1]", says: "twice" },
    { what: "a finished-Job TTL under 300 seconds", overrides: { finishedJobTtlSeconds: { value: "60" } },
        key: "finishedJobTtlSeconds", says: "outlive" },
    { what: "a finished-Job TTL that is not a number", overrides: { finishedJobTtlSeconds: { value: "an hour" } },
        key: "finishedJobTtlSeconds", says: "not a whole number" },
    { what: "no Celery workers", overrides: { celeryWorkerReplicas: { value: "0" } },
        key: "celeryWorkerReplicas", says: "not a whole number from 1" },
    { what: "a database volume size that is not a quantity", overrides: { postgresqlVolume: { value: { size: "lots" } } },
        key: "postgresqlVolume.size", says: "not a Kubernetes quantity" },
    { what: "a storage class that is not a Kubernetes name", overrides: { rabbitmqVolume: { value: { storageClass: "Local_Storage" } } },
        key: "rabbitmqVolume.storageClass", says: "not a valid Kubernetes object name" },
    { what: "a misspelt setting", overrides: { nodeHostnames: { value: "kde04.idies.jhu.edu" } },
        key: "nodeHostnames", says: "not a setting of this program" },
];

/** The kde04 secrets plus one case's overrides. */
export function withSecrets(overrides: Record<string, Override>): Record<string, Override> {
    return { ...KDE04_SECRETS, ...overrides };
}
