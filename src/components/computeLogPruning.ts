import * as pulumi from "@pulumi/pulumi";
import * as resources from "./parts/computeSizes";
import { pinnedCronJob } from "./parts/pinnedCronJob";
import { ShareWriter } from "./parts/podSecurity";

/** Once a day, when nothing much else runs. */
export const PRUNE_SCHEDULE = "15 3 * * *";
/**
 * Deletes log files older than KEEP_DAYS, then the run folders left empty, with only what every
 * busybox `find` has (some builds lack -delete); `-mtime +N` means older than N whole days.
 */
export const PRUNE_SCRIPT = [
    "set -eu",
    '[ -d "$LOG_ROOT" ] || { echo "prune: $LOG_ROOT is not a directory: the IO volume is not mounted" >&2; exit 1; }',
    'mkdir -p "$LOG_DIR"',
    'find "$LOG_DIR" -type f -mtime +"$KEEP_DAYS" -print -exec rm -f {} +',
    // Depth first, one at a time: a run's folder is looked at once its step folders have gone.
    'find "$LOG_DIR" -mindepth 1 -depth -type d -empty -print -exec rmdir {} \\;',
].join("\n");

export interface ComputeLogPruningArgs {
    namespace: pulumi.Input<string>;
    /** The CronJob's name. */
    name: string;
    ioClaimName: pulumi.Input<string>;
    ioMountPath: string;
    /** The compute logs' folder as pods see it (under ioMountPath). */
    logDir: string;
    keepDays: number;
    nodeHostnames: readonly string[];
    /** busybox, by tag or pinned by digest (the `images` setting). */
    image: string;
    /** Who writes on the share (the `ioVolume.writer` setting, by default the user-code image's user). */
    ioWriter: ShareWriter;
}

/** Keeps the compute logs on the IO volume from growing for ever: older than keepDays, deleted. */
export class ComputeLogPruning extends pulumi.ComponentResource {
    public readonly cronJobName: pulumi.Output<string>;

    constructor(name: string, args: ComputeLogPruningArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:ComputeLogPruning", name, {}, opts);
        const cronJob = pinnedCronJob(name, {
            namespace: args.namespace, name: args.name, app: "compute-log-pruning", schedule: PRUNE_SCHEDULE,
            shareWriter: args.ioWriter,
            container: {
                name: "prune",
                image: args.image,
                command: ["sh", "-c", PRUNE_SCRIPT],
                env: [
                    { name: "LOG_ROOT", value: args.ioMountPath },
                    { name: "LOG_DIR", value: args.logDir },
                    { name: "KEEP_DAYS", value: String(args.keepDays) },
                ],
                volumeMounts: [{ name: "io-data", mountPath: args.ioMountPath }],
                resources: resources.LOG_PRUNING,
            },
            volumes: [{ name: "io-data", persistentVolumeClaim: { claimName: args.ioClaimName } }],
            nodeHostnames: args.nodeHostnames, succeededKept: 1,
        }, this);

        this.cronJobName = cronJob.metadata.name;
        this.registerOutputs({ cronJobName: this.cronJobName });
    }
}
