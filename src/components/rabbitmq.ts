import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ADVANCED_CONFIG_KEY, ADVANCED_CONFIG_PATH, advancedConfig, BrokerSettings, configHash } from "../chart/brokerConfig";
import * as resources from "./parts/computeSizes";
import { SERVER_USER } from "./parts/podSecurity";
import { RABBITMQ_PASSWORD_HOOK, serverAnnotation } from "./parts/passwordRotation";
import { singlePodServer } from "./parts/singlePodServer";

/** AMQP, the port Celery's `pyamqp://` URLs use. */
export const AMQP_PORT = 5672;
/** On the broker's pod template: the hash of its configuration file, so a change rolls the pod. */
export const CONFIG_HASH_ANNOTATION = "imqcam-dagster/broker-config-sha256";

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
    /** The image, by tag or pinned by digest (the `images` setting). */
    image: string;
    /** The broker's settings (src/chart/brokerConfig.ts); by default no consumer timeout. */
    config?: BrokerSettings;
    /** `passwordRotation.rabbitmq`: a new one restarts the broker, which then sets the new password. */
    rotation?: string;
}

/**
 * The Celery broker, run by the program instead of the chart's Bitnami subchart: the chart's
 * worker init container writes the subchart's password into a URL from plain values, which
 * would put a secret in the Release (or, with the password only in a Secret, never connect);
 * and Bitnami's versioned images are withdrawn. This uses the official image, reads the
 * password from the Secret, and keeps its data on a claim the program protects. Its configuration
 * file, advanced.config, comes from a ConfigMap (see src/chart/brokerConfig.ts for why).
 */
export class RabbitMqBroker extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;

    constructor(name: string, args: RabbitMqBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
        const config = advancedConfig(args.config);
        // Not `<name>-config`: the chart's Bitnami broker had a ConfigMap of that name.
        const configMapName = `${args.name}-advanced-config`;
        super("imqcam-dagster:index:RabbitMqBroker", name, {}, opts);
        new k8s.core.v1.ConfigMap(`${name}-config`, {
            metadata: { name: configMapName, namespace: args.namespace, labels: { "app.kubernetes.io/name": "rabbitmq" } },
            data: { [ADVANCED_CONFIG_KEY]: config },
        }, { parent: this });
        const probe = (command: string[], initialDelaySeconds: number, periodSeconds: number) => ({
            exec: { command: ["rabbitmq-diagnostics", "-q", ...command] },
            initialDelaySeconds, periodSeconds, timeoutSeconds: 20,
        });
        // A stable pod name is a stable RabbitMQ node name, which owns the data directory.
        const { service } = singlePodServer(name, {
            namespace: args.namespace, name: args.name, app: "rabbitmq",
            port: { name: "amqp", port: AMQP_PORT },
            claimName: args.claimName, nodeHostnames: args.nodeHostnames, user: SERVER_USER,
            // Erlang's and the CLI tools' temporary files, and the log folder.
            scratch: { "tmp": "/tmp", "log": "/var/log/rabbitmq" },
            volumes: [{ name: "config", configMap: { name: configMapName } }],
            podAnnotations: { [CONFIG_HASH_ANNOTATION]: configHash(config), ...serverAnnotation(args.rotation) },
            container: {
                name: "rabbitmq",
                image: args.image,
                env: [
                    // Applied when the data directory is first created.
                    { name: "RABBITMQ_DEFAULT_USER", value: args.username },
                    { name: "RABBITMQ_DEFAULT_PASS", valueFrom: { secretKeyRef: {
                        name: args.credentialsSecretName, key: "rabbitmq-password" } } },
                    // The image's default, stated so that the mount below stays where it is read.
                    { name: "RABBITMQ_ADVANCED_CONFIG_FILE", value: ADVANCED_CONFIG_PATH },
                ],
                volumeMounts: [
                    { name: "data", mountPath: "/var/lib/rabbitmq" },
                    { name: "config", mountPath: ADVANCED_CONFIG_PATH, subPath: ADVANCED_CONFIG_KEY, readOnly: true },
                ],
                // The user's password from the Secret at every start: the image sets it only once.
                lifecycle: RABBITMQ_PASSWORD_HOOK,
                readinessProbe: probe(["check_port_connectivity"], 10, 10),
                livenessProbe: probe(["status"], 60, 30),
                resources: resources.RABBITMQ,
            },
        }, this);

        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName });
    }
}

