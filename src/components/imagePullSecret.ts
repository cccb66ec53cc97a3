import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface ImagePullSecretArgs {
    namespace: pulumi.Input<string>;
    server: string;
    username: string;
    password: pulumi.Output<string>;
}

/**
 * Lets code servers and the run and step Jobs pull user-code images from a private registry,
 * with the same credentials the program pushes with.
 */
export class ImagePullSecret extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: ImagePullSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:ImagePullSecret", name, {}, opts);
        const dockerConfig = pulumi.secret(args.password.apply((password) => JSON.stringify({
            auths: {
                [args.server]: {
                    username: args.username,
                    password,
                    auth: Buffer.from(`${args.username}:${password}`).toString("base64"),
                },
            },
        })));
        const secret = new k8s.core.v1.Secret(name, {
            metadata: { namespace: args.namespace },
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": dockerConfig },
        }, { parent: this });
        this.name = secret.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
