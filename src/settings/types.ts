// The project's settings as the program uses them, and their defaults. The components own the
// shapes of their parts (an IO volume, a code location, ...); this composes them into one object.
import { ChartSource } from "../components/dagsterRelease";
import { DataVolumeSettings } from "../components/dataVolumes";
import { EnvSecretSettings } from "../components/envSecrets";
import { IoVolumeSettings } from "../components/ioVolume";
import { ComputeResources } from "../components/parts/computeSizes";
import { ThirdPartyImages } from "../components/parts/images";
import { NetworkAccessSettings } from "../components/parts/networkAccess";
import { CodeLocationSettings, RegistrySettings } from "../components/userCodeImage";

export const PROJECT = "imqcam-dagster";

/** A label per generated password; setting a new one rotates that password. Unset: never rotated. */
export interface PasswordRotation {
    postgresql?: string;
    rabbitmq?: string;
}

/** Scheduled `pg_dump`s of the run history to the NFS share. */
export interface BackupSettings {
    /** Cron schedule, in the cluster's time zone (UTC unless the cluster says otherwise). */
    schedule: string;
    /** How many scheduled backups to keep; older ones are deleted. */
    keep: number;
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
