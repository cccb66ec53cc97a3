import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHART_REPOSITORY } from "../chart/source";
import { buildReleaseValues, ReleaseValuesArgs } from "../chart/values";

/** Where the Dagster Helm chart comes from: its repository, or a chart file or folder of this machine. */
export type ChartSource = { kind: "repository" } | { kind: "local"; path: string; kubeVersion?: string };
/** Long enough for first pulls of the Dagster, PostgreSQL and RabbitMQ images on a slow link. */
export const RELEASE_TIMEOUT_SECONDS = 900;
/** Helm keeps this many revisions to roll back to; older ones are pruned. */
export const RELEASE_MAX_HISTORY = 10;

export interface DagsterReleaseArgs {
    namespace: pulumi.Input<string>;
    releaseName: string;
    /** Chart version, equal to the Dagster version of workers and user code. */
    dagsterVersion: string;
    /** The chart repository, or a local chart of that version (checked by src/settings/load.ts). */
    chart: ChartSource;
    /** The values builder's inputs, once the Secret names and image digests are known. */
    values: pulumi.Input<ReleaseValuesArgs>;
    /**
     * What the values name only as plain strings (Secrets, claims): they must exist before
     * Helm starts pods that mount them.
     */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The Dagster Helm release with the CeleryK8sRunLauncher; a failed upgrade rolls back. */
export class DagsterRelease extends pulumi.ComponentResource {
    public readonly releaseName: pulumi.Output<string>;
    public readonly chartVersion: pulumi.Output<string>;
    public readonly webserverService: string;
    public readonly values: pulumi.Output<Record<string, unknown>>;

    constructor(name: string, args: DagsterReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:DagsterRelease", name, {}, opts);
        this.values = pulumi.output(args.values).apply((v) => buildReleaseValues(v as ReleaseValuesArgs));

        const release = new k8s.helm.v3.Release(name, {
            name: args.releaseName,
            ...(args.chart.kind === "local"
                ? { chart: args.chart.path }
                : { chart: "dagster", version: args.dagsterVersion, repositoryOpts: { repo: CHART_REPOSITORY } }),
            namespace: args.namespace,
            values: this.values,
            // A failed install or upgrade is rolled back (and its new objects removed), so the
            // cluster is left on the last release that worked.
            atomic: true,
            cleanupOnFail: true,
            timeout: RELEASE_TIMEOUT_SECONDS,
            maxHistory: RELEASE_MAX_HISTORY,
        }, { parent: this, dependsOn: args.dependsOn });

        this.releaseName = release.status.name;
        this.chartVersion = release.status.version;
        this.webserverService = `${args.releaseName}-dagster-webserver`;
        this.registerOutputs({
            releaseName: this.releaseName,
            chartVersion: this.chartVersion,
            webserverService: this.webserverService,
        });
    }
}
