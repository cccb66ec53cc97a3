// The Dagster chart's values, built by a pure function from plain typed inputs, so that the
// most intricate part of the deployment is tested directly and can be printed for review.
// Credentials reach the chart only as names of Secrets that the program creates: nothing
// here is secret, and `pulumi preview` can show the whole values diff.
import { ContainerResources, dagsterK8sJobConfig, podPlacement } from "../components/parts/placement";
import * as images from "../components/parts/images";
import { dagsterPodsAnnotation, RotationLabels } from "../components/parts/passwordRotation";
import { DAGSTER_POD_SECURITY, hardenedJobConfig, NO_PRIVILEGES, ShareWriter, WEBSERVER_SECURITY } from "../components/parts/podSecurity";
import * as resources from "../components/parts/computeSizes";
import { POSTGRESQL_DATABASE, POSTGRESQL_PORT, POSTGRESQL_SCHEME, POSTGRESQL_USER } from "./instanceStorage";

/** The Celery queue the run launcher's workers listen on. */
export const CELERY_QUEUE = "dagster";
/**
 * The chart checks each Celery worker with `dagster-celery status` (a new Python process that
 * imports Dagster and pings the workers through the broker), by default every 10 s with 10 s to
 * answer. On a busy node it does not answer in time, and the kubelet restarts workers that are
 * watching steps (seen on the tests' real node); each check also costs a core-second. The same
 * check, given a minute, once a minute; five misses in a row restart the worker.
 */
export const CELERY_WORKER_LIVENESS = {
    initialDelaySeconds: 60, periodSeconds: 60, timeoutSeconds: 60, successThreshold: 1, failureThreshold: 5,
};
/** What tells the Celery workers' pods apart, as `component` does the chart's other pods. */
export const CELERY_WORKER_LABELS = { component: "celery" };
/** Environment variables through which the deployment tells a code location how it runs. */
export const IO_MOUNT_PATH_ENV = "IMQCAM_IO_MOUNT_PATH";
/** The `dagster-k8s/config` of run worker Jobs (job tags) and of step Jobs (op tags). */
export const K8S_JOB_CONFIG_ENV = "IMQCAM_K8S_JOB_CONFIG";
export const K8S_STEP_CONFIG_ENV = "IMQCAM_K8S_STEP_CONFIG";
export const ENV_SECRETS_VERSION_ANNOTATION = "imqcam-dagster/env-secrets-version";
const IO_VOLUME = "io-data";
/** Where every run's and step's stdout/stderr is kept, on the IO volume (its own folder). */
export const COMPUTE_LOGS_FOLDER = "compute-logs";
/**
 * Dagster's own compute log manager that writes files under a folder, named through the chart's
 * CustomComputeLogManager: the chart's older `LocalComputeLogManager` entry names a module path
 * (`dagster.core...`) that Dagster 1.13 no longer has, and newer charts dropped the entry.
 */
export const LOCAL_COMPUTE_LOG_MANAGER = { module: "dagster._core.storage.local_compute_log_manager", class: "LocalComputeLogManager" };

export interface CodeLocationValues {
    name: string;
    module: string;
    attribute: string;
    port: number;
    /** The pushed image: repository without tag, and its `sha256:` manifest digest. */
    repository: string;
    digest: string;
}

export interface ReleaseValuesArgs {
    dagsterVersion: string;
    nodeHostnames: readonly string[];
    finishedJobTtlSeconds: number;
    celeryWorkerReplicas: number;
    stepsPerCeleryWorker: number;
    maxConcurrentRuns: number;
    runPodResources: ContainerResources;
    stepPodResources: ContainerResources;
    /** The IO share, and who writes there (code servers, run and step pods). */
    ioVolume: { claimName: string; mountPath: string; writer: ShareWriter };
    codeLocations: readonly CodeLocationValues[];
    /** Names of the Secrets whose keys become environment variables of user code. */
    envSecretNames: readonly string[];
    /** Changes when any envSecrets value does (the Secrets' uids): rolls the code servers only. */
    envSecretsVersion: string;
    imagePullSecretNames: readonly string[];
    /** The program's PostgreSQL: its Service, and the Secret with its password. */
    postgresql: { secretName: string; host: string };
    celeryConfigSecretName: string;
    /** By tag, or pinned by digest (the `images` setting). */
    images: images.ThirdPartyImages;
    /** Rotated passwords: every Dagster pod reads both at start, so a rotation restarts them all. */
    passwordRotation: RotationLabels;
}

