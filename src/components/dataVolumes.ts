import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** A claim that keeps a stateful service's data (run history, broker queues). */
export interface DataVolumeSettings { storageClass?: string; size: string }

export interface DataClaim {
    /** The claim's name; it never changes, so a redeploy finds the same data. */
    name: string;
    settings: DataVolumeSettings;
}

export interface DataVolumesArgs {
    namespace: pulumi.Input<string>;
    postgresql: DataClaim;
    rabbitmq: DataClaim;
    /** Marks the claims as this stack instance's (src/components/stackInstance.ts). */
    annotations: Record<string, pulumi.Input<string>>;
}

/**
 * The claims behind PostgreSQL (run history) and RabbitMQ (broker queues). The program owns
 * them, rather than StatefulSet claim templates, so that they are protected: they outlive
 * `pulumi destroy --exclude-protected` and a Helm uninstall, and a change that would replace
 * them (a new storage class) fails instead of dropping data.
 */
export class DataVolumes extends pulumi.ComponentResource {
    public readonly postgresqlClaimName: pulumi.Output<string>;
    public readonly rabbitmqClaimName: pulumi.Output<string>;

    constructor(name: string, args: DataVolumesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:DataVolumes", name, {}, opts);
        const claim = (service: string, { name: claimName, settings }: DataClaim) =>
            new k8s.core.v1.PersistentVolumeClaim(`${name}-${service}`, {
                metadata: {
                    name: claimName,
                    namespace: args.namespace,
                    // Node-local classes bind only when the pod is scheduled, which happens after
                    // this claim is created: waiting here for Bound would deadlock.
                    annotations: { ...args.annotations, "pulumi.com/skipAwait": "true" },
                },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: settings.storageClass,
                    resources: { requests: { storage: settings.size } },
                },
            }, { parent: this, protect: true });

        this.postgresqlClaimName = claim("postgresql", args.postgresql).metadata.name;
        this.rabbitmqClaimName = claim("rabbitmq", args.rabbitmq).metadata.name;
        this.registerOutputs({ postgresqlClaimName: this.postgresqlClaimName, rabbitmqClaimName: this.rabbitmqClaimName });
    }
}
