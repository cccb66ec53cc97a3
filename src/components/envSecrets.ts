import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** One Kubernetes Secret of environment variables; only `data` holds secret values. */
export interface EnvSecretSettings {
    name: string;
    keys: string[];
    data: pulumi.Output<Record<string, string>>;
}

export interface EnvSecretsArgs {
    namespace: pulumi.Input<string>;
    /** Put before each entry's name: the manual deployment's Secrets keep theirs until deleted. */
    namePrefix: string;
    secrets: EnvSecretSettings[];
}

/**
 * One Kubernetes Secret per `envSecrets` entry, from encrypted stack config, under a fixed name,
 * so the chart values and Dagster's instance (the run launcher's env_secrets) never change when a
 * value does. A changed value replaces the Secret (its data is replace-only), which gives it a
 * new uid; the code servers, which read the values at start, carry the uids in a pod annotation
 * and roll, while the webserver, daemon and Celery workers stay up. Run and step pods launched
 * afterwards read the new value.
 */
export class EnvSecrets extends pulumi.ComponentResource {
    /** The Secrets' names, in configuration order. */
    public readonly names: pulumi.Output<string>[];
    /** Changes whenever any value does, and says nothing about the values: the Secrets' uids. */
    public readonly version: pulumi.Output<string>;

    constructor(name: string, args: EnvSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:EnvSecrets", name, {}, opts);
        const secrets = args.secrets.map((s) => new k8s.core.v1.Secret(s.name, {
            metadata: {
                name: `${args.namePrefix}-${s.name}`, namespace: args.namespace,
                labels: { "app.kubernetes.io/part-of": "imqcam-dagster" },
            },
            type: "Opaque",
            stringData: s.data,
        }, { parent: this }));
        this.names = secrets.map((s) => s.metadata.name);
        this.version = pulumi.all(secrets.map((s) => s.metadata.uid)).apply((uids) => uids.join(","));
        this.registerOutputs({ names: this.names, version: this.version });
    }
}
