// The Dagster chart's values, built by a pure function from plain typed inputs, so that the
// most intricate part of the deployment is tested directly and can be printed for review.
// Credentials reach the chart only as names of Secrets that the program creates: nothing
// here is secret, and `pulumi preview` can show the whole values diff.
import { dagsterK8sJobConfig, podPlacement } from "./placement";
import * as images from "./images";
import { POSTGRESQL_DATABASE, POSTGRESQL_PORT, POSTGRESQL_SCHEME, POSTGRESQL_USER } from "./storage";

/** The Celery queue the run launcher's workers listen on. */
export const CELERY_QUEUE = "dagster";
/** Environment variables through which the deployment tells a code location how it runs. */
export const IO_MOUNT_PATH_ENV = "IMQCAM_IO_MOUNT_PATH";
export const K8S_JOB_CONFIG_ENV = "IMQCAM_K8S_JOB_CONFIG";
const IO_VOLUME = "io-data";

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
    ioVolume: { claimName: string; mountPath: string };
    codeLocations: readonly CodeLocationValues[];
    /** Names of the Secrets whose keys become environment variables of user code. */
    envSecretNames: readonly string[];
    imagePullSecretNames: readonly string[];
    /** The program's PostgreSQL: its Service, and the Secret with its password. */
    postgresql: { secretName: string; host: string };
    celeryConfigSecretName: string;
}

export function buildReleaseValues(a: ReleaseValuesArgs): Record<string, unknown> {
    const placement = podPlacement(a.nodeHostnames);
    const dagsterImage = { repository: images.DAGSTER_CELERY_K8S, tag: a.dagsterVersion, pullPolicy: "IfNotPresent" };
    const envSecrets = a.envSecretNames.map((name) => ({ name }));
    const imagePullSecrets = a.imagePullSecretNames.map((name) => ({ name }));
    const volumes = [{ name: IO_VOLUME, persistentVolumeClaim: { claimName: a.ioVolume.claimName } }];
    const volumeMounts = [{ name: IO_VOLUME, mountPath: a.ioVolume.mountPath }];
    // Read by the code server (run worker Job tags), and by run and step pods (op tags).
    const codeLocationEnv = {
        [IO_MOUNT_PATH_ENV]: a.ioVolume.mountPath,
        [K8S_JOB_CONFIG_ENV]: JSON.stringify(dagsterK8sJobConfig(a.nodeHostnames, a.finishedJobTtlSeconds)),
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
        busybox: { image: images.BUSYBOX },
        dagsterWebserver: { image: dagsterImage, ...placement },
        dagsterDaemon: { image: dagsterImage, ...placement },
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
                volumes,
                volumeMounts,
                includeConfigInLaunchedRuns: { enabled: true },
                ...placement,
            })),
        },
        runLauncher: {
            type: "CeleryK8sRunLauncher",
            config: {
                celeryK8sRunLauncher: {
                    image: dagsterImage,
                    workerQueues: [{ name: CELERY_QUEUE, replicaCount: a.celeryWorkerReplicas }],
                    env: codeLocationEnv,
                    envSecrets,
                    volumes,
                    volumeMounts,
                    ...placement,
                },
            },
        },
        // The broker runs outside the chart (components/rabbitmq.ts); the chart only reads
        // its URL from the Secret named in global.celeryConfigSecretName.
        rabbitmq: { enabled: false },
        // The database runs outside the chart (components/postgresql.ts), so that it is up, backed
        // up and migrated before any Dagster pod of a new version starts. The chart only needs
        // its address and credentials, and the image for its `pg_isready` init containers.
        postgresql: {
            enabled: false,
            image: images.POSTGRESQL,
            postgresqlHost: a.postgresql.host,
            postgresqlUsername: POSTGRESQL_USER,
            postgresqlDatabase: POSTGRESQL_DATABASE,
            // Rendered as `scheme:` under `postgres_db` in dagster.yaml, for every pod.
            postgresqlScheme: POSTGRESQL_SCHEME,
            service: { port: POSTGRESQL_PORT },
        },
    };
}