export function buildReleaseValues(a: ReleaseValuesArgs): Record<string, unknown> {
    const placement = podPlacement(a.nodeHostnames);
    // Pinned, the chart prints `repository@digest` for the webserver, daemon and workers.
    const dagsterImage = { repository: images.DAGSTER_CELERY_K8S, tag: a.dagsterVersion, pullPolicy: "IfNotPresent",
        ...(a.images.dagsterDigest ? { digest: a.images.dagsterDigest } : {}) };
    const envSecrets = a.envSecretNames.map((name) => ({ name }));
    const imagePullSecrets = a.imagePullSecretNames.map((name) => ({ name }));
    const volumes = [{ name: IO_VOLUME, persistentVolumeClaim: { claimName: a.ioVolume.claimName } }];
    const volumeMounts = [{ name: IO_VOLUME, mountPath: a.ioVolume.mountPath }];
    const { writer } = a.ioVolume;
    const rotated = dagsterPodsAnnotation(a.passwordRotation);
    const annotations = Object.keys(rotated).length ? { annotations: rotated } : {};
    const asWriter = { runAsNonRoot: true, runAsUser: writer.uid, runAsGroup: writer.gid };
    // Read by the code server (run worker Job tags), and by run and step pods (op tags).
    const codeLocationEnv = {
        [IO_MOUNT_PATH_ENV]: a.ioVolume.mountPath,
        [K8S_JOB_CONFIG_ENV]: JSON.stringify(hardenedJobConfig(
            dagsterK8sJobConfig(a.nodeHostnames, a.finishedJobTtlSeconds, a.runPodResources), true, writer)),
        [K8S_STEP_CONFIG_ENV]: JSON.stringify(hardenedJobConfig(
            dagsterK8sJobConfig(a.nodeHostnames, a.finishedJobTtlSeconds, a.stepPodResources), false, writer)),
    };

    return {
        global: {
            postgresqlSecretName: a.postgresql.secretName,
            celeryConfigSecretName: a.celeryConfigSecretName,
        },
        generatePostgresqlPasswordSecret: false,
        generateCeleryConfigSecret: false,
        telemetry: { enabled: false },
        imagePullSecrets,
        busybox: { image: images.chartImage(a.images.chartWait) },
        // Both mount the IO volume: the webserver reads the compute logs that run and step pods
        // write there.
        dagsterWebserver: {
            image: dagsterImage, volumes, volumeMounts, resources: resources.WEBSERVER, ...placement, ...annotations,
            podSecurityContext: DAGSTER_POD_SECURITY, securityContext: WEBSERVER_SECURITY,
        },
        dagsterDaemon: {
            image: dagsterImage, volumes, volumeMounts, resources: resources.DAEMON, ...placement, ...annotations,
            podSecurityContext: DAGSTER_POD_SECURITY, securityContext: NO_PRIVILEGES,
            // Runs beyond this wait in Dagster's queue instead of crowding the node.
            runCoordinator: {
                enabled: true, type: "QueuedRunCoordinator",
                config: { queuedRunCoordinator: { maxConcurrentRuns: a.maxConcurrentRuns } },
            },
        },
        computeLogManager: {
            type: "CustomComputeLogManager",
            config: { customComputeLogManager: {
                ...LOCAL_COMPUTE_LOG_MANAGER, config: { base_dir: computeLogsDir(a.ioVolume.mountPath) } } },
        },
        "dagster-user-deployments": {
            enabled: true,
            enableSubchart: true,
            imagePullSecrets,
            deployments: a.codeLocations.map((location) => ({
                name: location.name,
                // Pinned by digest: a new push changes this deployment's pod template and
                // Kubernetes rolls it; run and step Jobs inherit the same pinned image.
                image: { repository: location.repository, digest: location.digest, pullPolicy: "IfNotPresent" },
                dagsterApiGrpcArgs: ["--module-name", location.module, "--attribute", location.attribute],
                port: location.port,
                env: Object.entries(codeLocationEnv).map(([name, value]) => ({ name, value })),
                envSecrets,
                // A code server reads envSecrets when it starts: a new value must restart it.
                // (The chart rolls a code server whenever anything in its entry changes.)
                annotations: { [ENV_SECRETS_VERSION_ANNOTATION]: a.envSecretsVersion, ...rotated },
                volumes,
                volumeMounts,
                includeConfigInLaunchedRuns: { enabled: true },
                resources: resources.CODE_SERVER,
                podSecurityContext: { ...DAGSTER_POD_SECURITY, ...asWriter },
                securityContext: NO_PRIVILEGES,
                ...placement,
            })),
        },
        runLauncher: {
            type: "CeleryK8sRunLauncher",
            config: {
                celeryK8sRunLauncher: {
                    image: dagsterImage,
                    // Run and step Jobs: the chart's default is Always, a registry round trip per pod.
                    imagePullPolicy: "IfNotPresent",
                    // The chart labels worker pods with its selector labels only, which every
                    // Dagster pod carries; `component` tells them apart (networkAccess.ts).
                    workerQueues: [{ name: CELERY_QUEUE, replicaCount: a.celeryWorkerReplicas, labels: CELERY_WORKER_LABELS }],
                    // Each task a worker holds watches one step Job to its end: this bounds the
                    // step pods at once to workers x this.
                    configSource: { worker_concurrency: a.stepsPerCeleryWorker },
                    livenessProbe: CELERY_WORKER_LIVENESS,
                    resources: resources.CELERY_WORKER,
                    podSecurityContext: DAGSTER_POD_SECURITY,
                    securityContext: NO_PRIVILEGES,
                    env: codeLocationEnv,
                    envSecrets,
                    volumes,
                    volumeMounts,
                    ...placement,
                    ...annotations,
                },
            },
        },
        // The broker runs outside the chart (src/components/rabbitmq.ts); the chart only reads
        // its URL from the Secret named in global.celeryConfigSecretName.
        rabbitmq: { enabled: false },
        // The database runs outside the chart (src/components/postgresql.ts), so that it is up, backed
        // up and migrated before any Dagster pod of a new version starts. The chart only needs
        // its address and credentials, and the image for its `pg_isready` init containers.
        postgresql: {
            enabled: false,
            image: images.chartRegistryImage(a.images.postgresql),
            postgresqlHost: a.postgresql.host,
            postgresqlUsername: POSTGRESQL_USER,
            postgresqlDatabase: POSTGRESQL_DATABASE,
            // Rendered as `scheme:` under `postgres_db` in dagster.yaml, for every pod.
            postgresqlScheme: POSTGRESQL_SCHEME,
            service: { port: POSTGRESQL_PORT },
        },
    };
}

/** The compute logs' folder as pods see it. */
export function computeLogsDir(ioMountPath: string): string {
    return `${ioMountPath}/${COMPUTE_LOGS_FOLDER}`;
}
