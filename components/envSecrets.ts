import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EnvSecretSettings } from "../config";

export interface EnvSecretsArgs {
    namespace: pulumi.Input<string>;
    secrets: EnvSecretSettings[];
}

/**
 * One Kubernetes Secret per `envSecrets` entry, from encrypted stack config. Each is
 * auto-named (`<name>-<suffix>`): a changed value makes a new Secret with a new name, which
 * changes the chart values, so code servers roll onto the new value without a manual restart.
 */
export class EnvSecrets extends pulumi.ComponentResource {
    /** The created Secrets' names, in configuration order. */
    public readonly names: pulumi.Output<string>[];

    constructor(name: string, args: EnvSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:EnvSecrets", name, {}, opts);
        const secrets = args.secrets.map((s) => new k8s.core.v1.Secret(s.name, {
            metadata: { namespace: args.namespace, labels: { "app.kubernetes.io/part-of": "imqcam-dagster" } },
            type: "Opaque",
            stringData: s.data,
        }, { parent: this }));
        this.names = secrets.map((s) => s.metadata.name);
        this.registerOutputs({ names: this.names });
    }
}
