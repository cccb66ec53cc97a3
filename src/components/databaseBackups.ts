import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { pinnedCronJob } from "./parts/pinnedCronJob";
import { ShareWriter } from "./parts/podSecurity";
import * as resources from "./parts/computeSizes";

/** Where on the IO volume backups go: the NFS share, beside (not inside) any run's outputs. */
export const BACKUP_FOLDER = "backups/postgresql";
/** Name prefix of scheduled backups; database/backup.sh prunes only files with its own prefix. */
export const SCHEDULED_BACKUP_NAME = "scheduled";

/** How the backup script (database/backup.sh) reaches the database and the share. */
export interface BackupTarget {
    /** database/backup.sh: runs in the PostgreSQL image, reads only the env built below. */
    script: string;
    /** The database's Service and the Secret with its password. */
    host: pulumi.Input<string>;
    user: string;
    database: string;
    credentialsSecretName: pulumi.Input<string>;
    /** The IO volume's claim and where pods mount it. */
    ioClaimName: pulumi.Input<string>;
    ioMountPath: string;
    nodeHostnames: readonly string[];
    /** The PostgreSQL image, by tag or pinned by digest (the `images` setting). */
    image: string;
    /** Who writes on the share (the `ioVolume.writer` setting, by default the user-code image's user). */
    ioWriter: ShareWriter;
}

/**
 * A pod template that runs one backup: `pg_dump` of the run history to the NFS share, checked,
 * renamed into place only when complete, older ones of the same name pruned. Shared by the
 * scheduled backups and the backup before each migration.
 */
export function backupContainer(t: BackupTarget, backupName: string, keep: number,
    schemaInName = false): k8s.types.input.core.v1.Container {
    return {
        name: "backup",
        image: t.image,
        command: ["sh", "-c", t.script],
        env: [
            { name: "PGHOST", value: t.host },
            { name: "POSTGRES_USER", value: t.user },
            { name: "POSTGRES_DB", value: t.database },
            { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: t.credentialsSecretName, key: "postgresql-password" } } },
            // The script refuses to write when the share is not mounted there.
            { name: "BACKUP_ROOT", value: t.ioMountPath },
            { name: "BACKUP_DIR", value: `${t.ioMountPath}/${BACKUP_FOLDER}` },
            { name: "BACKUP_NAME", value: backupName },
            { name: "BACKUP_KEEP", value: String(keep) },
            ...(schemaInName ? [{ name: "BACKUP_SCHEMA_IN_NAME", value: "true" }] : []),
        ],
        volumeMounts: [{ name: "io-data", mountPath: t.ioMountPath }],
        resources: resources.BACKUP,
    };
}

export function ioVolume(t: BackupTarget): k8s.types.input.core.v1.Volume {
    return { name: "io-data", persistentVolumeClaim: { claimName: t.ioClaimName } };
}

export interface DatabaseBackupsArgs {
    namespace: pulumi.Input<string>;
    /** The CronJob's name. */
    name: string;
    target: BackupTarget;
    /** Cron schedule (the cluster's time zone, UTC unless set) and how many backups to keep. */
    schedule: string;
    keep: number;
}

/** Scheduled backups of the run history to the NFS share, the oldest pruned. */
export class DatabaseBackups extends pulumi.ComponentResource {
    public readonly cronJobName: pulumi.Output<string>;

    constructor(name: string, args: DatabaseBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:DatabaseBackups", name, {}, opts);
        const cronJob = pinnedCronJob(name, {
            namespace: args.namespace, name: args.name, app: "postgresql-backup", schedule: args.schedule,
            container: backupContainer(args.target, SCHEDULED_BACKUP_NAME, args.keep),
            volumes: [ioVolume(args.target)], nodeHostnames: args.target.nodeHostnames, succeededKept: 3,
            shareWriter: args.target.ioWriter,
            // A missed one (node down) runs when it can within the day.
            startingDeadlineSeconds: 24 * 3600,
        }, this);

        this.cronJobName = cronJob.metadata.name;
        this.registerOutputs({ cronJobName: this.cronJobName });
    }
}
