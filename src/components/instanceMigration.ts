import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupTarget, backupContainer, ioVolume } from "./databaseBackups";
import * as images from "./parts/images";
import * as resources from "./parts/computeSizes";
import { podPlacement } from "./parts/placement";
import { hardenedShareWriter, READ_ONLY_ROOT } from "./parts/podSecurity";
import { PASSWORD_ENV, storageInstanceYaml } from "../chart/instanceStorage";

/** A migration may rewrite every event log row of a large history: give it time. */
export const MIGRATION_TIMEOUT = "60m";
const INSTANCE_DIR = "/opt/dagster/instance";

/** The migration Jobs' `app.kubernetes.io/name`, and the start of each Job's name. */
export const MIGRATION_JOB_LABEL = "dagster-migrate";

/** `dagster-migrate-1-13-27`: one Job per Dagster version, so a new version runs a new one. */
export function migrationJobName(dagsterVersion: string): string {
    return `${MIGRATION_JOB_LABEL}-${dagsterVersion.replace(/\./g, "-")}`;
}

export interface InstanceMigrationArgs {
    namespace: pulumi.Input<string>;
    dagsterVersion: string;
    /** The Dagster image's digest at that version, when the `images` setting pins it. */
    dagsterDigest?: string;
    /** The database, the share its backup goes to, and where the pods run. */
    target: BackupTarget;
    /** Name of the ConfigMap holding the storage-only dagster.yaml. */
    instanceConfigMapName: string;
    /** What must be ready first: the database (a child's dependsOn is not its parent's). */
    waitFor: pulumi.Resource[];
}

/**
 * `dagster instance migrate` for the stack's Dagster version, run once per version before the
 * release moves to it, after a fresh backup to the NFS share. Dagster does not migrate its
 * storage by itself, and a newer Dagster reads an old schema without complaint while leaving it
 * old. The Job uses the same Dagster image as the webserver and daemon. Pulumi waits for it: if
 * the backup or the migration fails, `pulumi up` stops with the Job's error, and the release,
 * which depends on it, is not upgraded, so no pod runs the new version.
 */
export class InstanceMigration extends pulumi.ComponentResource {
    public readonly jobName: pulumi.Output<string>;

    constructor(name: string, args: InstanceMigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:InstanceMigration", name, {}, opts);
        const { target } = args;
        const labels = { "app.kubernetes.io/name": MIGRATION_JOB_LABEL };

        const instance = new k8s.core.v1.ConfigMap(`${name}-instance`, {
            metadata: { name: args.instanceConfigMapName, namespace: args.namespace, labels },
            data: { "dagster.yaml": pulumi.output(target.host).apply(storageInstanceYaml) },
        }, { parent: this });

        const job = new k8s.batch.v1.Job(name, {
            metadata: {
                name: migrationJobName(args.dagsterVersion), namespace: args.namespace,
                labels: { ...labels, "app.kubernetes.io/version": args.dagsterVersion },
            },
            spec: {
                // A failed migration is not retried: it is a decision for a person, with the backup at hand.
                backoffLimit: 0,
                template: {
                    metadata: { labels },
                    spec: {
                        ...podPlacement(target.nodeHostnames),
                        ...hardenedShareWriter(target.ioWriter),
                        restartPolicy: "Never",
                        // The backup finishes first; the migration never starts without one. One kept
                        // per schema revision it starts from: a second run (after a restore) keeps the first.
                        initContainers: [{ ...backupContainer(target, `before-dagster-${args.dagsterVersion}`, 1, true),
                            securityContext: READ_ONLY_ROOT }],
                        containers: [{
                            name: "migrate",
                            securityContext: READ_ONLY_ROOT,
                            image: images.dagsterImage(args.dagsterVersion, args.dagsterDigest),
                            command: ["dagster", "instance", "migrate"],
                            resources: resources.MIGRATION,
                            env: [
                                { name: "DAGSTER_HOME", value: INSTANCE_DIR },
                                { name: PASSWORD_ENV, valueFrom: { secretKeyRef: {
                                    name: target.credentialsSecretName, key: "postgresql-password" } } },
                            ],
                            // DAGSTER_HOME itself writable (Dagster may create folders there), the
                            // instance file in it read-only, as the chart mounts it.
                            volumeMounts: [
                                { name: "dagster-home", mountPath: INSTANCE_DIR },
                                { name: "instance", mountPath: `${INSTANCE_DIR}/dagster.yaml`, subPath: "dagster.yaml" },
                            ],
                        }],
                        volumes: [
                            ioVolume(target),
                            { name: "dagster-home", emptyDir: {} },
                            { name: "instance", configMap: { name: instance.metadata.name } },
                        ],
                    },
                },
            },
        }, {
            parent: this,
            dependsOn: [instance, ...args.waitFor],
            customTimeouts: { create: MIGRATION_TIMEOUT, update: MIGRATION_TIMEOUT },
        });

        this.jobName = job.metadata.name;
        this.registerOutputs({ jobName: this.jobName });
    }
}
