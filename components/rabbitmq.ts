import * as pulumi from "@pulumi/pulumi";
import * as images from "./images";
import { singlePodServer } from "./singlePodServer";

/** AMQP, the port Celery's `pyamqp://` URLs use. */
export const AMQP_PORT = 5672;

export interface RabbitMqBrokerArgs {
    namespace: pulumi.Input<string>;
    /** Name of the StatefulSet and of the Service the broker URL points at. */
    name: string;
    username: string;
    /** Secret holding the password under `rabbitmq-password`. */
    credentialsSecretName: pulumi.Input<string>;
    /** The protected claim the broker keeps its queues on. */
    claimName: pulumi.Input<string>;
    nodeHostnames: readonly string[];
}

/**
 * The Celery broker, run by the program instead of the chart's Bitnami subchart: the chart's
 * worker init container writes the subchart's password into a URL from plain values, which
 * would put a secret in the Release (or, with the password only in a Secret, never connect);
 * and Bitnami's versioned images are withdrawn. This uses the official image, reads the
 * password from the Secret, and keeps its data on a claim the program protects.
 */
export class RabbitMqBroker extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;

    constructor(name: string, args: RabbitMqBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("imqcam-dagster:index:RabbitMqBroker", name, {}, opts);
        const probe = (command: string[], initialDelaySeconds: number, periodSeconds: number) => ({
            exec: { command: ["rabbitmq-diagnostics", "-q", ...command] },
            initialDelaySeconds, periodSeconds, timeoutSeconds: 20,
        });
        // A stable pod name is a stable RabbitMQ node name, which owns the data directory.
        const { service } = singlePodServer(name, {
            namespace: args.namespace, name: args.name, app: "rabbitmq",
            port: { name: "amqp", port: AMQP_PORT },
            claimName: args.claimName, nodeHostnames: args.nodeHostnames,
            container: {
                name: "rabbitmq",
                image: images.RABBITMQ,
                env: [
                    // Applied when the data directory is first created.
                    { name: "RABBITMQ_DEFAULT_USER", value: args.username },
                    { name: "RABBITMQ_DEFAULT_PASS", valueFrom: { secretKeyRef: {
                        name: args.credentialsSecretName, key: "rabbitmq-password" } } },
                ],
                volumeMounts: [{ name: "data", mountPath: "/var/lib/rabbitmq" }],
                readinessProbe: probe(["check_port_connectivity"], 10, 10),
                livenessProbe: probe(["status"], 60, 30),
                resources: { requests: { cpu: "100m", memory: "256Mi" } },
            },
        }, this);

        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
